"""What differs between the two stores' SQL, in one place: the store's code and the migrations are
written once, in SQLite's words, and turned into PostgreSQL's here.

- Placeholders: `?` in SQLite, `%s` for psycopg, which then needs a literal `%` as `%%` (our
  statements hold no literal `?`).
- "Now": `datetime('now')` (SQLite's text 'YYYY-MM-DD HH:MM:SS', UTC) is the same text in PostgreSQL.
- A rising id: `INTEGER PRIMARY KEY AUTOINCREMENT` is a `BIGSERIAL` (a sequence never reuses a value).
- Text order: SQLite compares text byte by byte; PostgreSQL by the database's collation unless told
  `COLLATE "C"`. Key prefixes (`key >= p AND key < p || U+10FFFF`) and key order need the bytes.
- Floating point: SQLite's `REAL` is 8 bytes, PostgreSQL's 4: it becomes `DOUBLE PRECISION`.
- Bytes: SQLite's `BLOB` is PostgreSQL's `BYTEA`.
- No limit: `LIMIT -1` in SQLite, `LIMIT NULL` in PostgreSQL.
Everything else the store says (`INSERT … ON CONFLICT … DO UPDATE`, `count(*) FILTER (WHERE …)`,
partial indexes) both understand alike.
"""

from __future__ import annotations

import re
from typing import Any

_NOW_SQLITE = "datetime('now')"
_NOW_POSTGRES = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
_AUTOINCREMENT = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE)
_TEXT = re.compile(r"\bTEXT\b")
_REAL = re.compile(r"\bREAL\b")
_BLOB = re.compile(r"\bBLOB\b")


def postgres_sql(statement: str) -> str:
    """A statement written for SQLite (`?` placeholders, `datetime('now')`) in PostgreSQL's words."""
    return statement.replace("%", "%%").replace(_NOW_SQLITE, f"({_NOW_POSTGRES})").replace("?", "%s")


def postgres_ddl(script: str) -> str:
    """A migration written for SQLite, for PostgreSQL: rising ids, byte-ordered text, the same "now"."""
    script = _AUTOINCREMENT.sub("BIGSERIAL PRIMARY KEY", script)
    script = _TEXT.sub('TEXT COLLATE "C"', script)
    script = _REAL.sub("DOUBLE PRECISION", script)  # SQLite's REAL is 8 bytes; PostgreSQL's is 4
    script = _BLOB.sub("BYTEA", script)
    return script.replace(_NOW_SQLITE, f"({_NOW_POSTGRES})")


def no_limit(postgres: bool) -> Any:
    """The LIMIT value meaning "all rows"."""
    return None if postgres else -1
