"""The API's routes: each reads its request, calls the library once, and writes the answer."""

from __future__ import annotations

import asyncio
import json
import math
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from api.errors import BadRequest, BodyTimeout
from api.limits import MAX_KEYS, MAX_QUERY_CHARS, MAX_RESULTS, MAX_TERMS
from core.export import to_bibtex
from core.fusion import MAX_SIMILARITY_WAIT, SENTENCE_WAIT
from core.library import Library
from core.records import without_surrogates
from core.tokens import READ, WRITE, Token
from core.wire import hit_to_json, paper_from_json, paper_to_json, report_to_json

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LIBRARY: web.AppKey[Library] = web.AppKey("library", Library)
MAX_BODY: web.AppKey[int] = web.AppKey("max_body", int)
BODY_IDLE: web.AppKey[float] = web.AppKey("body_idle", float)
TOKEN: web.RequestKey[Token] = web.RequestKey("token", Token)  # set by the access middleware
_UNSAFE = re.compile(r"[^\w.+-]")
# Larger weights overflow a score to infinity, which JSON cannot carry.
MAX_WEIGHT = 1e6


def scope(needed: str) -> Callable[[Handler], Handler]:
    """Marks the scope a route needs; the access middleware checks it."""

    def mark(handler: Handler) -> Handler:
        handler.scope = needed  # type: ignore[attr-defined]
        return handler

    return mark


# --- reading requests ---------------------------------------------------------------------------


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    """The body as it arrives, up to the server's limit; one that stops arriving is given up."""
    size, limit, idle = 0, request.app[MAX_BODY], request.app[BODY_IDLE]
    while True:
        try:
            chunk = await asyncio.wait_for(request.content.readany(), idle)
        except asyncio.TimeoutError:
            raise BodyTimeout(f"the body stopped arriving for {idle:g} s; send it again") from None
        if not chunk:
            return
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        yield chunk


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        # JSON is UTF-8 whatever charset the Content-Type names (RFC 8259).
        raw = b"".join([chunk async for chunk in _body(request)])
        body = json.loads(raw)
        if b"\\u" in raw:
            body = without_surrogates(body)
    except ValueError as error:
        raise BadRequest(f"the body must be JSON: {error}") from None
    except RecursionError:
        raise BadRequest("the body must be JSON nested less deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{name!r} must be a whole number from {low} to {high}")
    return value


def _optional_whole(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    return None if value is None else _whole(value, name, -100_000, 100_000)


def _keys(body: dict[str, Any]) -> list[str]:
    keys = body.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise BadRequest("'keys' must be a list of keys")
    if len(keys) > MAX_KEYS:
        raise BadRequest(f"at most {MAX_KEYS} keys per request")
    return keys


def _query(body: dict[str, Any]) -> str | dict[str, float]:
    if "terms" in body:
        terms = body["terms"]
        if not isinstance(terms, dict) or not all(
            isinstance(t, str)
            and isinstance(w, (int, float))
            and not isinstance(w, bool)
            and math.isfinite(w)
            and abs(w) <= MAX_WEIGHT
            for t, w in terms.items()
        ):
            raise BadRequest(f"'terms' must map words to weights from -{MAX_WEIGHT:g} to {MAX_WEIGHT:g}")
        if len(terms) > MAX_TERMS:
            raise BadRequest(f"at most {MAX_TERMS} terms per search")
        return {term: float(weight) for term, weight in terms.items()}
    query = body.get("query")
    if not isinstance(query, str):
        raise BadRequest("a search needs 'query' (text) or 'terms' (words to weights)")
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"'query' may hold at most {MAX_QUERY_CHARS} characters")
    return query


def _library(request: web.Request) -> Library:
    return request.app[LIBRARY]


# --- routes -------------------------------------------------------------------------------------


@scope(READ)
async def search(request: web.Request) -> web.Response:
    body = await _json_object(request)
    query = _query(body)
    k = _whole(body.get("k", 10), "k", 1, MAX_RESULTS)
    author = body.get("author")
    if author is not None and not isinstance(author, str):
        raise BadRequest("'author' must be text")
    exclude = _keys({"keys": body.get("exclude", [])})
    meaning = body.get("meaning")
    if meaning is not None and not isinstance(meaning, str):
        raise BadRequest("'meaning' must be text")
    if meaning is not None and len(meaning) > MAX_QUERY_CHARS:
        raise BadRequest(f"'meaning' may hold at most {MAX_QUERY_CHARS} characters")
    semantic = body.get("semantic")
    if semantic is not None and not isinstance(semantic, bool):
        raise BadRequest("'semantic' must be true or false")
    library = _library(request)
    hits = await library.search(
        query,
        k,
        year_from=_optional_whole(body, "year_from"),
        year_to=_optional_whole(body, "year_to"),
        author=author,
        exclude=exclude,
        meaning=meaning,
        semantic=semantic,
    )
    answer: dict[str, Any] = {"hits": [hit_to_json(hit) for hit in hits]}
    if body.get("statistics") and isinstance(query, dict):
        documents, frequencies = library.word_statistics(query)
        answer["statistics"] = {"documents": documents, "doc_freq": frequencies}
    return web.json_response(answer)


@scope(READ)
async def similarities(request: web.Request) -> web.Response:
    """Cosine of a citing text's sentence vector with each key's (keys without one left out), so an
    editor over this server fuses its own candidates (its document's entries among them); null when
    the server does not fuse, or the vector is not ready within `wait` seconds."""
    body = await _json_object(request)
    text = body.get("text")
    if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"'text' must be text of at most {MAX_QUERY_CHARS} characters")
    wait = body.get("wait", SENTENCE_WAIT)
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= MAX_SIMILARITY_WAIT:
        raise BadRequest(f"'wait' must be a number of seconds from 0 to {MAX_SIMILARITY_WAIT}")
    found = await _library(request).similarities(text, _keys(body), float(wait))
    return web.json_response({"similarities": found})


@scope(READ)
async def paper(request: web.Request) -> web.Response:
    found = await _library(request).get(request.match_info["key"])
    return web.json_response({"paper": paper_to_json(found)})


@scope(READ)
async def bibtex(request: web.Request) -> web.Response:
    found = await _library(request).get(request.match_info["key"])
    return web.Response(text=to_bibtex(found), content_type="application/x-bibtex")


@scope(READ)
async def lookup(request: web.Request) -> web.Response:
    found = await _library(request).get_many(_keys(await _json_object(request)))
    return web.json_response({"papers": {key: paper_to_json(p) for key, p in found.items()}})


@scope(READ)
async def match(request: web.Request) -> web.Response:
    """The keys under which the index holds papers like these (same DOI, arXiv id, or title and
    first author), null where it holds none."""
    raw = (await _json_object(request)).get("papers")
    if not isinstance(raw, list) or len(raw) > MAX_KEYS:
        raise BadRequest(f"'papers' must be a list of at most {MAX_KEYS} papers")
    library = _library(request)
    return web.json_response({"keys": [await library.key_of(paper_from_json(item)) for item in raw]})


@scope(READ)
async def keys_with_prefix(request: web.Request) -> web.Response:
    prefix = request.query.get("prefix", "")
    try:
        limit = int(request.query.get("limit", str(MAX_RESULTS)))
    except ValueError:
        raise BadRequest("'limit' must be a whole number") from None
    limit = MAX_KEYS if limit < 0 else min(limit, MAX_KEYS)
    keys = await _library(request).keys_with_prefix(prefix, limit)
    return web.json_response({"keys": sorted(keys)})


@scope(READ)
async def keys_near(request: web.Request) -> web.Response:
    key = request.query.get("key")
    if not key:
        raise BadRequest("'key' is missing")
    return web.json_response({"keys": await _library(request).keys_near(key)})


@scope(READ)
async def stats(request: web.Request) -> web.Response:
    answer = await _library(request).stats()
    answer.pop("home", None)  # the server's own folder is none of the client's business
    return web.json_response(answer)


@scope(READ)
async def changes(request: web.Request) -> web.Response:
    return web.json_response({"change": await _library(request).change_marker()})


@scope(WRITE)
async def ingest(request: web.Request) -> web.Response:
    """The body is one file, in any format `papercite ingest` reads; `name` is how reports call it."""
    name = request.query.get("name", "upload")[:300]
    with tempfile.TemporaryDirectory(prefix="papercite-upload-") as folder:
        safe = _UNSAFE.sub("_", Path(name).name)[:100]
        path = Path(folder) / (safe if safe.strip(".") else "upload")
        # Streamed to disk, so the body-size limit is counted as it comes rather than by aiohttp.
        with path.open("wb") as file:
            async for chunk in _body(request):
                file.write(chunk)
        report = await _library(request).ingest([path], shown_as={path: name})
    return web.json_response(report_to_json(report))


@scope(WRITE)
async def add_papers(request: web.Request) -> web.Response:
    raw = (await _json_object(request)).get("papers")
    if not isinstance(raw, list) or not raw:
        raise BadRequest("'papers' must be a non-empty list of papers")
    if len(raw) > MAX_KEYS:
        raise BadRequest(f"at most {MAX_KEYS} papers per request; upload a file to /v1/ingest for more")
    who = f"api:{request[TOKEN].name}"
    papers = []
    for item in raw:
        paper = paper_from_json(item)
        papers.append(paper.replace(origin=paper.origin or who, format=paper.format or "json"))
    return web.json_response(report_to_json(await _library(request).add_papers(papers)))


@scope(WRITE)
async def remove(request: web.Request) -> web.Response:
    removed = await _library(request).remove(_keys(await _json_object(request)))
    return web.json_response({"removed": removed})


@scope(WRITE)
async def reindex(request: web.Request) -> web.Response:
    return web.json_response({"papers": await _library(request).reindex()})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/v1/search", search),
        web.post("/v1/similarities", similarities),
        web.post("/v1/papers/lookup", lookup),
        web.post("/v1/papers/match", match),
        web.post("/v1/papers/remove", remove),
        web.post("/v1/papers", add_papers),
        web.get("/v1/papers/{key}/bibtex", bibtex),
        web.get("/v1/papers/{key}", paper),
        web.get("/v1/keys/near", keys_near),
        web.get("/v1/keys", keys_with_prefix),
        web.get("/v1/stats", stats),
        web.get("/v1/changes", changes),
        web.post("/v1/ingest", ingest),
        web.post("/v1/reindex", reindex),
    ]
