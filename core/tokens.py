"""Access tokens for `papercite serve`, kept in the home's store as hashes.

A token is shown once, when it is made; the store keeps its SHA-256, so a copy of the store does
not give access. Tokens are 32 random bytes: a salted slow hash (as for passwords) buys nothing
against guessing, and would cost every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

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


def _connect(store_path: Path) -> sqlite3.Connection:
    # (a running server's check may be asked from a thread other than the one that opened it)
    return sqlite3.connect(str(store_path), timeout=30, isolation_level=None, check_same_thread=False)


def create_token(store_path: Path, name: str, *, write: bool = False) -> str:
    """A new token named `name`; returns the token itself, which is not kept anywhere."""
    if not _NAME.match(name):
        raise TokenError(f"token name {name!r}: use 1–64 letters, digits and . _ @ + -")
    token = PREFIX + secrets.token_urlsafe(32)
    connection = _connect(store_path)
    try:
        connection.execute(
            "INSERT INTO tokens (name, hash, scope) VALUES (?, ?, ?)",
            (name, token_hash(token), WRITE if write else READ),
        )
    except sqlite3.IntegrityError:
        raise TokenError(f"a token named {name!r} exists; revoke it first or choose another name") from None
    finally:
        connection.close()
    return token


def list_tokens(store_path: Path) -> list[Token]:
    connection = _connect(store_path)
    try:
        rows = connection.execute("SELECT name, scope, created_at FROM tokens ORDER BY name").fetchall()
    finally:
        connection.close()
    return [Token(name, scope, created) for name, scope, created in rows]


def revoke_token(store_path: Path, name: str) -> None:
    connection = _connect(store_path)
    try:
        removed = connection.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount
    finally:
        connection.close()
    if not removed:
        raise TokenError(f"no token named {name!r} (papercite token list shows them)")


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
        # Every known hash is compared, each in constant time: a team has a handful of tokens, and
        # how long the check takes then says nothing about which one came close.
        granted = None
        for known, token in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                granted = token
        return granted
