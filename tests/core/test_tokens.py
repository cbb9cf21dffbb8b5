from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from core.library import STORE_FILE, Library
from core.records import Paper
from core.tokens import (
    PREFIX,
    TOKEN_POLL_SECONDS,
    Check,
    Location,
    TokenError,
    create_token,
    list_tokens,
    revoke_token,
    token_check,
)


@pytest.fixture
async def library(home: Path, store_url: str | None) -> AsyncIterator[Library]:
    """The tokens' tests run over a home's SQLite file and over a PostgreSQL store."""
    opened = await Library.open(home, store=store_url)
    yield opened
    await opened.close()


def eventually(check: Callable[[], bool], seconds: float = 2.0) -> bool:
    """True once `check()` is (a PostgreSQL store's check reads the tokens again every half second)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_tokens_are_kept_only_as_hashes_and_checked_by_scope(library: Library, home: Path) -> None:
    store: Location = library.store.location
    write = create_token(store, "alice", write=True)
    read = create_token(store, "bob")
    assert write.startswith(PREFIX) and len(write) > 40 and write != read
    assert [(t.name, t.scope) for t in list_tokens(store)] == [("alice", "write"), ("bob", "read")]
    if isinstance(store, Path):
        raw = b"".join(p.read_bytes() for p in home.glob(f"{STORE_FILE}*"))
    else:
        raw = repr(await library.store._rows("SELECT * FROM tokens")).encode()
    assert write.encode() not in raw and read.encode() not in raw
    assert token_hash_of(write) in raw.decode(errors="replace")
    check: Check = token_check(store)
    try:
        alice, bob = check.token(write), check.token(read)
        assert alice is not None and alice.name == "alice" and alice.can_write
        assert bob is not None and bob.name == "bob" and not bob.can_write
        assert check.token(write[:-1]) is None and check.token("") is None
        # A token made after the check started works at once over a file, within 2 s over PostgreSQL
        # (the bound every node keeps); a revoked one stops as soon.
        carol = create_token(store, "carol")
        assert eventually(lambda: check.token(carol) is not None)
        revoke_token(store, "bob")
        assert eventually(lambda: check.token(read) is None)
        # Papers written meanwhile (another change to the store) change nothing.
        await library.add_papers([Paper(key="", title="Tokens and Papers Share a Store")])
        time.sleep(2 * TOKEN_POLL_SECONDS)
        assert check.token(carol) is not None and check.token(read) is None
    finally:
        check.close()


def token_hash_of(token: str) -> str:
    from core.tokens import token_hash

    return token_hash(token)


async def test_token_names_are_checked_and_unique(library: Library) -> None:
    store = library.store.location
    create_token(store, "alice")
    with pytest.raises(TokenError, match="exists"):
        create_token(store, "alice", write=True)
    with pytest.raises(TokenError, match="token name"):
        create_token(store, "has space")
    with pytest.raises(TokenError, match="no token named 'nobody'"):
        revoke_token(store, "nobody")
