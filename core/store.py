"""The store: SQLite through aiosqlite, the system of record for papers, keys and provenance.

Writes happen in explicit transactions (`async with store.transaction()`), so an ingest killed
half-way leaves the file as it was. WAL mode lets editors and the bot read while one process writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from core.migrations import MIGRATIONS
from core.records import Paper, identity_of

_COLUMNS = (
    "key, title, abstract, authors, year, venue, doi, url, arxiv_id, keywords, entry_type, "
    "title_derived, extra"
)
_BUSY_TIMEOUT_MS = 30_000
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


def _paper_values(paper: Paper) -> tuple[Any, ...]:
    return (
        paper.key,
        paper.title,
        paper.abstract,
        json.dumps(list(paper.authors), ensure_ascii=False),
        paper.year,
        paper.venue,
        paper.doi,
        paper.url,
        paper.arxiv_id,
        json.dumps(list(paper.keywords), ensure_ascii=False),
        paper.entry_type,
        int(paper.title_derived),
        json.dumps([list(pair) for pair in paper.extra], ensure_ascii=False),
        identity_of(paper),
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
    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Store:
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        await connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute("PRAGMA synchronous = NORMAL")
        # A large ingest is one transaction; its index pages must stay in memory, not be re-read.
        await connection.execute("PRAGMA cache_size = -131072")
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
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    # --- reading --------------------------------------------------------------------------------

    async def get(self, key: str) -> Paper | None:
        async with self._db.execute(f"SELECT {_COLUMNS} FROM papers WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return _row_to_paper(row) if row else None

    async def get_many(self, keys: Sequence[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                f"SELECT {_COLUMNS} FROM papers WHERE key IN ({marks})", tuple(chunk)
            ) as cursor:
                async for row in cursor:
                    found[row[0]] = _row_to_paper(row)
        return found

    async def count(self) -> int:
        async with self._db.execute("SELECT count(*) FROM papers") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        async with self._db.execute(sql, tuple(parameters)) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def head_seq(self) -> int:
        """The newest change-log position; every write moves it forward."""
        value = await self.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        return int(value or 0)

    async def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        async with self._db.execute(
            "SELECT seq, key, op FROM changes WHERE seq > ? ORDER BY seq", (seq,)
        ) as cursor:
            return [(int(row[0]), row[1], row[2]) async for row in cursor]

    async def oldest_change(self) -> int | None:
        value = await self.scalar("SELECT min(seq) FROM changes")
        return int(value) if value is not None else None

    async def iter_papers(self, batch: int = 5000) -> AsyncIterator[list[Paper]]:
        last = ""
        while True:
            async with self._db.execute(
                f"SELECT {_COLUMNS} FROM papers WHERE key > ? ORDER BY key LIMIT ?", (last, batch)
            ) as cursor:
                rows = list(await cursor.fetchall())
            if not rows:
                return
            yield [_row_to_paper(row) for row in rows]
            last = rows[-1][0]

    async def keys_near(self, key: str, limit: int = 2000) -> list[str]:
        """Keys sharing the first letters of `key`: the pool for "did you mean"."""
        prefix = key[:2]
        async with self._db.execute(
            "SELECT key FROM papers WHERE key >= ? AND key < ? LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        ) as cursor:
            return [row[0] async for row in cursor]

    async def stats(self) -> dict[str, Any]:
        async with self._db.execute(
            "SELECT count(*), min(year), max(year), sum(abstract != ''), sum(doi != ''), "
            "sum(arxiv_id != '') FROM papers"
        ) as cursor:
            row = await cursor.fetchone()
        async with self._db.execute(
            "SELECT format, count(DISTINCT key) FROM provenance GROUP BY format ORDER BY 2 DESC"
        ) as cursor:
            formats = {name: count async for name, count in cursor}
        assert row is not None
        return {
            "papers": int(row[0]),
            "with_abstract": int(row[3] or 0),
            "with_doi": int(row[4] or 0),
            "with_arxiv_id": int(row[5] or 0),
            "years": [row[1], row[2]] if row[1] is not None else None,
            "formats": formats,
        }

    # --- writing (inside `transaction()`) ---------------------------------------------------------

    async def find_by(self, column: str, values: Sequence[str]) -> dict[str, Paper]:
        """Papers whose `column` (doi, arxiv_id or identity) is one of `values`, by that value."""
        assert column in {"doi", "arxiv_id", "identity"}
        found: dict[str, Paper] = {}
        wanted = sorted({v for v in values if v})
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                # `!= ''` lets SQLite use the partial indexes on doi and arxiv_id (else: a full scan).
                f"SELECT {_COLUMNS}, {column} FROM papers WHERE {column} IN ({marks}) AND {column} != ''",
                tuple(chunk),
            ) as cursor:
                async for row in cursor:
                    found.setdefault(row[-1], _row_to_paper(row))
        return found

    async def find_by_title(self, title_identity: str) -> dict[str, Paper]:
        """The first paper with this title, whoever its authors are, keyed by the title identity."""
        async with self._db.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE identity >= ? AND identity < ? LIMIT 1",
            (title_identity, title_identity + "\U0010ffff"),
        ) as cursor:
            row = await cursor.fetchone()
        return {title_identity: _row_to_paper(row)} if row else {}

    async def taken(self, keys: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in _chunks(sorted(set(keys))):
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                f"SELECT key FROM papers WHERE key IN ({marks})", tuple(chunk)
            ) as cursor:
                taken.update([row[0] async for row in cursor])
        return taken

    async def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]:
        """Keys starting with `prefix`, the first `limit` of them in key order (-1: all)."""
        async with self._db.execute(
            "SELECT key FROM papers WHERE key >= ? AND key < ? ORDER BY key LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        ) as cursor:
            return {row[0] async for row in cursor}

    async def insert(self, papers: Sequence[Paper]) -> None:
        await self._db.executemany(
            f"INSERT INTO papers ({_COLUMNS}, identity) VALUES ({','.join('?' * 14)})",
            [_paper_values(p) for p in papers],
        )
        await self._log_changes([p.key for p in papers], "upsert")

    async def update(self, papers: Sequence[Paper]) -> None:
        await self._db.executemany(
            "UPDATE papers SET title = ?, abstract = ?, authors = ?, year = ?, venue = ?, doi = ?, "
            "url = ?, arxiv_id = ?, keywords = ?, entry_type = ?, title_derived = ?, extra = ?, "
            "identity = ?, updated_at = datetime('now') WHERE key = ?",
            [(*_paper_values(p)[1:], p.key) for p in papers],
        )
        await self._log_changes([p.key for p in papers], "upsert")

    async def add_provenance(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """(key, origin, format) rows; a paper seen again at the same origin is noted once."""
        await self._db.executemany(
            "INSERT INTO provenance (key, origin, format) VALUES (?, ?, ?) "
            "ON CONFLICT (key, origin) DO UPDATE SET seen_at = datetime('now'), format = excluded.format",
            rows,
        )

    async def remove(self, keys: Sequence[str]) -> None:
        await self._db.executemany("DELETE FROM papers WHERE key = ?", [(k,) for k in keys])
        await self._log_changes(keys, "remove")

    async def _log_changes(self, keys: Sequence[str], op: str) -> None:
        await self._db.executemany("INSERT INTO changes (key, op) VALUES (?, ?)", [(k, op) for k in keys])

    async def trim_changes(self, upto: int) -> None:
        """Forget changes the index has applied. (sqlite_sequence keeps seq rising.)"""
        await self._db.execute("DELETE FROM changes WHERE seq <= ?", (upto,))

    async def get_meta(self, name: str) -> str | None:
        value = await self.scalar("SELECT value FROM meta WHERE name = ?", (name,))
        return str(value) if value is not None else None

    async def set_meta(self, name: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
