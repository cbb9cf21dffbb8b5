"""Access tokens for `papercite serve`, kept in the home's store as hashes.

A token is shown once, when it is made; the store keeps its SHA-256, so a copy of the store does
not give access. Tokens are 32 random bytes: a salted slow hash (as for passwords) buys nothing
against guessing, and would cost every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.dialect import postgres_sql
from core.records import PaperciteError

READ, WRITE = "read", "write"
PREFIX = "pct_"
_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")


class TokenError(PaperciteError):
    pass


@dataclass(frozen=True)
class Token:
    name: str
    scope: str
    created_at: str = ""

    @property
    def can_write(self) -> bool:
        return self.scope == WRITE


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# Where the tokens are: the home's SQLite file, or the PostgreSQL store's URL.
Location = Path | str


def _connect(location: Location) -> Any:
    if isinstance(location, str):
        from core.store_postgres import connect

        return connect(location, autocommit=True)
    # (a running server's check may be asked from a thread other than the one that opened it)
    return sqlite3.connect(str(location), timeout=30, isolation_level=None, check_same_thread=False)


def _execute(location: Location, sql: str, parameters: tuple[Any, ...] = ()) -> tuple[list[Any], int]:
    """(rows, rows changed) of one statement, in autocommit."""
    if isinstance(location, str):
        sql = postgres_sql(sql)
    connection = _connect(location)
    try:
        cursor = connection.execute(sql, parameters)
        return (list(cursor.fetchall()) if cursor.description else []), cursor.rowcount
    finally:
        connection.close()


def _is_duplicate(error: Exception) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return True
    from psycopg import errors

    return isinstance(error, errors.UniqueViolation)


def create_token(location: Location, name: str, *, write: bool = False) -> str:
    """A new token named `name`; returns the token itself, which is not kept anywhere."""
    if not _NAME.match(name):
        raise TokenError(f"token name {name!r}: use 1–64 letters, digits and . _ @ + -")
    token = PREFIX + secrets.token_urlsafe(32)
    try:
        _execute(
            location,
            "INSERT INTO tokens (name, hash, scope) VALUES (?, ?, ?)",
            (name, token_hash(token), WRITE if write else READ),
        )
    except Exception as error:
        if _is_duplicate(error):
            raise TokenError(
                f"a token named {name!r} exists; revoke it first or choose another name"
            ) from None
        raise
    return token


def list_tokens(location: Location) -> list[Token]:
    rows, _ = _execute(location, "SELECT name, scope, created_at FROM tokens ORDER BY name")
    return [Token(name, scope, created) for name, scope, created in rows]


def revoke_token(location: Location, name: str) -> None:
    _, removed = _execute(location, "DELETE FROM tokens WHERE name = ?", (name,))
    if not removed:
        raise TokenError(f"no token named {name!r} (papercite token list shows them)")


def token_check(location: Location) -> Check:
    """The check a server asks on every request, for the tokens at `location`."""
    return PolledTokenCheck(location) if isinstance(location, str) else TokenCheck(location)


class TokenCheck:
    """Answers "whose token is this?" for every request, from a copy of the tokens table read again
    whenever the store has changed since (SQLite's data_version: one cheap query per request), so
    a token made or revoked a moment ago counts at once."""

    def __init__(self, store_path: Path) -> None:
        self._path = store_path
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None
        self._by_hash: dict[str, Token] = {}

    def _refresh(self) -> None:
        if self._connection is None:
            self._connection = _connect(self._path)
        version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            rows = self._connection.execute("SELECT hash, name, scope, created_at FROM tokens").fetchall()
            self._by_hash = {digest: Token(name, scope, created) for digest, name, scope, created in rows}
            self._version = version

    def token(self, presented: str) -> Token | None:
        self._refresh()
        return self._match(token_hash(presented))

    def _match(self, digest: str) -> Token | None:
        return _match(self._by_hash, digest)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _match(by_hash: dict[str, Token], digest: str) -> Token | None:
    # Every known hash is compared, each in constant time: a team has a handful of tokens, and
    # how long the check takes then says nothing about which one came close.
    granted = None
    for known, token in by_hash.items():
        if hmac.compare_digest(known, digest):
            granted = token
    return granted


# A token made or revoked on any node counts on every node within 2 s: each reads the (small)
# table again this often.
TOKEN_POLL_SECONDS = 0.5
log = logging.getLogger("papercite.tokens")


class PolledTokenCheck:
    """`TokenCheck` over a PostgreSQL store: a copy of the tokens table, read again every
    TOKEN_POLL_SECONDS by a thread of its own, so a request never waits on the database — and
    while the database is away, the tokens known last keep working (and revoked ones stay revoked)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._by_hash = self._read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="papercite-tokens", daemon=True)
        self._thread.start()

    def _read(self) -> dict[str, Token]:
        rows, _ = _execute(self._url, "SELECT hash, name, scope, created_at FROM tokens")
        return {digest: Token(name, scope, created) for digest, name, scope, created in rows}

    def _poll(self) -> None:
        failing = False
        while not self._stop.wait(TOKEN_POLL_SECONDS):
            try:
                self._by_hash = self._read()
            except PaperciteError as error:
                if not failing:
                    log.warning("cannot read the tokens again (the last ones read still count): %s", error)
                failing = True
                continue
            if failing:
                log.info("reading the tokens again")
            failing = False

    def token(self, presented: str) -> Token | None:
        return _match(self._by_hash, token_hash(presented))

    def close(self) -> None:
        self._stop.set()


Check = TokenCheck | PolledTokenCheck
