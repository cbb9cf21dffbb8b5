"""Who may do what on `papercite serve`: tokens, scopes, limits, and what the log keeps."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from api.serve import is_loopback, plain_http_warning
from tests.api.conftest import Team, start_team

SEARCH = {"query": "speculative decoding with a sparse KV cache", "k": 3}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_request_without_a_token_or_with_a_bad_one_gets_401(team: Team) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{team.url}/v1/search", json=SEARCH) as answer:
            assert answer.status == 401
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await answer.json())["code"] == "unauthorized"
        wrong = team.reader[:-4] + "AAAA"
        async with http.post(f"{team.url}/v1/search", json=SEARCH, headers=bearer(wrong)) as answer:
            assert answer.status == 401
        async with http.post(
            f"{team.url}/v1/search", json=SEARCH, headers={"Authorization": f"Basic {team.reader}"}
        ) as answer:
            assert answer.status == 401


async def test_a_read_token_searches_and_a_write_needs_a_write_token(team: Team) -> None:
    entry = b"@article{scoped2030,\n  title = {Scoped Tokens for Shared Indexes},\n  year = {2030}\n}\n"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{team.url}/v1/search", json=SEARCH, headers=bearer(team.reader)) as answer:
            assert answer.status == 200
            hits = (await answer.json())["hits"]
            assert hits[0]["paper"]["key"] == "triforce"
        for path, body in [("/v1/ingest", {"data": entry}), ("/v1/papers/remove", {"json": {"keys": ["x"]}})]:
            async with http.post(f"{team.url}{path}", headers=bearer(team.reader), **body) as answer:  # type: ignore[arg-type]
                assert answer.status == 403, path
                assert "may only read" in (await answer.json())["error"]
        async with http.post(
            f"{team.url}/v1/ingest", params={"name": "team.bib"}, data=entry, headers=bearer(team.writer)
        ) as answer:
            assert answer.status == 200
            assert (await answer.json())["added"] == ["scoped2030"]
        async with http.get(f"{team.url}/v1/papers/scoped2030", headers=bearer(team.reader)) as answer:
            assert (await answer.json())["paper"]["title"] == "Scoped Tokens for Shared Indexes"


async def test_library_errors_have_their_status_codes(team: Team) -> None:
    async with aiohttp.ClientSession(headers=bearer(team.reader)) as http:
        async with http.get(f"{team.url}/v1/papers/triforc") as answer:
            assert answer.status == 404
            body = await answer.json()
            assert (body["code"], body["key"], body["suggestions"][:1]) == (
                "unknown_key",
                "triforc",
                ["triforce"],
            )
        async with http.post(f"{team.url}/v1/search", json={"query": "the of and"}) as answer:
            assert (answer.status, (await answer.json())["code"]) == (400, "empty_query")
        async with http.post(f"{team.url}/v1/search", json={"query": "kv cache", "k": 5000}) as answer:
            assert answer.status == 400
            assert "from 1 to 200" in (await answer.json())["error"]
        async with http.post(f"{team.url}/v1/search", data=b"{not json") as answer:
            assert (answer.status, (await answer.json())["code"]) == (400, "bad_request")
        async with http.post(f"{team.url}/v1/papers/lookup", json={"keys": ["k"] * 2001}) as answer:
            assert answer.status == 400


async def test_the_openapi_description_names_every_route(team: Team) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{team.url}/v1/openapi.json") as answer:
        document = await answer.json()
    assert document["openapi"].startswith("3.")
    from api.routes import routes

    served = {route.path for route in routes()}
    assert served <= set(document["paths"]), served - set(document["paths"])


async def test_a_revoked_token_stops_working_within_seconds(team: Team) -> None:
    from tests.team_server import make_token

    token = make_token(team.server.home, "leaving")
    async with aiohttp.ClientSession(headers=bearer(token)) as http:
        async with http.get(f"{team.url}/v1/changes") as answer:
            assert answer.status == 200
        import subprocess
        import sys

        subprocess.run(
            [sys.executable, "-m", "core.cli", "--home", str(team.server.home), "token", "revoke", "leaving"],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        status = 200
        while status == 200 and time.monotonic() < deadline:
            async with http.get(f"{team.url}/v1/changes") as answer:
                status = answer.status
            time.sleep(0.2)
        assert status == 401


async def test_tokens_never_reach_the_log(team: Team) -> None:
    async with aiohttp.ClientSession(headers=bearer(team.reader)) as http:
        async with http.get(f"{team.url}/v1/stats") as answer:
            assert answer.status == 200
        async with http.get(f"{team.url}/v1/stats", headers=bearer("pct_wrong-token-xyz")) as answer:
            assert answer.status == 401
    time.sleep(0.2)
    log = team.server.output()
    assert "GET /v1/stats" in log  # the access log is on
    assert team.reader not in log and team.writer not in log and "wrong-token-xyz" not in log


def test_too_many_requests_get_429_with_retry_after_and_bodies_have_a_limit() -> None:
    limited = start_team(("--rate", "2", "--max-body-mb", "1"))
    try:
        statuses = []
        retry_after = None

        async def hammer() -> None:
            nonlocal retry_after
            async with aiohttp.ClientSession(headers=bearer(limited.reader)) as http:
                for _ in range(10):
                    async with http.get(f"{limited.url}/v1/changes") as answer:
                        statuses.append(answer.status)
                        if answer.status == 429:
                            retry_after = answer.headers["Retry-After"]
                # Another token has a bucket of its own.
                async with http.get(f"{limited.url}/v1/changes", headers=bearer(limited.writer)) as answer:
                    assert answer.status == 200
                big = b"@misc{x, title={y}}\n" * 60_000  # 1.2 MB
                async with http.post(
                    f"{limited.url}/v1/ingest", data=big, headers=bearer(limited.writer)
                ) as answer:
                    assert answer.status == 413
                    assert "limit of 1 MB" in (await answer.json())["error"]
                async with http.post(
                    f"{limited.url}/v1/papers/lookup",
                    data=json.dumps({"keys": ["a" * 1_200_000]}),
                    headers=bearer(limited.writer),
                ) as answer:
                    assert answer.status == 413

        import asyncio

        asyncio.run(hammer())
        assert statuses[:4] == [200, 200, 200, 200]  # a burst of twice the rate
        assert 429 in statuses
        assert retry_after is not None and int(retry_after) >= 1
    finally:
        limited.server.stop()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("10.1.2.3", False)],
)
def test_serving_beyond_loopback_without_tls_warns_and_names_the_fix(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    warning = plain_http_warning(host)
    assert (warning is None) is loopback
    if warning:
        assert "reverse proxy" in warning and "Caddy or nginx" in warning


async def test_health_and_count_say_how_many_papers_the_store_holds(team: Team) -> None:
    from core.remote import RemoteLibrary

    library = RemoteLibrary(team.url, team.reader)
    try:
        stats = await library.stats()
        assert await library.count() == stats["papers"] >= 179
    finally:
        await library.close()
