"""What the faces (the CLI, the language server, the Slack bot) ask of a library. A folder
(`core.library.Library`) and a URL (`core.remote.RemoteLibrary`) both answer it, so a face never
knows which one it holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from core.index import MemoryIndex
from core.records import IngestReport, Paper
from core.search import Hit

ProgressCallback = Callable[[str, int], None]


class PaperLibrary(Protocol):
    # A local folder for files made for the user (the paper pages go-to-definition opens): the home
    # itself, or for a URL a cache folder of its own.
    home: Path
    # The URL of a PostgreSQL store shared with other nodes, which keeps what the web sources
    # answered for all of them; None for a folder's own store, or a server's URL.
    shared_store: str | None

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
    ) -> list[Hit]: ...

    def search_outside(self, terms: Mapping[str, float], papers: MemoryIndex, k: int) -> dict[str, float]: ...

    # Cosine of `text`'s sentence vector with each key's (keys without a vector left out), or None
    # when the library does not fuse or the vector is not ready within `wait` seconds.
    async def similarities(self, text: str, keys: Sequence[str], wait: float) -> dict[str, float] | None: ...

    async def get(self, key: str) -> Paper: ...

    async def find(self, key: str) -> Paper | None: ...

    async def get_many(self, keys: Sequence[str]) -> dict[str, Paper]: ...

    async def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]: ...

    async def keys_near(self, key: str) -> list[str]: ...

    async def suggest_keys(self, key: str, limit: int = 3) -> list[str]: ...

    async def key_of(self, paper: Paper) -> str | None: ...

    async def stats(self) -> dict[str, Any]: ...

    async def count(self) -> int: ...

    async def change_marker(self) -> int: ...

    async def remove(self, keys: Sequence[str]) -> list[str]: ...

    async def ingest(
        self, paths: Sequence[Path], progress: ProgressCallback | None = None
    ) -> IngestReport: ...

    async def add_papers(self, papers: Sequence[Paper]) -> IngestReport: ...

    async def reindex(self) -> int: ...

    async def close(self) -> None: ...
