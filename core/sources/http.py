"""A polite HTTP client for the metadata services: who we are, how often we ask, what we keep.

- Every request says who sends it: a User-Agent with a contact address (`PAPERCITE_MAILTO`), which
  puts Crossref and OpenAlex requests in their polite pools.
- Requests to one host are paced (arXiv asks for one every three seconds). The next free slot is
  kept in the home's `sources.sqlite3`, so two commands run back to back, or side by side, still
  keep the pace between them; over a shared PostgreSQL store, in the store (every node keeps it).
- 429 and 5xx answers, timeouts, dropped connections and unreadable bodies are retried with
  exponential backoff; a `Retry-After` the server sends is honoured (up to a limit).
- Successful lookups are cached in the same place, so adding a paper again works offline.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar
from urllib.parse import urlencode

from core.records import PaperciteError

if TYPE_CHECKING:  # aiohttp costs ~100 ms to import; only a lookup needs it
    import aiohttp

CACHE_FILE = "sources.sqlite3"
T = TypeVar("T")
ErrorKind = Literal["invalid", "not-found", "no-abstract", "network", "bad-response"]


class SourceError(PaperciteError):
    """A lookup that failed, in words a user can act on; `kind` sorts the failures."""

    kind: ErrorKind = "network"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NotFound(SourceError):
    kind = "not-found"


class NetworkError(SourceError):
    kind = "network"


class BadResponse(SourceError):
    """A body that is not what the service sends (truncated, malformed): retried, then reported."""

    kind = "bad-response"


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        return default


@dataclass(frozen=True)
class SourcesConfig:
    """Where the services are and how to be polite to them; `from_env()` reads the variables."""

    crossref_url: str = "https://api.crossref.org"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    openalex_url: str = "https://api.openalex.org"
    mailto: str = ""
    openalex_api_key: str = ""
    timeout: float = 30.0
    # arXiv's terms of use: no more than one request every three seconds, one connection at a time.
    arxiv_interval: float = 3.0
    retries: int = 4
    backoff: float = 1.0
    # A server asking us to wait longer than this is reported rather than waited for.
    max_retry_after: float = 300.0
    # No answer of these services comes near this (an OAI-PMH page is a few MB); a bigger body,
    # or one that never ends, is refused rather than held in memory.
    max_body_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_env(cls) -> SourcesConfig:
        env = os.environ
        return cls(
            crossref_url=env.get("PAPERCITE_CROSSREF_URL") or cls.crossref_url,
            arxiv_api_url=env.get("PAPERCITE_ARXIV_API_URL") or cls.arxiv_api_url,
            arxiv_oai_url=env.get("PAPERCITE_ARXIV_OAI_URL") or cls.arxiv_oai_url,
            openalex_url=env.get("PAPERCITE_OPENALEX_URL") or cls.openalex_url,
            mailto=env.get("PAPERCITE_MAILTO", "").strip(),
            openalex_api_key=env.get("PAPERCITE_OPENALEX_API_KEY", "").strip(),
            timeout=_env_float("PAPERCITE_HTTP_TIMEOUT", cls.timeout),
            arxiv_interval=_env_float("PAPERCITE_ARXIV_INTERVAL", cls.arxiv_interval),
            retries=int(_env_float("PAPERCITE_HTTP_RETRIES", cls.retries)),
            backoff=_env_float("PAPERCITE_HTTP_BACKOFF", cls.backoff),
            max_body_bytes=int(_env_float("PAPERCITE_HTTP_MAX_MB", cls.max_body_bytes / 2**20) * 2**20),
        )

    @property
    def user_agent(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            release = version("papercite")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            release = "0"
        # Crossref's etiquette: name the tool and give a contact address (its polite pool).
        return f"papercite/{release}" + (f" (mailto:{self.mailto})" if self.mailto else "")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


class SourceState(Protocol):
    """Where the cache and the pacing slots are kept."""

    def reserve(self, host: str, interval: float) -> float: ...

    def release(self, host: str, interval: float) -> None: ...

    def next_slot(self, host: str) -> float | None: ...

    def cached(self, url: str) -> bytes | None: ...

    def store(self, url: str, body: bytes) -> None: ...


class HomeState:
    """The cache and the pacing slots, in one small SQLite file in the home (or in memory)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, float] = {}
        self._cache: dict[str, bytes] = {}
        if path is not None:
            with closing(self._connect()) as db:
                db.execute("CREATE TABLE IF NOT EXISTS pace (host TEXT PRIMARY KEY, next_at REAL NOT NULL)")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS responses "
                    "(url TEXT PRIMARY KEY, body BLOB NOT NULL, fetched_at REAL NOT NULL)"
                )

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        return db

    def reserve(self, host: str, interval: float) -> float:
        """Take the host's next free slot; returns how long to wait for it."""
        now = time.time()
        if self.path is None:
            slot = max(now, self._memory.get(host, 0.0))
            self._memory[host] = slot + interval
            return slot - now
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")  # one process at a time takes a slot
            row = db.execute("SELECT next_at FROM pace WHERE host = ?", (host,)).fetchone()
            # A slot far in the future is a clock that went backwards; do not wait for it.
            slot = max(now, min(row[0], now + interval) if row else now)
            db.execute(
                "INSERT INTO pace (host, next_at) VALUES (?, ?) "
                "ON CONFLICT (host) DO UPDATE SET next_at = excluded.next_at",
                (host, slot + interval),
            )
            db.execute("COMMIT")
        finally:
            db.close()
        return slot - now

    def release(self, host: str, interval: float) -> None:
        """A request has finished: the next one waits `interval` from now, not from when this one
        was sent (a slow answer must not bring the next request closer)."""
        after = time.time() + interval
        if self.path is None:
            self._memory[host] = max(self._memory.get(host, 0.0), after)
            return
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO pace (host, next_at) VALUES (?, ?) "
                "ON CONFLICT (host) DO UPDATE SET next_at = max(next_at, excluded.next_at)",
                (host, after),
            )

    def next_slot(self, host: str) -> float | None:
        if self.path is None:
            return self._memory.get(host)
        with closing(self._connect()) as db:
            row = db.execute("SELECT next_at FROM pace WHERE host = ?", (host,)).fetchone()
        return float(row[0]) if row else None

    def cached(self, url: str) -> bytes | None:
        if self.path is None:
            return self._cache.get(url)
        with closing(self._connect()) as db:
            row = db.execute("SELECT body FROM responses WHERE url = ?", (url,)).fetchone()
        return bytes(row[0]) if row else None

    def store(self, url: str, body: bytes) -> None:
        if self.path is None:
            self._cache[url] = body
            return
        with closing(self._connect()) as db:
            db.execute(
                "INSERT OR REPLACE INTO responses (url, body, fetched_at) VALUES (?, ?, ?)",
                (url, body, time.time()),
            )


def source_state(home: Path | None, shared_store: str | None) -> SourceState:
    """The state of a shared PostgreSQL store's nodes, or else of `home` (None: in memory)."""
    if shared_store is not None:
        from core.sources.shared_state import SharedSourceState  # (psycopg: only a node needs it)

        return SharedSourceState(shared_store)
    return HomeState(home / CACHE_FILE if home is not None else None)


@dataclass
class Service:
    """One remote service: its name in messages, how far apart its requests go, how many at once."""

    name: str
    interval: float = 0.0
    concurrency: int = 5
    _semaphore: asyncio.Semaphore | None = field(default=None, repr=False)

    @property
    def semaphore(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        return self._semaphore


class Client:
    """An aiohttp session with the config's manners, the home's cache and pacing.

    `fetch(service, url, params, parse)` returns `parse(body)`; `parse` raising BadResponse
    counts as a failed attempt (a truncated or malformed body), and is retried.
    """

    def __init__(
        self, config: SourcesConfig, home: Path | None = None, *, shared_store: str | None = None
    ) -> None:
        self.config = config
        self.state = source_state(home, shared_store)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0  # requests sent (not cache hits), for reports and tests

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self.config.user_agent},
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            )
        return self._session

    async def fetch(
        self,
        service: Service,
        url: str,
        params: Mapping[str, str] | None,
        parse: Callable[[bytes], T],
        *,
        cache: bool = False,
        secret_params: Mapping[str, str] | None = None,
        what: str = "",
    ) -> T:
        """GET `url?params` (plus `secret_params`, which stay out of the cache key and messages)."""
        import aiohttp

        shown = url + ("?" + urlencode(params) if params else "")
        what = what or shown
        if cache:
            body = await asyncio.to_thread(self.state.cached, shown)
            if body is not None:
                try:
                    return parse(body)
                except BadResponse:
                    pass  # a cache entry from an older, different parser: fetch it again
        query = {**(params or {}), **(secret_params or {})}
        last_problem = ""
        for attempt in range(self.config.retries + 1):
            wait = 0.0
            async with service.semaphore:
                if service.interval:
                    delay = await asyncio.to_thread(self.state.reserve, service.name, service.interval)
                    await asyncio.sleep(delay)
                try:
                    self.requests += 1
                    async with self._open().get(url, params=query or None) as response:
                        status = response.status
                        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                        body = await read_bounded(response, self.config.max_body_bytes)
                        if body is None:
                            raise BadResponse(
                                f"{service.name} sent more than {self.config.max_body_bytes / 2**20:g} MB "
                                f"for {what}; refused"
                            )
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    status, retry_after, body = 0, None, b""
                    last_problem = _describe(error, self.config.timeout)
                finally:
                    if service.interval:
                        await asyncio.to_thread(self.state.release, service.name, service.interval)
            if status == 200:
                try:
                    result = parse(body)
                except BadResponse as error:
                    last_problem = str(error)
                else:
                    if cache:
                        await asyncio.to_thread(self.state.store, shown, body)
                    return result
            elif status == 404:
                raise NotFound(f"{service.name} does not know {what}")
            elif status in (429, 500, 502, 503, 504):
                last_problem = f"{service.name} answered {status}"
                if retry_after is not None:
                    if retry_after > self.config.max_retry_after:
                        raise NetworkError(
                            f"{service.name} asks to wait {retry_after:.0f} s before the next request "
                            f"(answered {status}); try again later"
                        )
                    wait = retry_after
            elif status:
                raise BadResponse(f"{service.name} answered {status} for {what}{_said(body)}")
            if attempt < self.config.retries:
                backoff = self.config.backoff * 2**attempt * (1 + random.random() / 4)
                await asyncio.sleep(max(wait, backoff if not wait else 0.0))
        raise NetworkError(
            f"{service.name} could not be reached for {what} after {self.config.retries + 1} "
            f"attempts: {last_problem}"
        )


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be over `limit` bytes (declared or sent)."""
    if response.content_length is not None and response.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def json_answer(body: bytes, service: str) -> Any:
    """A JSON body; BadResponse for anything `json` refuses: not JSON, not UTF-8, nested past
    Python's recursion limit, or a number of more than 4300 digits (the last two raised
    RecursionError and ValueError out of `papercite add`)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)[:200]
        raise BadResponse(f"{service} sent a malformed answer ({reason})") from None


def _said(body: bytes) -> str:
    """What a refusal says, briefly: a JSON `message` (OpenAlex, Crossref) or the text."""
    text = body[:2000].decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        text = str(parsed.get("message") or parsed.get("error") or "")
    text = " ".join(text.split())
    return f": {text[:200]}" if text and not text.startswith("<") else ""


def _describe(error: BaseException, timeout: float) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {timeout:g} s"
    import aiohttp

    if isinstance(error, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    return str(error) or type(error).__name__
