from __future__ import annotations

from pathlib import Path

import pytest

from core.library import STORE_FILE, Library
from core.records import Paper
from core.tokens import PREFIX, TokenCheck, TokenError, create_token, list_tokens, revoke_token


async def test_tokens_are_kept_only_as_hashes_and_checked_by_scope(library: Library, home: Path) -> None:
    store = home / STORE_FILE
    write = create_token(store, "alice", write=True)
    read = create_token(store, "bob")
    assert write.startswith(PREFIX) and len(write) > 40 and write != read
    assert [(t.name, t.scope) for t in list_tokens(store)] == [("alice", "write"), ("bob", "read")]
    raw = b"".join(p.read_bytes() for p in home.glob(f"{STORE_FILE}*"))
    assert write.encode() not in raw and read.encode() not in raw
    check = TokenCheck(store)
    alice, bob = check.token(write), check.token(read)
    assert alice is not None and alice.name == "alice" and alice.can_write
    assert bob is not None and bob.name == "bob" and not bob.can_write
    assert check.token(write[:-1]) is None and check.token("") is None
    # A token made after the check started works at once; a revoked one stops at once.
    carol = create_token(store, "carol")
    assert check.token(carol) is not None
    revoke_token(store, "bob")
    assert check.token(read) is None
    # Papers written meanwhile (another change to the store) change nothing.
    await library.add_papers([Paper(key="", title="Tokens and Papers Share a Store")])
    assert check.token(carol) is not None and check.token(read) is None


async def test_token_names_are_checked_and_unique(library: Library, home: Path) -> None:
    store = home / STORE_FILE
    create_token(store, "alice")
    with pytest.raises(TokenError, match="exists"):
        create_token(store, "alice", write=True)
    with pytest.raises(TokenError, match="token name"):
        create_token(store, "has space")
    with pytest.raises(TokenError, match="no token named 'nobody'"):
        revoke_token(store, "nobody")
