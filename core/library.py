"""The library: the async API the CLI, the language server and the Slack bot all call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np
import platformdirs

from core.embedding import (
    DIMENSIONS,
    Encoder,
    ModelUnavailable,
    model_id,
    paper_text,
    shared_encoder,
    text_digest,
)
from core.formats import find_files, is_bibliographic
from core.formats.pieces import read_pieces
from core.fusion import CANDIDATES, fused_ranking
from core.index import SCHEMA_VERSION, IndexWriting, MemoryIndex, PaperIndex
from core.keys import base_key, clashing_keys, clean_source_key, unique_key
from core.lock import WriteLock
from core.records import (
    EmptyQuery,
    IngestReport,
    Paper,
    PaperciteError,
    ParseFailure,
    ParseWarning,
    StoreUnavailable,
    UnknownKey,
    paper_without_surrogates,
)
from core.search import MAX_RESULTS, Hit, checked_limit, closest_keys
from core.store import KEYS_NEAR, Store, Writer
from core.text import query_terms
from core.vectors import VECTORS_DIR, PaperVectors, compacted, of_another_model

log = logging.getLogger(__name__)
T = TypeVar("T")

STORE_FILE = "papers.sqlite3"
STORE_VARIABLE = "PAPERCITE_STORE"
# In a node's home over a shared store: which store its index was built from (the store's meta).
STORE_ID_FILE = "store-id"
STORE_ID_META = "store_id"
INDEX_DIR = "index"
LOCK_FILE = "write.lock"
SEEDS_VERSION = "1"
SEED_VECTORS = "vectors.npz"
_BATCH = 2000
# Terms one search scores. On ACM-CR paragraphs, 96 chosen by weight × IDF reach recall@10 0.383
# (64: 0.378; 32: 0.357; all, often 150+: 0.384) at a bounded cost per query.
QUERY_TERMS = 96
# Readers look for other processes' writes at most this often.
_REFRESH_SECONDS = 0.5
# Papers embedded per durable step of `embed_pending`: what a kill can cost to embed again.
_EMBED_CHUNK = 128
# An ingest or an addition of at most this many papers embeds them before it returns: at about 130
# abstracts a second on 2 idle cores (65 per CPU-second, docs/benchmarks.md), 15 s; half a minute
# on a busy machine. Larger ones leave it to `papercite embed`.
EMBED_AT_ONCE = 2000
# Papers added from memory (a form, an editor, `papercite add`) embedded before the call returns:
# about a second's work. A harvest's pages (hundreds of records each) wait for `papercite embed`.
_ADDED_EMBEDDED_AT_ONCE = 50

ProgressCallback = Callable[[str, int], None]
# Formats that know a record's real entry type; the others only guess `article`/`misc`.
_TYPED_FORMATS = frozenset({"bibtex", "csl-json", "crossref", "zotero"})


def default_home() -> Path:
    configured = os.environ.get("PAPERCITE_HOME")
    return Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("papercite"))


def default_store() -> str | None:
    """The PostgreSQL URL of the store when `PAPERCITE_STORE` names one (else the home's SQLite file)."""
    return os.environ.get(STORE_VARIABLE) or None


async def open_store(home: Path, url: str | None) -> Store:
    """The store of record: PostgreSQL at `url`, or the SQLite file in `home`."""
    if url is None:
        return await Store.open(home / STORE_FILE)
    from core.store_postgres import PostgresStore  # (psycopg is only imported when asked for)

    return await PostgresStore.open_url(url)


def semantic_default() -> bool:
    """Whether searches use the sentence vectors unless told: PAPERCITE_SEMANTIC=off turns them off."""
    return os.environ.get("PAPERCITE_SEMANTIC", "on").strip().lower() not in {"off", "0", "no", "false"}


def shipped_vectors() -> tuple[list[str], np.ndarray]:
    """The seed corpus's vectors, made when it was packaged: digests of their texts and the rows."""
    shipped_file = resources.files("core") / "data" / "seeds" / SEED_VECTORS
    if not shipped_file.is_file():  # (only while scripts/seed_vectors.py makes it)
        return [], np.zeros((0, DIMENSIONS), dtype=np.float16)
    with shipped_file.open("rb") as handle, np.load(handle) as shipped:
        if "model" not in shipped or str(shipped["model"]) != model_id():
            # Made by another model (the file was not made again when the model changed): a fresh
            # home then embeds its seeds with `papercite embed` rather than mix two models' vectors.
            return [], np.zeros((0, DIMENSIONS), dtype=np.float16)
        return [str(d) for d in shipped["digests"]], np.asarray(shipped["vectors"])


def seed_files() -> list[Path]:
    folder = resources.files("core") / "data" / "seeds"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".txt"))


def merge(existing: Paper, incoming: Paper) -> Paper:
    """The record after `incoming` arrives for `existing`: new values win, blanks never erase."""
    changes: dict[str, Any] = {}
    for name in ("abstract", "authors", "year", "venue", "doi", "url", "arxiv_id", "keywords"):
        value = getattr(incoming, name)
        if value:
            changes[name] = value
    if not incoming.title_derived or existing.title_derived:
        changes["title"] = incoming.title
        changes["title_derived"] = incoming.title_derived
    if incoming.format in _TYPED_FORMATS:
        changes["entry_type"] = incoming.entry_type
    if incoming.extra:
        changes["extra"] = tuple({**dict(existing.extra), **dict(incoming.extra)}.items())
    return existing.replace(**changes, origin="", format="")


def _compatible(existing: Paper, incoming: Paper) -> bool:
    """A title match is not the same paper if their DOIs or arXiv ids disagree."""
    return not (
        (existing.doi and incoming.doi and existing.doi != incoming.doi)
        or (existing.arxiv_id and incoming.arxiv_id and existing.arxiv_id != incoming.arxiv_id)
    )


@dataclass
class _Batch:
    """Identity maps for one batch, so duplicates inside it meet each other before the store does."""

    by_doi: dict[str, Paper]
    by_arxiv: dict[str, Paper]
    by_identity: dict[str, Paper]
    by_title: dict[str, Paper]

    def match(self, paper: Paper) -> Paper | None:
        title = paper.title_identity
        candidates = [
            self.by_doi.get(paper.doi) if paper.doi else None,
            self.by_arxiv.get(paper.arxiv_id) if paper.arxiv_id else None,
            self.by_identity.get(paper.identity),
            # Same title where one side lacks authors (a seed abstract, then its arXiv record).
            self.by_identity.get(title),
            self.by_title.get(title) if not paper.authors else None,
        ]
        for candidate in candidates:
            if candidate is not None and _compatible(candidate, paper):
                return candidate
        return None

    def remember(self, paper: Paper) -> None:
        if paper.doi:
            self.by_doi[paper.doi] = paper
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = paper
        self.by_identity[paper.identity] = paper
        self.by_title[paper.title_identity] = paper


class Library:
    def __init__(self, home: Path, store: Store, index: PaperIndex, *, semantic: bool | None = None) -> None:
        self.home = home
        self.store = store
        self.shared_store = str(store.location) if store.postgres else None
        self.index = index
        self.vectors = PaperVectors(home / VECTORS_DIR)
        # Whether searches re-rank BM25's candidates with the sentence vectors (when there are any).
        self.semantic = semantic_default() if semantic is None else semantic
        self._encoder: Encoder | None = None
        self._pending_queries: dict[str, asyncio.Future[np.ndarray]] = {}
        self._seen_seq = -1
        self._checked_at = 0.0
        self._store_away = False

    # --- opening --------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        home: Path | None = None,
        *,
        seed: bool = True,
        store: str | None = None,
        build_index: bool = True,
        semantic: bool | None = None,
    ) -> Library:
        """Open (creating if needed) a home; a fresh one is filled from the embedded seed corpus.

        With `store` (a postgresql:// URL; default: $PAPERCITE_STORE) the papers live in that
        database and the home keeps only this node's search index. Without `build_index`, the
        caller brings the index up to the store (`sync_index(wait=True)`) before searching."""
        home = home or default_home()
        url = store or default_store()
        try:
            home.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # (mkdir's own words for it: a traceback)
            raise PaperciteError(f"the home {home} is a file; the home must be a folder") from None
        except OSError as error:
            raise PaperciteError(f"cannot make the home folder {home}: {error.strerror or error}") from None
        opened = await open_store(home, url)
        library = cls(home, opened, PaperIndex(home / INDEX_DIR, records=url is not None), semantic=semantic)
        try:
            if url is not None:
                await library._forget_a_foreign_index()
            if seed and await opened.get_meta("seeded") is None:
                await library._seed()
            elif seed and of_another_model(library.vectors.path):
                await library._renew_seed_vectors()
            if build_index:
                await library.sync_index()
        except BaseException:
            await opened.close()
            raise
        return library

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Library:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _forget_a_foreign_index(self) -> None:
        """A node's index over a shared store is rebuilt if it was built from another store (the
        home's own SQLite file, or another database): its change-log positions mean nothing here."""
        store_id = await self.store.get_meta(STORE_ID_META) or ""
        marker = self.home / STORE_ID_FILE
        try:
            known = marker.read_text(encoding="utf-8").strip()
        except OSError:
            known = None
        if known == store_id:
            return
        lock = self._lock("papercite: this node's index was built from another store; rebuilding it")
        await asyncio.to_thread(lock.acquire)
        try:
            PaperIndex.remove_files(self.index.path)
            self.index = PaperIndex(self.index.path, records=self.index.records)
            marker.write_text(store_id + "\n", encoding="utf-8")
        finally:
            lock.release()

    def _lock(self, purpose: str) -> WriteLock:
        return WriteLock(self.home / LOCK_FILE, purpose)

    async def _seed(self) -> None:
        lock = self._lock("papercite: first use, loading the seed corpus")
        await asyncio.to_thread(lock.acquire)
        try:
            if await self.store.get_meta("seeded") is not None:
                return  # another process seeded while we waited
            await self._ingest_locked(
                seed_files(), IngestReport(), None, display_root=Path("seeds"), mark_seeded=True
            )
            await self._embed_shipped_locked()
        finally:
            lock.release()

    async def _renew_seed_vectors(self) -> None:
        """After an upgrade that changed the sentence model, the seed corpus's papers get the
        vectors shipped for it at once; the rest wait for `papercite embed` (they rank by BM25)."""
        lock = self._lock("papercite: the sentence model changed; renewing the seed corpus's vectors")
        await asyncio.to_thread(lock.acquire)
        try:
            if of_another_model(self.vectors.path):
                await self._embed_shipped_locked()
        finally:
            lock.release()

    async def _embed_shipped_locked(self) -> None:
        """The seed corpus's papers get the vectors shipped for them (the model is not run)."""
        digests, rows = shipped_vectors()
        await self._embed_locked(None, known=dict(zip(digests, rows, strict=True)), model=False)

    # --- the index follows the store ----------------------------------------------------------------

    async def sync_index(self, *, wait: bool = False) -> bool:
        """Bring the index up to the store. Returns False if another writer holds the lock."""
        head = await self.store.head_seq()
        if self.index.is_current(head):
            self._seen_seq = head
            return True
        lock = self._lock("papercite: updating the search index")
        if wait:
            await asyncio.to_thread(lock.acquire)
        elif not lock.try_acquire():
            return False
        try:
            await self._catch_up()
        finally:
            lock.release()
        return True

    async def _catch_up(self) -> None:
        """Apply the change log to the index, or rebuild it if it is missing, foreign or too far behind."""
        head = await self.store.head_seq()
        if self.index.is_current(head):
            self._seen_seq = head
            return
        state = self.index.state()
        oldest = await self.store.oldest_change()
        incremental = (
            state is not None
            and state.schema == SCHEMA_VERSION
            and state.seq <= head
            and ((oldest is None and state.seq == head) or (oldest is not None and state.seq >= oldest - 1))
        )
        if incremental:
            assert state is not None
            indexing = self.index.writing()
            try:
                await self._apply_changes(indexing, state.seq, head)
                await asyncio.to_thread(indexing.commit, head)
            finally:
                indexing.rollback()
        else:
            await self.reindex_locked(head)
        await self.store.write(lambda writer: writer.trim_changes(head))
        self._seen_seq = head

    async def _apply_changes(self, indexing: IndexWriting, after: int, upto: int) -> None:
        """Put the papers the change log names in (after, upto] into `indexing` as the store has them now."""
        latest: dict[str, str] = {}
        for _, key, op in await self.store.changes_since(after, upto):
            latest[key] = op
        keys = list(latest)
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            papers = await self.store.get_many([k for k in chunk if latest[k] == "upsert"])
            await asyncio.to_thread(indexing.remove, [k for k in chunk if k not in papers])
            await asyncio.to_thread(indexing.upsert, papers.values())

    async def reindex_locked(self, head: int) -> int:
        """Rebuild the index from the store, as of change `head`, streaming papers into it."""
        state = self.index.state()
        if state is None or state.schema != SCHEMA_VERSION:
            PaperIndex.remove_files(self.index.path)
            self.index = PaperIndex(self.index.path, records=self.index.records)
        indexing = self.index.writing(rebuild=True)
        written = 0
        try:
            async for batch in self.store.iter_papers():
                written += await asyncio.to_thread(indexing.upsert, batch)
            await asyncio.to_thread(indexing.commit, head)
        finally:
            indexing.rollback()
        return written

    async def reindex(self) -> int:
        """Rebuild the index from the store. Returns how many papers it holds."""
        lock = self._lock("papercite reindex")
        await asyncio.to_thread(lock.acquire)
        try:
            head = await self.store.head_seq()
            written = await self.reindex_locked(head)
            await self.store.write(lambda writer: writer.trim_changes(head))
            # The vectors are derived too: rows of removed or changed papers go, missing ones are made.
            await self._compact_vectors_locked()
            if self.semantic:
                await self._embed_locked(None)
            return written
        finally:
            lock.release()

    @property
    def ready(self) -> bool:
        """Whether the index has caught up with the store since this library was opened."""
        return self._seen_seq >= 0

    async def follow(self) -> None:
        """Keep the index current while other nodes write to a shared store, woken by the store's
        announcements (PostgreSQL's NOTIFY); returns at once for a folder's store. Runs until cancelled."""
        async for _ in self.store.announcements():
            with contextlib.suppress(StoreUnavailable):  # the announcements wait for it to come back
                await self.refresh(force=True)

    async def refresh(self, *, force: bool = False) -> None:
        """See papers other processes added: cheap, and at most every half second. While a shared
        store is away, an index that has caught up once goes on answering as it stands."""
        now = time.monotonic()
        if now - self._checked_at < _REFRESH_SECONDS and not force:
            return
        self._checked_at = now
        try:
            head = await self.store.head_seq()
            if head != self._seen_seq:
                await self.sync_index()
                # Whoever wrote the index, this process's searcher must look at the new commit.
                self.index.reload()
                self._seen_seq = head
        except StoreUnavailable as error:
            if not self.ready:
                raise
            self._note_store_away(error)
        else:
            self._store_away = False
        self.vectors.reload()

    def _note_store_away(self, error: StoreUnavailable) -> None:
        if not self._store_away:
            log.warning("%s; answering from this node's index until it is back", error)
            self._store_away = True

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
        only: Iterable[str] | None = None,
    ) -> list[Hit]:
        """The best `k` papers (at most MAX_RESULTS; LimitOutOfRange names a count out of range).

        With sentence vectors in the home, BM25's best CANDIDATES are re-ranked by how close their
        vectors are to that of `meaning` (the text being cited from; a text query is its own), the
        scores then being the fused ones (0 to 1). `semantic=False`, or a library opened without
        it, ranks by BM25 alone. `only` keeps papers with these keys (a digest ranks the papers new
        since the last one)."""
        k = checked_limit(k)
        terms = query_terms(query) if isinstance(query, str) else dict(query)
        if not terms:
            raise EmptyQuery()
        await self.refresh()
        text = meaning if meaning is not None else (query if isinstance(query, str) else "")
        fuse = (self.semantic if semantic is None else semantic) and bool(text.strip()) and self.vectors.count
        ranked = self.index.search(
            terms,
            min(max(k, CANDIDATES), MAX_RESULTS) if fuse else k,
            max_terms=QUERY_TERMS,
            year_from=year_from,
            year_to=year_to,
            author=author,
            exclude=exclude,
            only=only,
        )
        if fuse and ranked:
            try:
                encoder = await self.encoder()
                vector = encoder.cached_query(text)
                if vector is None:
                    vector = await asyncio.to_thread(encoder.encode_query, text)
            except ModelUnavailable:
                # A damaged install: BM25 still answers (the reason was logged once, on loading).
                self.semantic = False
                ranked = ranked[:k]
            else:
                similarity = self.vectors.similarities(vector, [key for key, _ in ranked])
                ranked = fused_ranking(ranked, similarity)[:k]
        keys = [key for key, _ in ranked]
        papers = self.index.papers(keys) if self.index.records else await self.store.get_many(keys)
        hits = [(papers[key], score) for key, score in ranked if key in papers]
        return [Hit(paper, score, rank) for rank, (paper, score) in enumerate(hits, start=1)]

    async def encoder(self) -> Encoder:
        """The sentence model (loaded on first use, off the event loop: it takes a moment).
        ModelUnavailable if it cannot be loaded."""
        if self._encoder is None:
            try:
                self._encoder = await asyncio.to_thread(shared_encoder)
            except ModelUnavailable as error:
                log.warning("%s; ranking by BM25 alone", error)
                raise
        return self._encoder

    async def similarities(self, text: str, keys: Sequence[str], wait: float) -> dict[str, float] | None:
        """Cosine of `text`'s vector with each key's, if it is ready within `wait` seconds; else None,
        while the vector goes on being computed for the next ask (an editor asks again as you type)."""
        if not self.fuses() or not text.strip():
            return None
        encoder = self._encoder
        vector = encoder.cached_query(text) if encoder is not None else None
        if vector is None:
            task = self._pending_queries.get(text)
            if task is None:
                task = asyncio.ensure_future(self._encode_query(text))
                self._pending_queries[text] = task
                task.add_done_callback(lambda _: self._pending_queries.pop(text, None))
            try:
                vector = await asyncio.wait_for(asyncio.shield(task), wait)
            except asyncio.TimeoutError:
                return None
            except ModelUnavailable:
                self.semantic = False
                return None
        return self.vectors.similarities(vector, keys)

    async def _encode_query(self, text: str) -> np.ndarray:
        encoder = await self.encoder()
        return await asyncio.to_thread(encoder.encode_query, text)

    def fuses(self) -> bool:
        """Whether a search with a citing text re-ranks by sentence vectors now."""
        return self.semantic and self.vectors.count > 0

    def search_outside(self, terms: Mapping[str, float], papers: MemoryIndex, k: int) -> dict[str, float]:
        """Scores of the best `k` papers outside the library, by the query `search` runs, so that
        they rank among its hits (see `MemoryIndex`)."""
        k = checked_limit(k)
        return dict(papers.search(self.index.most_informative(terms, QUERY_TERMS), k, self.index))

    async def get(self, key: str) -> Paper:
        paper = await self.find(key)
        if paper is None:
            raise UnknownKey(key, await self.suggest_keys(key))
        return paper

    async def find(self, key: str) -> Paper | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Paper]:
        return await self._from_store_or_index(self.store.get_many(keys), lambda: self.index.papers(keys))

    async def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]:
        return await self._from_store_or_index(
            self.store.keys_with_prefix(prefix, limit), lambda: self.index.keys_with_prefix(prefix, limit)
        )

    async def keys_near(self, key: str) -> list[str]:
        """Keys sharing the first letters of `key`: the pool for "did you mean"."""
        return await self._from_store_or_index(
            self.store.keys_near(key), lambda: sorted(self.index.keys_with_prefix(key[:2], KEYS_NEAR))
        )

    async def _from_store_or_index(self, asked: Awaitable[T], from_index: Callable[[], T]) -> T:
        """What the store answers; while a shared store is away, what the index knows of it."""
        try:
            return await asked
        except StoreUnavailable as error:
            if not (self.ready and self.index.records):
                raise
            self._note_store_away(error)
            return from_index()

    async def change_marker(self) -> int:
        """A number that moves whenever papers are added, changed or removed (by any process)."""
        return await self.store.head_seq()

    def word_statistics(self, terms: Iterable[str]) -> tuple[int, dict[str, int]]:
        """(papers, papers holding each term): what a client needs to score its own papers among ours."""
        statistics = self.index.statistics(terms)
        return statistics.documents, dict(statistics.doc_freq)

    async def key_of(self, paper: Paper) -> str | None:
        """The key under which the library holds `paper` (by arXiv id, DOI, then title and author)."""
        for column, value in (("arxiv_id", paper.arxiv_id), ("doi", paper.doi), ("identity", paper.identity)):
            if value:
                key = await self.store.scalar(f"SELECT key FROM papers WHERE {column} = ?", (value,))
                if key:
                    return str(key)
        return None

    async def suggest_keys(self, key: str, limit: int = 3) -> list[str]:
        return closest_keys(key, await self.keys_near(key), limit)

    async def count(self) -> int:
        """How many papers the store holds: what a health check asks, cheaper than stats()."""
        return await self.store.count()

    async def stats(self) -> dict[str, Any]:
        stats = await self.store.stats()
        stats["home"] = str(self.home)
        stats["store"] = self.store.where
        stats["indexed"] = self.index.num_docs
        stats["vectors"] = await self._vectors_of_papers()
        return stats

    async def _vectors_of_papers(self) -> int:
        """Papers in the store that have a vector (one removed since may still have a row)."""
        with_vectors = self.vectors.digests()
        if not with_vectors:
            return 0
        return len(with_vectors.keys() & await self.store.keys_with_prefix(""))

    # --- sentence vectors -----------------------------------------------------------------------

    async def embed_pending(
        self, progress: Callable[[int, int], None] | None = None, *, rebuild: bool = False
    ) -> int:
        """Give every paper without a current vector one (`rebuild`: every paper a new one).

        Durable in steps of a few hundred papers: a kill loses at most the step it was in, and the
        next run goes on from there. `progress(done, total)` follows it. Returns papers embedded."""
        lock = self._lock("papercite embed")
        await asyncio.to_thread(lock.acquire)
        try:
            if rebuild:
                PaperVectors.remove_files(self.vectors.path)
                self.vectors = PaperVectors(self.vectors.path)
            return await self._embed_locked(progress)
        finally:
            lock.release()

    async def _embed_locked(
        self,
        progress: Callable[[int, int], None] | None,
        *,
        known: Mapping[str, np.ndarray] | None = None,
        model: bool = True,
        only: Sequence[Paper] | None = None,
    ) -> int:
        """Vectors for the papers lacking a current one; `known` (digest → vector) spares the model
        those it holds, and without `model` only those are written."""
        self.vectors.reload()
        have = self.vectors.digests()
        pending: list[tuple[str, str, str]] = []  # key, digest, text
        batches = self.store.iter_papers() if only is None else _one_batch(only)
        async for batch in batches:
            for paper in batch:
                text = paper_text(paper)
                digest = text_digest(text)
                if have.get(paper.key) != digest:
                    pending.append((paper.key, digest, text))
        if not pending:
            return 0
        if progress:
            progress(0, len(pending))
        appender = self.vectors.appending()
        encoder = (
            await self.encoder() if model and any(d not in (known or {}) for _, d, _ in pending) else None
        )
        done = 0
        for start in range(0, len(pending), _EMBED_CHUNK):
            chunk = pending[start : start + _EMBED_CHUNK]
            ready = [(key, digest, (known or {}).get(digest)) for key, digest, _ in chunk]
            missing = [i for i, (_, _, vector) in enumerate(ready) if vector is None]
            rows = np.zeros((len(chunk), DIMENSIONS), dtype=np.float32)
            for i, (_, _, vector) in enumerate(ready):
                if vector is not None:
                    rows[i] = vector
            if missing and encoder is not None:
                rows[missing] = await asyncio.to_thread(encoder.encode, [chunk[i][2] for i in missing])
            elif missing:
                keep = [i for i in range(len(chunk)) if i not in set(missing)]
                chunk, rows = [chunk[i] for i in keep], rows[keep]
            await asyncio.to_thread(appender.add, [c[0] for c in chunk], [c[1] for c in chunk], rows)
            done += len(chunk)
            if progress:
                progress(done, len(pending))
        self.vectors.reload()
        return done

    async def _compact_vectors_locked(self) -> int:
        """Drop the rows of removed papers and of texts that changed since they were embedded."""
        live: dict[str, str] = {}
        async for batch in self.store.iter_papers():
            for paper in batch:
                live[paper.key] = text_digest(paper_text(paper))
        kept = await asyncio.to_thread(compacted, self.vectors.path, live)
        self.vectors = PaperVectors(self.vectors.path)
        return kept

    # --- writing --------------------------------------------------------------------------------

    async def remove(self, keys: Sequence[str]) -> list[str]:
        lock = self._lock("papercite remove")
        await asyncio.to_thread(lock.acquire)
        try:
            found = await self.store.get_many(keys)
            for key in keys:
                if key not in found:
                    raise UnknownKey(key, await self.suggest_keys(key))

            def work(writer: Writer, indexing: IndexWriting) -> None:
                writer.remove(list(found))
                indexing.remove(found)

            await self._write(work)
            return list(found)
        finally:
            lock.release()

    async def withdraw(self, origins: Sequence[str], *, meta: Mapping[str, str] | None = None) -> list[str]:
        """Forget that papers came from `origins` (a source that deleted them); those no other
        source holds leave the library. The keys removed; `meta` is stored in the same transaction."""
        lock = self._lock("papercite withdraw")
        await asyncio.to_thread(lock.acquire)
        try:
            removed: list[str] = []

            def work(writer: Writer, indexing: IndexWriting) -> None:
                removed.extend(writer.withdraw(origins))
                writer.remove(removed)
                indexing.remove(removed)
                for name, value in (meta or {}).items():
                    writer.set_meta(name, value)

            await self._write(work)
            return removed
        finally:
            lock.release()

    async def ingest(
        self,
        paths: Sequence[Path],
        progress: ProgressCallback | None = None,
        *,
        shown_as: Mapping[Path, str] | None = None,
    ) -> IngestReport:
        """Read every file (folders recursively) into the store in one transaction, and index it.

        A file that cannot be read is reported and skipped; the rest goes through. `shown_as` names
        files in reports and provenance by another name (an upload, kept in a temporary file).
        """
        lock = self._lock(f"papercite ingest {' '.join(str(p) for p in paths)}"[:200])
        await asyncio.to_thread(lock.acquire)
        try:
            report = IngestReport()
            files: list[Path] = []
            for path in paths:
                if not path.exists():
                    report.failed.append(ParseFailure(str(path), 0, "no such file or folder"))
                elif path.is_dir():
                    # Inside a folder, notes and images are passed over; a file named outright must be data.
                    for found in find_files([path]):
                        (files if is_bibliographic(found) else report.skipped).append(found)
                elif not path.is_file():
                    # Opening a pipe would wait for a writer forever; a device may never end.
                    reason = (
                        "not a regular file (a pipe, socket or device); papercite reads files and folders"
                    )
                    report.failed.append(ParseFailure(str(path), 0, reason))
                else:
                    files.append(path)
            await self._ingest_locked(files, report, progress, shown_as=shown_as)
            return report
        finally:
            lock.release()

    async def add_papers(
        self, papers: Sequence[Paper], *, meta: Mapping[str, str] | None = None
    ) -> IngestReport:
        """Add records built in memory (the Slack modal, an editor); same identity rules as files.

        `meta` values are stored in the same transaction: a harvest keeps its resumption point
        with the batch it belongs to, so a kill between the two cannot lose or repeat records.
        """
        lock = self._lock("papercite add")
        await asyncio.to_thread(lock.acquire)
        try:
            report = IngestReport()
            # Papers built in memory (a form, an editor) may hold lone surrogates, which no store can.
            clean = [paper_without_surrogates(paper) for paper in papers]

            def work(writer: Writer, indexing: IndexWriting) -> None:
                _merge_batch(writer, indexing, clean, report)
                for name, value in (meta or {}).items():
                    writer.set_meta(name, value)

            await self._write(work)
            report.settle()
            # A few papers from a form or an editor: their vectors are made at once, if the home has any
            # (a harvest's pages wait for `papercite embed`).
            changed_count = len(report.added) + len(report.updated)
            if self.fuses() and 0 < changed_count <= _ADDED_EMBEDDED_AT_ONCE:
                changed = await self.store.get_many([*report.added, *report.updated])
                await self._embed_locked(None, only=list(changed.values()))
            return report
        finally:
            lock.release()

    async def _ingest_locked(
        self,
        files: Sequence[Path],
        report: IngestReport,
        progress: ProgressCallback | None,
        *,
        display_root: Path | None = None,
        shown_as: Mapping[Path, str] | None = None,
        mark_seeded: bool = False,
    ) -> None:
        def work(writer: Writer, indexing: IndexWriting) -> None:
            displays = [
                str(display_root / f.name) if display_root else (shown_as or {}).get(f) for f in files
            ]
            for shown, items in read_pieces(files, displays):
                batch: list[Paper] = []
                for item in items:
                    if isinstance(item, ParseFailure):
                        report.failed.append(item)
                        continue
                    if isinstance(item, ParseWarning):
                        report.warnings.append(item)
                        continue
                    batch.append(item)
                    if len(batch) >= _BATCH:
                        writer.checkpoint()
                        _merge_batch(writer, indexing, batch, report)
                        if progress:
                            progress(shown, len(batch))
                        batch = []
                _merge_batch(writer, indexing, batch, report)
                if progress:
                    progress(shown, len(batch))
            if mark_seeded:
                writer.set_meta("seeded", SEEDS_VERSION)

        await self._write(work)
        report.settle()

    async def _write(self, work: Callable[[Writer, IndexWriting], None]) -> None:
        """`work` in one store transaction, its changes streamed into the index as it goes. The index
        commits after the store: a crash between the two leaves it behind, and the next opener
        catches up from the change log."""
        await self._catch_up()
        applied = self._seen_seq
        indexing = await asyncio.to_thread(self.index.writing)

        def in_transaction(writer: Writer) -> tuple[int, int]:
            before = writer.head()
            work(writer, indexing)
            return before, writer.head()

        try:
            before, head = await self.store.write(in_transaction)
            if before > applied:
                # Another node wrote to the shared store after this one caught up: its changes go
                # into this commit too, or the index would say it holds them.
                await self._apply_changes(indexing, applied, before)
            await asyncio.to_thread(indexing.commit, head)
        finally:
            indexing.rollback()
        await self.store.write(lambda writer: writer.trim_changes(head))
        self._seen_seq = head


async def _one_batch(papers: Sequence[Paper]) -> AsyncIterator[Sequence[Paper]]:
    yield papers


def _wanted_key(paper: Paper) -> str:
    """The key a new paper asks for: the source's, else `authorYEARword` or a short name."""
    return clean_source_key(paper.key) or base_key(paper)


def _merge_batch(writer: Writer, indexing: IndexWriting, batch: list[Paper], report: IngestReport) -> None:
    """Match each record to a known paper (DOI, arXiv id, title + first author) or key it anew."""
    if not batch:
        return
    identities = [p.identity for p in batch] + [p.title_identity for p in batch]
    by_title: dict[str, Paper] = {}
    for paper in batch:
        if not paper.authors:
            title = paper.title_identity
            found = writer.find_by_title(title)
            if found is not None:
                by_title[title] = found
    known = _Batch(
        by_doi=writer.find_by("doi", [p.doi for p in batch]),
        by_arxiv=writer.find_by("arxiv_id", [p.arxiv_id for p in batch]),
        by_identity=writer.find_by("identity", identities),
        by_title=by_title,
    )
    # Only papers the store does not know yet may need a key (a re-ingest needs none).
    wanted = [None if known.match(p) else _wanted_key(p) for p in batch]
    taken = clashing_keys([key for key in wanted if key], writer.taken, writer.keys_with_prefix)

    current: dict[str, Paper] = {}  # each touched paper as it stands after this batch
    before: dict[str, Paper] = {}  # papers already stored, as they were
    added: list[str] = []
    provenance: list[tuple[str, str, str]] = []
    for paper, wanted_key in zip(batch, wanted, strict=True):
        match = known.match(paper)
        if match is None:
            if wanted_key is None:  # it matched a stored paper that an earlier record here has changed
                wanted_key = _wanted_key(paper)
                taken |= clashing_keys([wanted_key], writer.taken, writer.keys_with_prefix)
            key = unique_key(wanted_key, taken.__contains__)
            taken.add(key)
            record = paper.replace(key=key, origin="", format="")
            added.append(key)
        else:
            key = match.key
            if key not in added:
                before.setdefault(key, match)
            record = merge(current.get(key, match), paper)
        current[key] = record
        known.remember(record)
        provenance.append((key, paper.origin, paper.format))

    updated = [key for key, old in before.items() if current[key] != old]
    writer.insert([current[key] for key in added])
    writer.update([current[key] for key in updated])
    writer.add_provenance(provenance)
    indexing.upsert((current[key] for key in added), new=True)
    indexing.upsert(current[key] for key in updated)
    report.added.extend(added)
    report.updated.extend(updated)
    report.unchanged.extend(key for key, old in before.items() if current[key] == old)
