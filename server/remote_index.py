"""The language server over a `papercite serve` URL, and what it does while that server is away.

Every read goes to the server with a short timeout. When one fails, the editor is told once (which
URL, what error) and reads answer empty at once, so completion, hover and the rest carry on with the
document's own bibliography and nothing waits on the network. The server is asked again with
backoff; when it answers, the editor is told and the documents are diagnosed again. While it is
there, its change marker is read every few seconds, so that papers a colleague adds (and unknown
keys they resolve) show up without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from core.index import MemoryIndex
from core.interface import ProgressCallback
from core.records import IngestReport, Paper
from core.remote import RemoteError, RemoteLibrary, RemoteRefused, ServerUnavailable
from core.search import Hit

log = logging.getLogger("papercite.server")
T = TypeVar("T")

# A read the editor waits for: completion must never hang on a network (editors show what they
# have after a few hundred ms; a search at a million abstracts takes 20).
REQUEST_TIMEOUT_SECONDS = 2.0
# Asking an absent server again: after 0.5 s, then twice as long each time, at most this.
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0
# How often the change marker is read while the server is there.
CHANGES_POLL_SECONDS = 1.0

Notify = Callable[[str, bool], None]  # (message, is_warning)


class RemoteIndex:
    """A `RemoteLibrary` that answers empty while its server is away (see the module's docstring)."""

    def __init__(self, remote: RemoteLibrary, notify: Notify, on_change: Callable[[], None]) -> None:
        self.remote = remote
        self.home = remote.home
        self.shared_store = remote.shared_store
        # Why the server's index cannot be used: no answer, or the token refused (401).
        self.away: RemoteError | None = None
        self._notify = notify
        self._on_change = on_change
        self._watcher: asyncio.Task[None] | None = None
        self._marker: int | None = None

    @property
    def url(self) -> str:
        return self.remote.url

    def start(self) -> None:
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._watch())

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(BaseException):
                await self._watcher
        await self.remote.close()

    # --- away and back -------------------------------------------------------------------------

    def _lost(self, error: RemoteError) -> None:
        if self.away is None:
            self.away = error
            log.warning("%s", error)
            self._notify(
                f"papercite: {error}. Citations come from the document's own bibliography until it "
                "is back; papercite keeps trying.",
                True,
            )

    async def _read(self, call: Callable[[], Awaitable[T]], empty: T) -> T:
        if self.away is not None:
            return empty  # no request: nothing waits on a server known to be away
        try:
            return await call()
        except ServerUnavailable as error:
            self._lost(error)
            return empty
        except RemoteRefused as error:
            if error.status == 401:  # a wrong token will not get better by asking again at once
                self._lost(error)
            else:
                log.warning("%s", error)
            return empty

    async def _watch(self) -> None:
        """Reads the change marker while the server is there; asks again with backoff while it is not."""
        delay = RETRY_FIRST_SECONDS
        while True:
            await asyncio.sleep(CHANGES_POLL_SECONDS if self.away is None else delay)
            try:
                marker = await self.remote.change_marker()
            except RemoteRefused as error:
                if error.status != 401:
                    continue
                if self.away is None:
                    self._lost(error)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            except (ServerUnavailable, RemoteError) as error:
                # (RemoteError: something answers there, but not as papercite: a redirect, a page)
                if self.away is None:
                    self._lost(error)
                    delay = RETRY_FIRST_SECONDS
                else:
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                log.warning("reading the change marker of %s failed", self.url, exc_info=True)
                continue
            delay = RETRY_FIRST_SECONDS
            if self.away is not None:
                self.away = None
                self._notify(f"papercite: the server at {self.url} is back", False)
                self._marker = marker
                self._on_change()
            elif marker != self._marker:
                if self._marker is not None:
                    self._on_change()
                self._marker = marker

    # --- the library's interface ----------------------------------------------------------------

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
        def call() -> Awaitable[list[Hit]]:
            return self.remote.search(
                query,
                k,
                year_from=year_from,
                year_to=year_to,
                author=author,
                exclude=exclude,
                meaning=meaning,
                semantic=semantic,
            )

        return await self._read(call, [])

    async def similarities(self, text: str, keys: Sequence[str], wait: float) -> dict[str, float] | None:
        return None if self.away is not None else await self.remote.similarities(text, keys, wait)

    def search_outside(self, terms: Mapping[str, float], papers: MemoryIndex, k: int) -> dict[str, float]:
        return self.remote.search_outside(terms, papers, k)

    async def get(self, key: str) -> Paper:
        return await self.remote.get(key)

    async def find(self, key: str) -> Paper | None:
        return await self._read(lambda: self.remote.find(key), None)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Paper]:
        return await self._read(lambda: self.remote.get_many(keys), {})

    async def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]:
        return await self._read(lambda: self.remote.keys_with_prefix(prefix, limit), set())

    async def keys_near(self, key: str) -> list[str]:
        return await self._read(lambda: self.remote.keys_near(key), [])

    async def suggest_keys(self, key: str, limit: int = 3) -> list[str]:
        return await self._read(lambda: self.remote.suggest_keys(key, limit), [])

    async def key_of(self, paper: Paper) -> str | None:
        return await self.remote.key_of(paper)

    async def stats(self) -> dict[str, Any]:
        return await self.remote.stats()

    async def count(self) -> int:
        return await self.remote.count()

    async def change_marker(self) -> int:
        return await self.remote.change_marker()

    async def remove(self, keys: Sequence[str]) -> list[str]:
        return await self.remote.remove(keys)

    async def ingest(self, paths: Sequence[Path], progress: ProgressCallback | None = None) -> IngestReport:
        return await self.remote.ingest(paths, progress)

    async def add_papers(self, papers: Sequence[Paper]) -> IngestReport:
        return await self.remote.add_papers(papers)

    async def reindex(self) -> int:
        return await self.remote.reindex()
