"""The library over HTTP: a client of `papercite serve` with the interface of a folder's library.

`open_library(home)` gives a `Library` for a folder and a `RemoteLibrary` for an `http(s)://` URL,
so the CLI, the language server and the Slack bot work the same with either. One keep-alive
connection pool per client; every call is one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as json_module
import os
import re
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import platformdirs

from core.formats import find_files, is_bibliographic
from core.fusion import MAX_SIMILARITY_WAIT
from core.index import MemoryIndex, Statistics, most_informative
from core.interface import PaperLibrary, ProgressCallback
from core.library import QUERY_TERMS, Library, default_home
from core.records import EmptyQuery, IngestReport, Paper, PaperciteError, ParseFailure, UnknownKey
from core.search import Hit, checked_limit, closest_keys
from core.sources.http import read_bounded, retry_after_seconds
from core.wire import hit_from_json, paper_from_json, paper_to_json, report_from_json

if TYPE_CHECKING:  # aiohttp costs ~100 ms to import: a language server over a folder never needs it
    import aiohttp

TOKEN_VARIABLE = "PAPERCITE_TOKEN"
# Certificates (PEM) of a private CA that signed the server's certificate, trusted beside the
# system's: SSL_CERT_FILE would replace the system's, and with them the trust in Crossref and arXiv.
CA_FILE_VARIABLE = "PAPERCITE_CA_FILE"
API = "/v1"
# A read the CLI waits for; the language server passes its own, shorter one.
READ_TIMEOUT_SECONDS = 30.0
# Beyond the server's own wait for a sentence vector, what the similarities' round trip may take.
_SIMILARITY_ROUND_TRIP_SECONDS = 1.0
# An upload is parsed and indexed before the answer comes: a big file takes minutes.
WRITE_TIMEOUT_SECONDS = 3600.0
_CONNECTIONS = 8
# The largest answer read: a lookup of 2000 papers with their abstracts is a few MB. More (a server
# that never stops sending) is refused instead of filling memory.
MAX_ANSWER_BYTES = 64 * 2**20
MAX_ERROR_BYTES = 2**20
# Keys one lookup names: the server's limit (api/limits.py MAX_KEYS).
KEYS_PER_REQUEST = 2000


class RemoteError(PaperciteError):
    """The server answered, but not with what was asked for."""


class ServerUnavailable(RemoteError):
    """No answer from the server (refused, unreachable, or slower than the timeout)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the papercite server at {url}: {reason}")


class RemoteRefused(RemoteError):
    """The server refused the request: no token, a bad one, a read token writing, or too many."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


def is_url(home: object) -> bool:
    return isinstance(home, str) and home.lower().startswith(("http://", "https://"))


def home_from(value: str | Path | None) -> str | Path:
    """A home as given (`--home`, a setting) or from `PAPERCITE_HOME`: a URL stays text, as a Path
    would fold its `//`."""
    given = value if value not in (None, "") else os.environ.get("PAPERCITE_HOME")
    if is_url(given):
        return server_url(str(given))
    if given:
        return Path(given).expanduser()
    return default_home()


def server_url(url: str) -> str:
    """A server's address, checked before anything is sent: a host, a port that can be, and no
    user name or password (the token is what papercite sends; a URL's password would be shown in
    every message naming the server)."""
    url = url.strip()
    shown = re.sub(r"//[^/]*@", "//", url)  # never the password, in any message
    if shown != url:
        raise PaperciteError(
            f"the server address {shown!r} holds a user name or password; leave them out and give "
            f"the server's token in {TOKEN_VARIABLE} (or the editor's token setting)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError as error:
        raise PaperciteError(f"the server address {url!r} cannot be read: {error}") from None
    if not parts.hostname or parts.query or parts.fragment:
        raise PaperciteError(f"the server address {url!r} must be http(s)://HOST[:PORT][/PATH], nothing more")
    return url.rstrip("/")


async def open_library(
    home: str | Path | None = None, *, token: str | None = None, timeout: float = READ_TIMEOUT_SECONDS
) -> PaperLibrary:
    """The library at `home`: a folder (opened, created and seeded if new) or a server's URL."""
    where = home_from(home)
    if isinstance(where, str):
        return RemoteLibrary(where, token if token is not None else os.environ.get(TOKEN_VARIABLE), timeout)
    return await Library.open(where)


def _cache_folder(url: str) -> Path:
    parts = urlsplit(url)
    name = re.sub(r"[^\w.-]", "_", f"{parts.hostname}_{parts.port or ''}{parts.path}").strip("_")
    return Path(platformdirs.user_cache_dir("papercite")) / "servers" / name


class _KnownStatistics:
    """Word statistics the server sent with its latest search, so that a document's own papers are
    scored among the server's hits as they would be among a folder's (see `MemoryIndex`)."""

    def __init__(self) -> None:
        self.documents = 0
        self.doc_freq: dict[str, int] = {}

    def statistics(self, terms: Iterable[str]) -> Statistics:
        return Statistics(self.documents, {term: self.doc_freq.get(term, 0) for term in terms})


class RemoteLibrary:
    def __init__(self, url: str, token: str | None, timeout: float = READ_TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.home = _cache_folder(self.url)
        self.shared_store: str | None = None  # (the server keeps its sources' state)
        with contextlib.suppress(OSError):  # (pages, lookups' caches; a read-only disk only loses them)
            self.home.mkdir(parents=True, exist_ok=True)
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._known = _KnownStatistics()

    def __repr__(self) -> str:  # never the token
        return f"RemoteLibrary({self.url!r})"

    # --- the connection -------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(
                    limit=_CONNECTIONS, keepalive_timeout=60, ssl=self._tls_context()
                ),
            )
        return self._session

    def _tls_context(self) -> ssl.SSLContext | bool:
        """The system's trusted certificates, and `PAPERCITE_CA_FILE`'s when it is set."""
        ca_file = os.environ.get(CA_FILE_VARIABLE)
        if not ca_file or not self.url.lower().startswith("https://"):
            return True  # aiohttp's default: verified against the system's certificates
        context = ssl.create_default_context()
        try:
            context.load_verify_locations(cafile=os.path.expanduser(ca_file))
        except (OSError, ssl.SSLError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise ServerUnavailable(
                self.url, f"the certificates in {CA_FILE_VARIABLE} ({ca_file}) cannot be read: {reason}"
            ) from None
        return context

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> RemoteLibrary:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        data: object = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
        text: bool = False,
    ) -> Any:
        """One call to the API; errors come back as the library's own (UnknownKey, EmptyQuery) or
        as RemoteError naming the server and what to do."""
        import aiohttp

        seconds = timeout if timeout is not None else self._timeout
        try:
            return await self._send(method, path, json, data, params, seconds, text)
        except aiohttp.ServerDisconnectedError:
            if data is not None:  # an upload's body has been read; the caller sends it again
                raise ServerUnavailable(self.url, "the server closed the connection") from None
            # A kept-alive connection the server closed (it restarted): once more, on a new one.
            return await self._send(method, path, json, data, params, seconds, text)

    async def _send(
        self,
        method: str,
        path: str,
        json: object,
        data: object,
        params: Mapping[str, str] | None,
        seconds: float,
        text: bool,
    ) -> Any:
        import aiohttp

        try:
            async with self._client().request(
                method,
                self.url + path,
                json=json,
                data=data,
                params=params,
                timeout=aiohttp.ClientTimeout(total=seconds, connect=min(seconds, 5.0)),
                # A redirect would carry the request's body (the text being written, an upload)
                # to wherever it points; the home is the address to use, or it is wrong.
                allow_redirects=False,
            ) as response:
                if response.status >= 400:
                    raise await self._error(response)
                if response.status >= 300:
                    raise RemoteError(
                        f"the server at {self.url} redirected {method} {path} to "
                        f"{response.headers.get('Location', 'nowhere')!r}; papercite does not follow "
                        "redirects: if that address is your papercite server, make it the home"
                    )
                body = await read_bounded(response, MAX_ANSWER_BYTES)
                if body is None:
                    raise RemoteError(
                        f"the server at {self.url} answered {method} {path} with more than "
                        f"{MAX_ANSWER_BYTES // 2**20} MB; refused"
                    )
                try:
                    if text:
                        return body.decode(response.charset or "utf-8", "replace")
                    if response.content_type != "application/json":
                        raise ValueError(response.content_type)
                    return json_module.loads(body)
                except (ValueError, LookupError, RecursionError):
                    # A proxy's page or another service at this address, not papercite's answer.
                    raise RemoteError(
                        f"the server at {self.url} answered {method} {path} with something that is not "
                        f"a papercite answer ({response.content_type}); is the URL right?"
                    ) from None
        except aiohttp.ServerDisconnectedError:
            raise
        except aiohttp.ClientConnectorCertificateError as error:
            raise ServerUnavailable(
                self.url,
                f"{error.certificate_error}; if its certificate comes from your own certificate "
                f"authority, set {CA_FILE_VARIABLE} to that authority's certificate (a PEM file)",
            ) from None
        except aiohttp.ClientConnectorError as error:  # (refused, unknown host: the OS's words)
            raise ServerUnavailable(self.url, error.os_error.strerror or str(error)) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            raise ServerUnavailable(self.url, str(error) or type(error).__name__) from None
        except asyncio.TimeoutError:
            raise ServerUnavailable(self.url, f"no answer within {seconds:g} s") from None

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """An answer in a shape this client cannot read (a server that is not papercite, or a
        hostile one) is a RemoteError naming it, not a TypeError out of every face."""
        try:
            yield
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            raise RemoteError(
                f"the server at {self.url} answered {what} in a shape papercite cannot read "
                f"({type(error).__name__}: {error})"
            ) from None

    async def _error(self, response: aiohttp.ClientResponse) -> Exception:
        raw = await read_bounded(response, MAX_ERROR_BYTES) or b""
        try:
            body = json_module.loads(raw)
        except (ValueError, RecursionError):
            # A proxy's own page (nginx's 413, a 502): its status line says it; its HTML does not help.
            text = raw[:200].decode("utf-8", "replace")
            body = {} if response.content_type == "text/html" else {"error": text}
        if not isinstance(body, dict):
            body = {}
        message = str(body.get("error") or response.reason or response.status)
        code = body.get("code")
        if code == "unknown_key":
            suggestions = body.get("suggestions")
            listed = suggestions if isinstance(suggestions, list) else []
            return UnknownKey(str(body.get("key", "")), [str(s) for s in listed])
        if code == "empty_query":
            return EmptyQuery()
        if response.status == 401:
            return RemoteRefused(
                f"the papercite server at {self.url} did not accept the token ({message}); set "
                f"{TOKEN_VARIABLE} to a token made on the server with `papercite token create NAME`",
                401,
            )
        if response.status == 403:
            return RemoteRefused(
                f"the papercite server at {self.url} refused: {message}; adding or removing papers "
                f"needs a token made with `papercite token create NAME --write`",
                403,
            )
        if response.status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After")) or 1.0
            return RemoteRefused(
                f"the papercite server at {self.url} is limiting this token's requests; try again in "
                f"{wait:g} s",
                429,
                wait,
            )
        if response.status == 413:
            return RemoteError(
                f"the papercite server at {self.url} refused the upload as too large ({message}); "
                "ingest it on the server's machine, or serve with a larger --max-body-mb"
            )
        if response.status in (502, 503, 504) and code != "busy":
            return ServerUnavailable(self.url, f"{response.status} {message}")
        return RemoteError(f"the papercite server at {self.url} answered {response.status}: {message}")

    # --- reading --------------------------------------------------------------------------------

    async def search(
        self,
        query: str | Mapping[str, float],
        k: int = 10,
        *,
        year_from: int | None = None,
        year_to: int | None = None,
        author: str | None = None,
        exclude: Iterable[str] = (),
        meaning: str | None = None,
        semantic: bool | None = None,
    ) -> list[Hit]:
        body: dict[str, Any] = {"k": checked_limit(k)}
        # The server fuses with its own vectors; it is told the citing text and whether to.
        if meaning is not None:
            body["meaning"] = meaning
        if semantic is not None:
            body["semantic"] = semantic
        if isinstance(query, str):
            body["query"] = query
        else:
            if not query:
                raise EmptyQuery()
            body["terms"] = dict(query)
            body["statistics"] = True
        filters = {"year_from": year_from, "year_to": year_to, "author": author}
        body.update({name: value for name, value in filters.items() if value is not None})
        excluded = list(exclude)
        if excluded:
            body["exclude"] = excluded
        answer = await self.request("POST", f"{API}/search", json=body)
        with self._reading("a search"):
            statistics = answer.get("statistics")
            if statistics:
                documents = int(statistics["documents"])
                doc_freq = {str(term): int(count) for term, count in statistics["doc_freq"].items()}
                self._known.documents = documents
                self._known.doc_freq.update(doc_freq)
            return [hit_from_json(hit) for hit in answer["hits"]]

    async def similarities(self, text: str, keys: Sequence[str], wait: float) -> dict[str, float] | None:
        """The server's sentence similarities (it holds the vectors); None when it does not fuse,
        its vector is not ready within `wait`, or it cannot say (an older server, or none): the
        caller then ranks by BM25 alone."""
        if not text.strip():
            return None
        wait = min(wait, MAX_SIMILARITY_WAIT)
        try:
            # Optional to the ranking: a server slower than this is not waited for.
            answer = await self.request(
                "POST",
                f"{API}/similarities",
                json={"text": text, "keys": list(keys), "wait": wait},
                timeout=wait + _SIMILARITY_ROUND_TRIP_SECONDS,
            )
            with self._reading("sentence similarities"):
                found = answer["similarities"]
                return None if found is None else {str(key): float(value) for key, value in found.items()}
        except RemoteError:
            return None

    def search_outside(self, terms: Mapping[str, float], papers: MemoryIndex, k: int) -> dict[str, float]:
        """As `Library.search_outside`, with the word statistics of the latest search (the editor
        asks right after searching the same terms, so no request is needed)."""
        chosen = most_informative(terms, QUERY_TERMS, self._known.statistics(terms))
        return dict(papers.search(chosen, k, self._known))

    async def get(self, key: str) -> Paper:
        # Through the lookup rather than /v1/papers/{key}: a key may hold a slash, which no path
        # segment carries through every proxy.
        paper = (await self.get_many([key])).get(key)
        if paper is None:
            raise UnknownKey(key, await self.suggest_keys(key))
        return paper

    async def find(self, key: str) -> Paper | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        # In parts the server takes (a document citing more keys than that is rare, but the
        # language server asks for all of them at once).
        for start in range(0, len(keys), KEYS_PER_REQUEST):
            part = list(keys[start : start + KEYS_PER_REQUEST])
            answer = await self.request("POST", f"{API}/papers/lookup", json={"keys": part})
            with self._reading("a lookup"):
                found.update({str(key): paper_from_json(raw) for key, raw in answer["papers"].items()})
        return found

    async def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]:
        params = {"prefix": prefix, "limit": str(limit)}
        answer = await self.request("GET", f"{API}/keys", params=params)
        with self._reading("keys"):
            return {str(key) for key in answer["keys"]}

    async def keys_near(self, key: str) -> list[str]:
        answer = await self.request("GET", f"{API}/keys/near", params={"key": key})
        with self._reading("keys"):
            return [str(near) for near in answer["keys"]]

    async def key_of(self, paper: Paper) -> str | None:
        answer = await self.request("POST", f"{API}/papers/match", json={"papers": [paper_to_json(paper)]})
        with self._reading("a match"):
            key = answer["keys"][0]
            return str(key) if key is not None else None

    async def suggest_keys(self, key: str, limit: int = 3) -> list[str]:
        return closest_keys(key, await self.keys_near(key), limit)

    async def count(self) -> int:
        answer = await self.request("GET", "/healthz")
        with self._reading("its health"):
            return int(answer["papers"])

    async def stats(self) -> dict[str, Any]:
        stats = await self.request("GET", f"{API}/stats")
        with self._reading("its statistics"):
            return {**stats, "home": self.url}

    async def change_marker(self) -> int:
        answer = await self.request("GET", f"{API}/changes")
        with self._reading("the change marker"):
            return int(answer["change"])

    async def bibtex(self, key: str) -> str:
        return str(await self.request("GET", f"{API}/papers/{quote(key, safe='')}/bibtex", text=True))

    # --- writing --------------------------------------------------------------------------------

    async def remove(self, keys: Sequence[str]) -> list[str]:
        answer = await self.request(
            "POST", f"{API}/papers/remove", json={"keys": list(keys)}, timeout=WRITE_TIMEOUT_SECONDS
        )
        with self._reading("a removal"):
            return [str(key) for key in answer["removed"]]

    async def add_papers(self, papers: Sequence[Paper]) -> IngestReport:
        answer = await self.request(
            "POST",
            f"{API}/papers",
            json={"papers": [paper_to_json(p) for p in papers]},
            timeout=WRITE_TIMEOUT_SECONDS,
        )
        with self._reading("an ingest report"):
            return report_from_json(answer)

    async def ingest(self, paths: Sequence[Path], progress: ProgressCallback | None = None) -> IngestReport:
        """Upload each file (folders recursively, as a folder's library reads them); the server
        parses, keys and indexes them, and the reports are added up."""
        report = IngestReport()
        files: list[Path] = []
        for path in paths:
            if not path.exists():
                report.failed.append(ParseFailure(str(path), 0, "no such file or folder"))
            elif path.is_dir():
                for found in find_files([path]):
                    (files if is_bibliographic(found) else report.skipped).append(found)
            else:
                files.append(path)
        for file in files:
            with file.open("rb") as body:
                answer = await self.request(
                    "POST",
                    f"{API}/ingest",
                    data=body,
                    params={"name": str(file)},
                    timeout=WRITE_TIMEOUT_SECONDS,
                )
            with self._reading("an ingest report"):
                part = report_from_json(answer)
            report.absorb(part)
            if progress:
                progress(str(file), len(part.added) + len(part.updated) + len(part.unchanged))
        report.settle()
        return report

    async def reindex(self) -> int:
        answer = await self.request("POST", f"{API}/reindex", timeout=WRITE_TIMEOUT_SECONDS)
        with self._reading("a reindex"):
            return int(answer["papers"])
