"""Local stand-ins for Crossref, the arXiv API and OAI-PMH, and OpenAlex, on loopback.

Each answers in its service's real format (shapes taken from the services' documentation and
public examples):
- Crossref `GET /works/{doi}`: `{"status": "ok", "message-type": "work", "message": {…}}`, the
  abstract as JATS XML; an unknown DOI is a 404 with the text `Resource not found.`;
- arXiv `GET /api/query?id_list=…`: an Atom feed with `arxiv:` elements; an id arXiv cannot read
  is an entry titled `Error` with status 200, an unknown one an empty feed;
- arXiv OAI-PMH `GET /oai?verb=ListRecords&metadataPrefix=arXiv[&set&from&until]` or
  `&resumptionToken=…`: pages of `<record>`s in the `arXiv` format, a `resumptionToken` after
  each but the last (empty there), `noRecordsMatch` and `badResumptionToken` errors;
- OpenAlex `GET /works/W…` and `/works/doi:…` (singletons), `GET /works?filter=…&cursor=*`
  (cursor paging, `meta.next_cursor` null at the end), abstracts as `abstract_inverted_index`.

Faults are queued per service with `fail_next("crossref", Status(503, retry_after=1), …)`: a
status with `Retry-After`, a delay (for timeouts), a truncated or a malformed body. Every request
is recorded in `requests`. Start one with `with FakeSources() as fake:` and point the client at it
with `fake.env()` (the `PAPERCITE_*_URL` variables).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_OAI_NS = "http://arxiv.org/OAI/arXiv/"


# --- faults -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """Answer with this status (and `Retry-After`, when given) instead of the real answer."""

    code: int
    retry_after: str | None = None
    body: str = ""


@dataclass(frozen=True)
class Delay:
    """Wait this long before the real answer (longer than the client's timeout: a timeout)."""

    seconds: float


@dataclass(frozen=True)
class Truncated:
    """The real answer cut after this fraction of its bytes (a connection that dropped)."""

    fraction: float = 0.5


@dataclass(frozen=True)
class Malformed:
    """A 200 whose body is not the format at all (a proxy's error page, say)."""

    body: str = "<html><body>Bad gateway</body></html>"


@dataclass(frozen=True)
class Huge:
    """A 200 that streams this many bytes of a well-formed start and never finishes the document
    (no Content-Length when `declared` is false)."""

    size: int
    declared: bool = False


Fault = Status | Delay | Truncated | Malformed | Huge


@dataclass
class Request:
    service: str
    path: str
    query: dict[str, str]
    user_agent: str
    at: float  # time.time() on arrival


# --- records in each service's shape ------------------------------------------------------------


def crossref_message(
    doi: str,
    title: str,
    authors: list[tuple[str, str]],
    year: int,
    *,
    abstract_jats: str = "",
    container: str = "",
    kind: str = "proceedings-article",
    pages: str = "",
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "indexed": {"date-parts": [[2024, 3, 1]], "date-time": "2024-03-01T00:00:00Z", "timestamp": 0},
        "publisher": "ACM",
        "content-domain": {"domain": ["dl.acm.org"], "crossmark-restriction": True},
        "short-container-title": [],
        "published-print": {"date-parts": [[year, 7, 11]]},
        "DOI": doi,
        "type": kind,
        "created": {"date-parts": [[year, 7, 7]], "date-time": f"{year}-07-07T00:00:00Z", "timestamp": 0},
        "page": pages,
        "source": "Crossref",
        "is-referenced-by-count": 42,
        "title": [title],
        "prefix": doi.split("/", 1)[0],
        "author": [
            {
                "given": given,
                "family": family,
                "sequence": "first" if i == 0 else "additional",
                "affiliation": [],
            }
            for i, (given, family) in enumerate(authors)
        ],
        "member": "320",
        "container-title": [container] if container else [],
        "link": [],
        "deposited": {"date-parts": [[year, 7, 8]], "date-time": f"{year}-07-08T00:00:00Z", "timestamp": 0},
        "score": 1,
        "issued": {"date-parts": [[year, 7, 11]]},
        "references-count": 30,
        "URL": f"http://dx.doi.org/{doi}",
        "published": {"date-parts": [[year, 7, 11]]},
    }
    if abstract_jats:
        message["abstract"] = abstract_jats
    return message


@dataclass
class ArxivEntry:
    arxiv_id: str  # without version
    title: str
    summary: str
    authors: list[str]
    published: str  # 2024-04-18T05:26:14Z
    primary_category: str = "cs.CL"
    categories: list[str] = field(default_factory=lambda: ["cs.CL"])
    doi: str = ""
    journal_ref: str = ""
    version: int = 1


def openalex_work(
    work_id: str,
    title: str,
    abstract: str,
    authors: list[str],
    year: int,
    *,
    doi: str = "",
    landing_page_url: str = "",
    venue: str = "",
    kind: str = "article",
) -> dict[str, Any]:
    inverted: dict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(abstract.split()):
        inverted[word].append(position)
    return {
        "id": f"https://openalex.org/{work_id}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": title,
        "display_name": title,
        "publication_year": year,
        "publication_date": f"{year}-01-01",
        "ids": {
            "openalex": f"https://openalex.org/{work_id}",
            **({"doi": f"https://doi.org/{doi}"} if doi else {}),
        },
        "language": "en",
        "primary_location": {
            "is_oa": True,
            "landing_page_url": landing_page_url or (f"https://doi.org/{doi}" if doi else None),
            "source": {"id": "https://openalex.org/S1", "display_name": venue} if venue else None,
        },
        "locations": [{"landing_page_url": landing_page_url, "pdf_url": None}] if landing_page_url else [],
        "type": kind,
        "authorships": [
            {
                "author_position": "first" if i == 0 else "middle",
                "author": {"id": f"https://openalex.org/A{i + 1}", "display_name": name, "orcid": None},
                "institutions": [],
                "raw_author_name": name,
            }
            for i, name in enumerate(authors)
        ],
        "keywords": [],
        "cited_by_count": 3,
        "abstract_inverted_index": dict(inverted) if abstract else None,
    }


@dataclass
class OaiRecord:
    arxiv_id: str
    datestamp: str  # YYYY-MM-DD
    set_spec: str
    title: str
    abstract: str
    authors: list[tuple[str, str]]  # (keyname, forenames)
    categories: str
    created: str
    deleted: bool = False


def _letters(number: int) -> str:
    """0 → "", 1 → "a", 27 → "ab": a distinct tail for each number."""
    letters = ""
    while number:
        number, digit = divmod(number - 1, 26)
        letters = chr(ord("a") + digit) + letters
    return letters


def synthetic_oai_records(count: int, *, start: str = "2024-01-01", per_day: int = 500) -> list[OaiRecord]:
    """`count` distinct records in set `cs`, `per_day` per datestamp, categories cycling cs.CL/cs.LG/cs.IR."""
    import datetime

    day0 = datetime.date.fromisoformat(start)
    # Varied names and title words, so cite keys differ as a real set's do (not aaa…zzz suffixes).
    names = [
        "Tester",
        "Lovelace",
        "Hopper",
        "Turing",
        "Noether",
        "Gauss",
        "Euler",
        "Curie",
        "Shannon",
        "Knuth",
    ]
    words = ["Synthetic", "Resumable", "Harvested", "Incremental", "Streaming", "Sparse", "Dense", "Robust"]
    records = []
    for i in range(count):
        day = day0 + datetime.timedelta(days=i // per_day)
        category = ("cs.CL", "cs.LG", "cs.IR")[i % 3]
        records.append(
            OaiRecord(
                arxiv_id=f"{day:%y%m}.{10000 + i:05d}",
                datestamp=day.isoformat(),
                set_spec="cs",
                title=f"{words[i % 8]} study number {i} of harvesting",
                abstract=f"We describe synthetic experiment {i} about resumable harvesting of {category} metadata.",
                authors=[(f"{names[i % 10]}{_letters(i // 10)}", f"Ada {i}"), ("Harvester", "Bob")],
                categories=f"{category} cs.AI",
                created=day.isoformat(),
            )
        )
    return records


def synthetic_openalex_works(count: int, *, year: int = 2023) -> dict[str, dict[str, Any]]:
    """`count` works of one year; every seventh has no abstract (OpenAlex lacks many)."""
    works = {}
    for i in range(count):
        work_id = f"W4{i:09d}"
        abstract = (
            "" if i % 7 == 3 else f"Synthetic OpenAlex work {i} on cursor paging and resumable harvests."
        )
        works[work_id] = openalex_work(
            work_id, f"OpenAlex synthetic work {i}", abstract, [f"Author {i}"], year, doi=f"10.5555/oa.{i}"
        )
    return works


def sample_data() -> tuple[dict[str, dict[str, Any]], dict[str, ArxivEntry], dict[str, dict[str, Any]]]:
    """(Crossref messages by DOI, arXiv entries by id, OpenAlex works by W id): the papers the
    tests add, one abstract-less Crossref record with an OpenAlex abstract, one with none at all."""
    crossref = {
        "10.1145/3404835.3463238": crossref_message(
            "10.1145/3404835.3463238",
            "Pyserini: A Python Toolkit for Reproducible Information Retrieval Research with Sparse and Dense Representations",
            [("Jimmy", "Lin"), ("Xueguang", "Ma"), ("Sheng-Chieh", "Lin")],
            2021,
            abstract_jats=(
                "<jats:title>Abstract</jats:title><jats:p>A toolkit for <jats:italic>reproducible</jats:italic> "
                "retrieval research with sparse and dense representations &amp; first-stage ranking.</jats:p>"
                "<jats:p>It offers prebuilt indexes for standard test collections.</jats:p>"
            ),
            container="Proceedings of the 44th International ACM SIGIR Conference",
            pages="2356-2362",
        ),
        "10.1000/no-abstract": crossref_message(
            "10.1000/no-abstract", "A Paper Whose Abstract Lives in OpenAlex", [("Ann", "Other")], 2020
        ),
        "10.1000/nowhere": crossref_message(
            "10.1000/nowhere", "A Paper Without Any Abstract", [("Nobody", "Atall")], 2019
        ),
    }
    arxiv = {
        "2404.11912": ArxivEntry(
            "2404.11912",
            "TriForce: Lossless Acceleration of Long Sequence Generation with\n  Hierarchical Speculative Decoding",
            "  With large language models deployed in long content generation, a hierarchical\n"
            "speculative decoding system with a retrieval-based draft over a sparse KV cache.\n",
            ["Hanshi Sun", "Zhuoming Chen", "Xinyu Yang", "Yuandong Tian", "Beidi Chen"],
            "2024-04-18T05:26:14Z",
            version=3,
        ),
        "hep-th/9901001": ArxivEntry(
            "hep-th/9901001",
            "An Old-Style Identifier Paper",
            "An abstract about strings with $\\alpha$ terms.",
            ["A. Physicist"],
            "1999-01-04T00:00:00Z",
            primary_category="hep-th",
            categories=["hep-th"],
            doi="10.1000/old.style",
            journal_ref="Phys. Lett. B 1 (1999)",
        ),
    }
    openalex = {
        "W3000000001": openalex_work(
            "W3000000001",
            "A Paper Whose Abstract Lives in OpenAlex",
            "Only OpenAlex has this abstract, rebuilt from its inverted index of words.",
            ["Ann Other"],
            2020,
            doi="10.1000/no-abstract",
        ),
        "W3000000002": openalex_work(
            "W3000000002",
            "Attention Over Links: An OpenAlex-Only Work",
            "A work known by its OpenAlex id, with a preprint on arXiv and an abstract in OpenAlex.",
            ["Grace Hopper", "Alan Turing"],
            2023,
            landing_page_url="https://arxiv.org/abs/2301.00001",
            venue="arXiv (Cornell University)",
            kind="preprint",
        ),
    }
    return crossref, arxiv, openalex


# --- the server ---------------------------------------------------------------------------------


@dataclass
class FakeSources:
    """Runs on its own thread and event loop, so it outlives each test's loop and serves
    subprocesses too."""

    crossref: dict[str, dict[str, Any]] = field(default_factory=dict)
    arxiv: dict[str, ArxivEntry] = field(default_factory=dict)
    openalex: dict[str, dict[str, Any]] = field(default_factory=dict)
    oai: list[OaiRecord] = field(default_factory=list)
    oai_page_size: int = 100
    token_epoch: int = 0  # bump (expire_tokens) and earlier resumption tokens become bad
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None

    @classmethod
    def with_samples(cls) -> FakeSources:
        crossref, arxiv, openalex = sample_data()
        return cls(crossref=crossref, arxiv=arxiv, openalex=openalex)

    # --- addresses ---

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The variables that point papercite at this fake."""
        return {
            "PAPERCITE_CROSSREF_URL": f"{self.base}/crossref",
            "PAPERCITE_ARXIV_API_URL": f"{self.base}/arxiv/api/query",
            "PAPERCITE_ARXIV_OAI_URL": f"{self.base}/oai",
            "PAPERCITE_OPENALEX_URL": f"{self.base}/openalex",
        }

    def fail_next(self, service: str, *faults: Fault) -> None:
        """Queue faults for the next requests to `service` (crossref, arxiv, oai, openalex)."""
        self._faults[service].extend(faults)

    def expire_tokens(self) -> None:
        """Resumption tokens handed out so far become `badResumptionToken`, as they do on arXiv
        after a while."""
        self.token_epoch += 1

    def served(self, service: str) -> list[Request]:
        return [r for r in self.requests if r.service == service]

    # --- lifecycle ---

    def start(self) -> FakeSources:
        started = threading.Event()

        async def serve() -> None:
            app = web.Application()
            app.add_routes(
                [
                    web.get("/crossref/works/{doi:.+}", self._crossref),
                    web.get("/arxiv/api/query", self._arxiv),
                    web.get("/oai", self._oai),
                    web.get("/openalex/works", self._openalex_list),
                    web.get("/openalex/works/{work:.+}", self._openalex_one),
                ]
            )
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            started.set()

        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        assert started.wait(10), "the fake sources did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            if self._runner is not None:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None

    def __enter__(self) -> FakeSources:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- answering ---

    async def _answer(
        self, service: str, request: web.Request, status: int, body: bytes, content_type: str
    ) -> web.StreamResponse:
        self.requests.append(
            Request(
                service, request.path, dict(request.query), request.headers.get("User-Agent", ""), time.time()
            )
        )
        fault = self._faults[service].popleft() if self._faults[service] else None
        if isinstance(fault, Status):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.Response(status=fault.code, text=fault.body, headers=headers)
        if isinstance(fault, Delay):
            await asyncio.sleep(fault.seconds)
        if isinstance(fault, Truncated):
            body = body[: int(len(body) * fault.fraction)]
        if isinstance(fault, Malformed):
            return web.Response(status=200, text=fault.body, content_type="text/html")
        if isinstance(fault, Huge):
            response = web.StreamResponse(status=200)
            response.content_type = content_type
            if fault.declared:
                response.content_length = fault.size
            await response.prepare(request)
            chunk = b" " * (1 << 16)
            try:
                for _ in range(fault.size // len(chunk)):
                    await response.write(chunk)
            except ConnectionError:
                pass  # the client hung up, as it should
            return response
        return web.Response(status=status, body=body, content_type=content_type, charset="utf-8")

    async def _crossref(self, request: web.Request) -> web.StreamResponse:
        doi = request.match_info["doi"].lower()
        message = self.crossref.get(doi)
        if message is None:
            return await self._answer("crossref", request, 404, b"Resource not found.", "text/plain")
        answer = {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": message}
        return await self._answer("crossref", request, 200, json.dumps(answer).encode(), "application/json")

    async def _arxiv(self, request: web.Request) -> web.StreamResponse:
        ids = [i for i in request.query.get("id_list", "").split(",") if i]
        ET.register_namespace("", ATOM_NS)
        ET.register_namespace("arxiv", ARXIV_NS)
        ET.register_namespace("opensearch", "http://a9.com/-/spec/opensearch/1.1/")
        feed = ET.Element(f"{{{ATOM_NS}}}feed")
        ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = "https://arxiv.org/api/fake"
        ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = f"arXiv Query: id_list={','.join(ids)}"
        ET.SubElement(
            feed, f"{{{ATOM_NS}}}link", href=str(request.url), rel="self", type="application/atom+xml"
        )
        found = []
        for raw in ids:
            bare = re.sub(r"v\d+$", "", raw)
            entry = self.arxiv.get(bare)
            if entry is None and not _looks_like_arxiv_id(raw):
                error = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
                ET.SubElement(
                    error, f"{{{ATOM_NS}}}id"
                ).text = f"http://arxiv.org/api/errors#incorrect_id_format_for_{raw}"
                ET.SubElement(error, f"{{{ATOM_NS}}}title").text = "Error"
                ET.SubElement(error, f"{{{ATOM_NS}}}summary").text = f"incorrect id format for {raw}"
                found.append(None)
            elif entry is not None:
                found.append(entry)
        ET.SubElement(feed, "{http://a9.com/-/spec/opensearch/1.1/}totalResults").text = str(len(found))
        for entry in found:
            if entry is not None:
                feed.append(_atom_entry(entry))
        body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
        return await self._answer("arxiv", request, 200, body, "application/atom+xml")

    async def _oai(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("verb") != "ListRecords":
            return await self._answer("oai", request, 200, _oai_error("badVerb", "Illegal verb"), "text/xml")
        token = query.get("resumptionToken")
        if token:
            try:
                epoch, offset_text, date_from, until, set_spec = (
                    base64.urlsafe_b64decode(token.encode()).decode().split("|")
                )
                offset = int(offset_text)
                if int(epoch) != self.token_epoch:
                    raise ValueError("an expired token")
            except (ValueError, UnicodeDecodeError):
                body = _oai_error(
                    "badResumptionToken", "The value of the resumptionToken argument is invalid or expired."
                )
                return await self._answer("oai", request, 200, body, "text/xml")
        else:
            if query.get("metadataPrefix") != "arXiv":
                body = _oai_error("cannotDisseminateFormat", "Only the arXiv format is served here")
                return await self._answer("oai", request, 200, body, "text/xml")
            offset, date_from, until, set_spec = (
                0,
                query.get("from", ""),
                query.get("until", ""),
                query.get("set", ""),
            )
        matching = [
            r
            for r in sorted(self.oai, key=lambda r: (r.datestamp, r.arxiv_id))
            if (not set_spec or r.set_spec == set_spec or r.set_spec.startswith(set_spec + ":"))
            and (not date_from or r.datestamp >= date_from)
            and (not until or r.datestamp <= until)
        ]
        if not matching:
            body = _oai_error(
                "noRecordsMatch",
                "The combination of the values of the from, until, set and metadataPrefix arguments results in an empty list.",
            )
            return await self._answer("oai", request, 200, body, "text/xml")
        page = matching[offset : offset + self.oai_page_size]
        following = offset + len(page)
        next_token = (
            base64.urlsafe_b64encode(
                f"{self.token_epoch}|{following}|{date_from}|{until}|{set_spec}".encode()
            ).decode()
            if following < len(matching)
            else ""
        )
        body = _oai_page(page, next_token, len(matching), offset, str(request.url))
        return await self._answer("oai", request, 200, body, "text/xml")

    async def _openalex_one(self, request: web.Request) -> web.StreamResponse:
        work = request.match_info["work"]
        record = None
        if work.lower().startswith("doi:"):
            doi = work[4:].lower()
            record = next(
                (
                    w
                    for w in self.openalex.values()
                    if (w.get("doi") or "").lower() == f"https://doi.org/{doi}"
                ),
                None,
            )
        else:
            record = self.openalex.get(work.upper())
        if record is None:
            body = json.dumps({"error": "Not found", "message": f"Work {work} not found"}).encode()
            return await self._answer("openalex", request, 404, body, "application/json")
        return await self._answer("openalex", request, 200, json.dumps(record).encode(), "application/json")

    async def _openalex_list(self, request: web.Request) -> web.StreamResponse:
        works = sorted(self.openalex.values(), key=lambda w: w["id"])
        for clause in filter(None, request.query.get("filter", "").split(",")):
            name, _, value = clause.partition(":")
            if name == "publication_year":
                works = [w for w in works if str(w.get("publication_year")) == value]
            elif name == "type":
                works = [w for w in works if w.get("type") == value]
            else:
                body = json.dumps(
                    {"error": "Invalid query parameters error.", "message": f"{name} is not a valid field"}
                )
                return await self._answer("openalex", request, 400, body.encode(), "application/json")
        per_page = min(int(request.query.get("per_page") or request.query.get("per-page") or 25), 100)
        cursor = request.query.get("cursor")
        offset = 0 if cursor in (None, "*") else int(base64.urlsafe_b64decode(cursor.encode()).decode())
        page = works[offset : offset + per_page]
        following = offset + len(page)
        next_cursor = (
            base64.urlsafe_b64encode(str(following).encode()).decode() if following < len(works) else None
        )
        answer = {
            "meta": {
                "count": len(works),
                "db_response_time_ms": 12,
                "page": None,
                "per_page": per_page,
                "next_cursor": next_cursor,
                "groups_count": None,
            },
            "results": page,
            "group_by": [],
        }
        return await self._answer("openalex", request, 200, json.dumps(answer).encode(), "application/json")


def _looks_like_arxiv_id(text: str) -> bool:
    return bool(re.fullmatch(r"(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?", text))


def _atom_entry(entry: ArxivEntry) -> ET.Element:
    element = ET.Element(f"{{{ATOM_NS}}}entry")
    ET.SubElement(element, f"{{{ATOM_NS}}}id").text = f"http://arxiv.org/abs/{entry.arxiv_id}v{entry.version}"
    ET.SubElement(element, f"{{{ATOM_NS}}}updated").text = entry.published
    ET.SubElement(element, f"{{{ATOM_NS}}}published").text = entry.published
    ET.SubElement(element, f"{{{ATOM_NS}}}title").text = entry.title
    ET.SubElement(element, f"{{{ATOM_NS}}}summary").text = entry.summary
    for name in entry.authors:
        author = ET.SubElement(element, f"{{{ATOM_NS}}}author")
        ET.SubElement(author, f"{{{ATOM_NS}}}name").text = name
    if entry.doi:
        ET.SubElement(element, f"{{{ARXIV_NS}}}doi").text = entry.doi
    if entry.journal_ref:
        ET.SubElement(element, f"{{{ARXIV_NS}}}journal_ref").text = entry.journal_ref
    link = f"http://arxiv.org/abs/{entry.arxiv_id}v{entry.version}"
    ET.SubElement(element, f"{{{ATOM_NS}}}link", href=link, rel="alternate", type="text/html")
    ET.SubElement(
        element,
        f"{{{ATOM_NS}}}link",
        title="pdf",
        href=link.replace("/abs/", "/pdf/"),
        rel="related",
        type="application/pdf",
    )
    ET.SubElement(
        element,
        f"{{{ARXIV_NS}}}primary_category",
        term=entry.primary_category,
        scheme="http://arxiv.org/schemas/atom",
    )
    for category in entry.categories:
        ET.SubElement(
            element, f"{{{ATOM_NS}}}category", term=category, scheme="http://arxiv.org/schemas/atom"
        )
    return element


def _oai_root(request_url: str = "") -> ET.Element:
    ET.register_namespace("", OAI_NS)
    root = ET.Element(f"{{{OAI_NS}}}OAI-PMH")
    ET.SubElement(root, f"{{{OAI_NS}}}responseDate").text = "2026-12-01T12:00:00Z"
    ET.SubElement(root, f"{{{OAI_NS}}}request", verb="ListRecords").text = (
        request_url or "http://export.arxiv.org/oai2"
    )
    return root


def _oai_error(code: str, message: str) -> bytes:
    root = _oai_root()
    ET.SubElement(root, f"{{{OAI_NS}}}error", code=code).text = message
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _oai_page(records: list[OaiRecord], token: str, size: int, cursor: int, url: str) -> bytes:
    root = _oai_root(url)
    listing = ET.SubElement(root, f"{{{OAI_NS}}}ListRecords")
    for item in records:
        record = ET.SubElement(listing, f"{{{OAI_NS}}}record")
        header = ET.SubElement(
            record, f"{{{OAI_NS}}}header", **({"status": "deleted"} if item.deleted else {})
        )
        ET.SubElement(header, f"{{{OAI_NS}}}identifier").text = f"oai:arXiv.org:{item.arxiv_id}"
        ET.SubElement(header, f"{{{OAI_NS}}}datestamp").text = item.datestamp
        ET.SubElement(header, f"{{{OAI_NS}}}setSpec").text = item.set_spec
        if item.deleted:
            continue
        metadata = ET.SubElement(record, f"{{{OAI_NS}}}metadata")
        arxiv = ET.SubElement(metadata, f"{{{ARXIV_OAI_NS}}}arXiv")
        ET.SubElement(arxiv, f"{{{ARXIV_OAI_NS}}}id").text = item.arxiv_id
        ET.SubElement(arxiv, f"{{{ARXIV_OAI_NS}}}created").text = item.created
        authors = ET.SubElement(arxiv, f"{{{ARXIV_OAI_NS}}}authors")
        for keyname, forenames in item.authors:
            author = ET.SubElement(authors, f"{{{ARXIV_OAI_NS}}}author")
            ET.SubElement(author, f"{{{ARXIV_OAI_NS}}}keyname").text = keyname
            ET.SubElement(author, f"{{{ARXIV_OAI_NS}}}forenames").text = forenames
        ET.SubElement(arxiv, f"{{{ARXIV_OAI_NS}}}title").text = item.title
        ET.SubElement(arxiv, f"{{{ARXIV_OAI_NS}}}categories").text = item.categories
        ET.SubElement(
            arxiv, f"{{{ARXIV_OAI_NS}}}license"
        ).text = "http://creativecommons.org/licenses/by/4.0/"
        ET.SubElement(arxiv, f"{{{ARXIV_OAI_NS}}}abstract").text = "  " + item.abstract + "\n"
    ET.SubElement(
        listing, f"{{{OAI_NS}}}resumptionToken", cursor=str(cursor), completeListSize=str(size)
    ).text = token or None
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def main() -> None:
    """`python -m tests.fakes.sources [--oai N] [--page P] [--openalex N]`: serve the sample papers
    (and N synthetic OAI-PMH records) until killed; prints the `PAPERCITE_*_URL` variables first."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--oai", type=int, default=0, help="synthetic OAI-PMH records to serve")
    parser.add_argument("--page", type=int, default=1000, help="OAI-PMH records per page")
    parser.add_argument("--openalex", type=int, default=0, help="synthetic OpenAlex works to serve")
    args = parser.parse_args()
    fake = FakeSources.with_samples()
    fake.oai = synthetic_oai_records(args.oai, per_day=1000)
    fake.oai_page_size = args.page
    fake.openalex |= synthetic_openalex_works(args.openalex)
    fake.start()
    for name, value in fake.env().items():
        print(f"{name}={value}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()


def serving_harvests(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSources]:
    """The fakes, with papercite pointed at them and harvests unpaced (a fixture's body)."""
    with FakeSources() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PAPERCITE_ARXIV_INTERVAL", "0")
        monkeypatch.setenv("PAPERCITE_HTTP_BACKOFF", "0.05")
        yield server
