"""The store: SQLite, the system of record for papers, keys and provenance.

Readers use aiosqlite. Writes run as one function over a plain connection on a thread of their own
(`Store.write`), in one transaction: an ingest is thousands of statements, and a thread hop per
statement would cost more than SQLite itself. A write killed half-way leaves the file as it was.
WAL mode lets editors and the bot read while one process writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from core.dialect import no_limit
from core.migrations import MIGRATIONS
from core.records import Paper

PAPER_COLUMNS = (
    "key, title, abstract, authors, year, venue, doi, url, arxiv_id, keywords, entry_type, "
    "title_derived, extra"
)
_BUSY_TIMEOUT_MS = 30_000
_PRAGMAS = (
    f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
    # A large ingest is one transaction; its index pages must stay in memory, not be re-read.
    "PRAGMA cache_size = -131072",
)
_KEYS_WITH_PREFIX = "SELECT key FROM papers WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"
T = TypeVar("T")
# The pool "did you mean" picks from: keys sharing a key's first letters.
KEYS_NEAR = 2000
# SQLite's default limit on `?` parameters in one statement is 32766; stay well below it.
_CHUNK = 900


def _row_to_paper(row: Sequence[Any]) -> Paper:
    return Paper(
        key=row[0],
        title=row[1],
        abstract=row[2],
        authors=tuple(json.loads(row[3])),
        year=row[4],
        venue=row[5],
        doi=row[6],
        url=row[7],
        arxiv_id=row[8],
        keywords=tuple(json.loads(row[9])),
        entry_type=row[10],
        title_derived=bool(row[11]),
        extra=tuple((name, value) for name, value in json.loads(row[12])),
    )


# One encoder for every row: json.dumps with options builds a new one per call.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


def _json_list(items: Sequence[Any]) -> str:
    return _encode_json(items) if items else "[]"


def paper_values(paper: Paper) -> tuple[Any, ...]:
    return (
        paper.key,
        paper.title,
        paper.abstract,
        _json_list(paper.authors),
        paper.year,
        paper.venue,
        paper.doi,
        paper.url,
        paper.arxiv_id,
        _json_list(paper.keywords),
        paper.entry_type,
        int(paper.title_derived),
        _json_list(paper.extra),
        paper.identity,
    )


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _split_statements(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s.strip(" ;\n")]


class Store:
    """The SQLite store in a home folder; `core.store_postgres.PostgresStore` is the same over PostgreSQL."""

    postgres = False

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @property
    def where(self) -> str:
        """The store as messages name it (a PostgreSQL URL without its password)."""
        return str(self.path)

    @property
    def location(self) -> Path | str:
        """What opens this store again: the SQLite file's path, or the PostgreSQL URL."""
        return self.path

    @classmethod
    async def open(cls, path: Path) -> Store:
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        for pragma in _PRAGMAS:
            await connection.execute(pragma)
        store = cls(connection, path)
        await store.migrate()
        return store

    async def close(self) -> None:
        await self._db.close()

    # --- schema ---------------------------------------------------------------------------------

    async def applied_migrations(self) -> list[str]:
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
        )
        async with self._db.execute("SELECT name FROM schema_migrations ORDER BY name") as cursor:
            return [row[0] async for row in cursor]

    async def migrate(self) -> list[str]:
        """Apply the migrations this file lacks, each in its own transaction. Returns their names."""
        applied = set(await self.applied_migrations())
        newly = []
        for name, script in MIGRATIONS:
            if name in applied:
                continue
            async with self.transaction():
                # Another process may have applied it while we waited for the write lock.
                async with self._db.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)) as cur:
                    if await cur.fetchone():
                        continue
                for statement in _split_statements(script):
                    await self._db.execute(statement)
                await self._db.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
                newly.append(name)
        return newly

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A write transaction on the reading connection, for migrations; papers change in `write`."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    # --- reading --------------------------------------------------------------------------------
    # Every read goes through `_rows`, which the PostgreSQL store implements in its own words.

    async def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Sequence[Any]]:
        async with self._db.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def get(self, key: str) -> Paper | None:
        rows = await self._rows(f"SELECT {PAPER_COLUMNS} FROM papers WHERE key = ?", (key,))
        return _row_to_paper(rows[0]) if rows else None

    async def get_many(self, keys: Sequence[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for row in await self._rows(f"SELECT {PAPER_COLUMNS} FROM papers WHERE key IN ({marks})", chunk):
                found[row[0]] = _row_to_paper(row)
        return found

    async def count(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM papers") or 0)

    async def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        rows = await self._rows(sql, parameters)
        return rows[0][0] if rows else None

    async def announcements(self) -> AsyncIterator[None]:
        """Yields whenever another process may have written. A folder's store has no such news:
        its readers look at the change log when they search (`Library.refresh`)."""
        return
        yield None

    async def head_seq(self) -> int:
        """The newest change-log position; every write moves it forward."""
        value = await self.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        return int(value or 0)

    async def changes_since(self, seq: int, upto: int | None = None) -> list[tuple[int, str, str]]:
        """The change log after `seq` (up to `upto` when given), oldest first."""
        last = upto if upto is not None else (1 << 62)
        rows = await self._rows(
            "SELECT seq, key, op FROM changes WHERE seq > ? AND seq <= ? ORDER BY seq", (seq, last)
        )
        return [(int(row[0]), row[1], row[2]) for row in rows]

    async def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row a read gives: for the small tables beside the papers (follows, leases)."""
        return [tuple(row) for row in await self._rows(sql, parameters)]

    async def oldest_change(self) -> int | None:
        value = await self.scalar("SELECT min(seq) FROM changes")
        return int(value) if value is not None else None

    async def iter_papers(self, batch: int = 5000) -> AsyncIterator[list[Paper]]:
        last = ""
        while True:
            rows = await self._rows(
                f"SELECT {PAPER_COLUMNS} FROM papers WHERE key > ? ORDER BY key LIMIT ?", (last, batch)
            )
            if not rows:
                return
            yield [_row_to_paper(row) for row in rows]
            last = rows[-1][0]

    async def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]:
        """Keys starting with `prefix`, the first `limit` of them in key order (-1: all)."""
        count = limit if limit >= 0 else no_limit(self.postgres)
        return {row[0] for row in await self._rows(_KEYS_WITH_PREFIX, (prefix, prefix + "\U0010ffff", count))}

    async def get_meta(self, name: str) -> str | None:
        value = await self.scalar("SELECT value FROM meta WHERE name = ?", (name,))
        return str(value) if value is not None else None

    async def keys_near(self, key: str, limit: int = KEYS_NEAR) -> list[str]:
        """Keys sharing the first letters of `key`: the pool for "did you mean"."""
        prefix = key[:2]
        rows = await self._rows(
            "SELECT key FROM papers WHERE key >= ? AND key < ? LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [row[0] for row in rows]

    async def stats(self) -> dict[str, Any]:
        rows = await self._rows(
            "SELECT count(*), min(year), max(year), count(*) FILTER (WHERE abstract != ''), "
            "count(*) FILTER (WHERE doi != ''), count(*) FILTER (WHERE arxiv_id != '') FROM papers"
        )
        row = rows[0]
        formats = {
            name: int(count)
            for name, count in await self._rows(
                "SELECT format, count(DISTINCT key) FROM provenance GROUP BY format ORDER BY 2 DESC, 1"
            )
        }
        return {
            "papers": int(row[0]),
            "with_abstract": int(row[3] or 0),
            "with_doi": int(row[4] or 0),
            "with_arxiv_id": int(row[5] or 0),
            "years": [row[1], row[2]] if row[1] is not None else None,
            "formats": formats,
        }

    # --- writing --------------------------------------------------------------------------------

    async def write(self, work: Callable[[Writer], T]) -> T:
        """`work(writer)` in one transaction on a thread of its own: committed if it returns, rolled
        back if it raises. Cancelling the caller (Ctrl-C) stops the work at its next `checkpoint`."""
        stop = threading.Event()
        job = asyncio.ensure_future(asyncio.to_thread(Writer.run, self.path, work, stop))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(BaseException):
                await job  # the rollback finishes before the cancellation goes on
            raise


class WriteCancelled(Exception):
    """Raised inside a write whose caller was cancelled, to roll it back."""


class Writer:
    """The write side of the store: a plain connection inside one transaction (see `Store.write`)."""

    postgres = False

    def __init__(self, connection: Any, stop: threading.Event) -> None:
        self._db = connection
        self._stop = stop

    @classmethod
    def run(cls, path: Path, work: Callable[[Writer], T], stop: threading.Event) -> T:
        connection = sqlite3.connect(str(path), isolation_level=None)
        try:
            for pragma in _PRAGMAS:
                connection.execute(pragma)
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(cls(connection, stop))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result
        finally:
            connection.close()

    # The statements below go through these three, which the PostgreSQL writer implements.

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> Iterable[Sequence[Any]]:
        return self._db.execute(sql, tuple(parameters))

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return self._db.execute(sql, tuple(parameters)).rowcount

    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def copy_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`sql` once per row of `rows`: whole tables copied between stores (core/move_store.py)."""
        self._execute_many(sql, rows)

    def head(self) -> int:
        """The newest change-log position, as this transaction sees it."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return int(row[0]) if row else 0

    def checkpoint(self) -> None:
        """Give up (and roll back) here if the caller has been cancelled."""
        if self._stop.is_set():
            raise WriteCancelled()

    def find_by(self, column: str, values: Iterable[str]) -> dict[str, Paper]:
        """Papers whose `column` (doi, arxiv_id or identity) is one of `values`, by that value."""
        assert column in {"doi", "arxiv_id", "identity"}
        found: dict[str, Paper] = {}
        for chunk in _chunks(sorted({v for v in values if v})):
            marks = ",".join("?" * len(chunk))
            # `!= ''` lets SQLite use the partial indexes on doi and arxiv_id (else: a full scan).
            sql = (
                f"SELECT {PAPER_COLUMNS}, {column} FROM papers WHERE {column} IN ({marks}) AND {column} != ''"
            )
            for row in self._query(sql, chunk):
                found.setdefault(row[-1], _row_to_paper(row))
        return found

    def find_by_title(self, title_identity: str) -> Paper | None:
        """The first paper with this title identity, whoever its authors are."""
        rows = list(
            self._query(
                f"SELECT {PAPER_COLUMNS} FROM papers WHERE identity >= ? AND identity < ? LIMIT 1",
                (title_identity, title_identity + "\U0010ffff"),
            )
        )
        return _row_to_paper(rows[0]) if rows else None

    def taken(self, keys: Iterable[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in _chunks(sorted(set(keys))):
            marks = ",".join("?" * len(chunk))
            taken.update(
                row[0] for row in self._query(f"SELECT key FROM papers WHERE key IN ({marks})", chunk)
            )
        return taken

    def keys_with_prefix(self, prefix: str) -> set[str]:
        everything = no_limit(self.postgres)
        return {row[0] for row in self._query(_KEYS_WITH_PREFIX, (prefix, prefix + "\U0010ffff", everything))}

    def _append(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """New rows into `table`: what an ingest writes most (PostgreSQL's writer uses COPY)."""
        marks = ",".join("?" * len(columns.split(",")))
        self._execute_many(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    def reset_sequence(self, table: str) -> None:
        """After rows were copied in with their `seq`, new rows number on from the largest (SQLite's
        AUTOINCREMENT does so by itself)."""

    def insert(self, papers: Sequence[Paper]) -> None:
        self._append("papers", f"{PAPER_COLUMNS}, identity", [paper_values(p) for p in papers])
        self._log_changes([p.key for p in papers], "upsert")
        self._append("arrivals", "key", [(p.key,) for p in papers])

    def update(self, papers: Sequence[Paper]) -> None:
        self._execute_many(
            "UPDATE papers SET title = ?, abstract = ?, authors = ?, year = ?, venue = ?, doi = ?, "
            "url = ?, arxiv_id = ?, keywords = ?, entry_type = ?, title_derived = ?, extra = ?, "
            "identity = ?, updated_at = datetime('now') WHERE key = ?",
            [(*paper_values(p)[1:], p.key) for p in papers],
        )
        self._log_changes([p.key for p in papers], "upsert")

    def add_provenance(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """(key, origin, format) rows; a paper seen again at the same origin is noted once."""
        self._execute_many(
            "INSERT INTO provenance (key, origin, format) VALUES (?, ?, ?) "
            "ON CONFLICT (key, origin) DO UPDATE SET seen_at = datetime('now'), format = excluded.format",
            rows,
        )

    def withdraw(self, origins: Sequence[str]) -> list[str]:
        """Forget that papers came from `origins`; the keys of those that now come from nowhere."""
        touched: set[str] = set()
        for chunk in _chunks(sorted(set(origins))):
            marks = ",".join("?" * len(chunk))
            touched.update(
                row[0] for row in self._query(f"SELECT key FROM provenance WHERE origin IN ({marks})", chunk)
            )
            self._execute(f"DELETE FROM provenance WHERE origin IN ({marks})", chunk)
        orphans: list[str] = []
        for chunk in _chunks(sorted(touched)):
            marks = ",".join("?" * len(chunk))
            orphans += [
                row[0]
                for row in self._query(
                    f"SELECT key FROM papers WHERE key IN ({marks}) "
                    "AND NOT EXISTS (SELECT 1 FROM provenance WHERE provenance.key = papers.key)",
                    chunk,
                )
            ]
        return orphans

    def remove(self, keys: Sequence[str]) -> None:
        self._execute_many("DELETE FROM papers WHERE key = ?", [(k,) for k in keys])
        self._log_changes(keys, "remove")

    def _log_changes(self, keys: Sequence[str], op: str) -> None:
        self._append("changes", "key, op", [(k, op) for k in keys])

    def trim_changes(self, upto: int) -> None:
        """Forget changes the index has applied. (sqlite_sequence keeps seq rising.)"""
        self._execute("DELETE FROM changes WHERE seq <= ?", (upto,))

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """One statement on the small tables beside the papers; how many rows it changed."""
        return int(self._execute(sql, parameters))

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._query(sql, parameters)]

    def set_meta(self, name: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
