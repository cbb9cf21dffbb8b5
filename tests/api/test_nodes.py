"""The API over a PostgreSQL store: what a node answers while its index is built, and rate
limits counted across nodes (api/store_rate.py)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from core.library import Library
from tests.postgres import PASSWORD


async def test_a_node_answers_503_until_its_index_is_built(tmp_path: Path, postgres_url: str) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from api.app import build_application
    from core.tokens import create_token, token_check

    first = await Library.open(tmp_path / "a", store=postgres_url)
    token = create_token(postgres_url, "reader")
    fresh = await Library.open(tmp_path / "b", store=postgres_url, build_index=False)
    tokens = token_check(postgres_url)
    client = TestClient(TestServer(build_application(fresh, tokens)))
    await client.start_server()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        answer = await client.post("/v1/search", json={"query": "speculative decoding"}, headers=headers)
        assert answer.status == 503 and (await answer.json())["code"] == "starting"
        assert answer.headers["Retry-After"] == "5"
        assert (await client.get("/healthz")).status == 503
        await fresh.sync_index(wait=True)
        answer = await client.post("/v1/search", json={"query": "speculative decoding"}, headers=headers)
        assert answer.status == 200 and (await answer.json())["hits"]
    finally:
        await client.close()
        tokens.close()
        await fresh.close()
        await first.close()


def test_a_tokens_rate_is_counted_across_nodes(postgres_url: str) -> None:
    from api.store_rate import StoreRateLimit
    from core.store_postgres import migrate_postgres

    migrate_postgres(postgres_url)
    # Two nodes' counters over one store: 5 a second, bursts of 5, for the token "ops".
    first, second = StoreRateLimit(postgres_url, 1.0, 5), StoreRateLimit(postgres_url, 1.0, 5)
    try:
        assert [first.wait("ops") for _ in range(3)] == [0.0] * 3
        assert [second.wait("ops") for _ in range(2)] == [0.0] * 2
        # The burst is spent across both: the next request waits, whichever node it reaches.
        assert 0 < first.wait("ops") <= 1.0 and 0 < second.wait("ops") <= 1.0
        assert second.wait("another") == 0.0  # each token has its own bucket
    finally:
        first.close()
        second.close()


def test_rate_limits_go_on_per_node_while_the_database_is_away() -> None:
    from api.store_rate import StoreRateLimit

    # Nothing listens on port 9 of loopback: every count is this node's own, and still limited.
    away = StoreRateLimit(f"postgresql://papercite:{PASSWORD}@127.0.0.1:9/papers", 1.0, 2)
    assert [away.wait("ops") for _ in range(2)] == [0.0, 0.0]
    assert away.wait("ops") > 0


def test_a_database_host_that_stopped_answering_holds_no_request_up() -> None:
    from api.store_rate import StoreRateLimit

    # A host that takes the connection and then says nothing, as one gone from the network does
    # after the handshake: libpq waits for it until its connect timeout (5 s).
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    away = StoreRateLimit(f"postgresql://papercite:{PASSWORD}@127.0.0.1:{port}/papers", 1.0, 2)
    waits: list[float] = []
    answered = threading.Event()

    def requests() -> None:
        waits.extend(away.wait("ops") for _ in range(3))
        answered.set()

    asking = threading.Thread(target=requests)
    try:
        asking.start()
        silent.settimeout(10)
        connection, _ = silent.accept()
        assert connection.recv(1024)  # the count's first words to the database, never answered …
        # … and the requests were answered meanwhile, counted and limited by this node alone.
        assert answered.wait(4), "a request waited for the silent database"
        assert waits[:2] == [0.0, 0.0] and waits[2] > 0
        connection.close()
    finally:
        asking.join()
        away.close()
        silent.close()
