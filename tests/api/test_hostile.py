"""Hostile requests to `papercite serve`: each gets a 4xx naming the problem or a clean answer,
never a 500."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.api.conftest import Team


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post(team: Team, path: str, body: bytes, *, write: bool = False) -> tuple[int, dict[str, object]]:
    headers = {**bearer(team.writer if write else team.reader), "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{team.url}{path}", data=body, headers=headers) as answer,
    ):
        return answer.status, json.loads(await answer.read())


@pytest.mark.parametrize(
    ("path", "body", "said"),
    [
        ("/v1/search", b"[" * 100_000 + b"]" * 100_000, "nested less deeply"),
        ("/v1/search", b'{"terms": {"cache": 1e308, "sparse": -1e308}}', "weights from -1e+06 to 1e+06"),
        ("/v1/search", b'{"terms": {"cache": NaN}}', "weights from"),
        ("/v1/search", b'{"terms": {"cache": Infinity}}', "weights from"),
        ("/v1/papers", b'{"papers": [{"key": "y", "title": "Y", "year": 99999999999999999999999}]}', "year"),
    ],
)
async def test_malformed_bodies_get_400_naming_the_problem(
    team: Team, path: str, body: bytes, said: str
) -> None:
    status, answer = await post(team, path, body, write=True)
    assert status == 400, answer
    assert said in str(answer["error"])


async def test_a_lone_surrogate_in_a_key_is_replaced_not_a_500(team: Team) -> None:
    status, answer = await post(team, "/v1/papers/lookup", b'{"keys": ["triforce", "\\ud800x"]}')
    assert status == 200, answer
    assert list(answer["papers"]) == ["triforce"]  # type: ignore[call-overload]
    status, answer = await post(team, "/v1/papers/remove", b'{"keys": ["\\udfffnone"]}', write=True)
    assert (status, answer["code"]) == (404, "unknown_key") and answer["key"] == "\ufffdnone"


@pytest.mark.parametrize("name", ["..", ".", "../..", ""])
async def test_an_upload_named_dot_dot_is_read_as_an_upload(team: Team, name: str) -> None:
    entry = b"@article{dotdot2031,\n  title = {Uploads Named Like Folders},\n  year = {2031}\n}\n"
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{team.url}/v1/ingest", params={"name": name}, data=entry, headers=bearer(team.writer)
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        report = await answer.json()
    assert report["failed"] == [] and "dotdot2031" in report["added"] + report["unchanged"]


LINES = b"".join(b'{"key": "gz%d", "title": "Cut Off %d"}\n' % (n, n * n) for n in range(1000))


@pytest.mark.parametrize("damaged", [b"\x1f\x8b\x08\x00garbage", gzip.compress(LINES)[:-2000]])
async def test_a_damaged_gzip_upload_is_a_named_failure(team: Team, damaged: bytes) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{team.url}/v1/ingest",
            params={"name": "cut.jsonl.gz"},
            data=damaged,
            headers=bearer(team.writer),
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        [failure] = (await answer.json())["failed"]
    assert failure["path"] == "cut.jsonl.gz" and "gzip" in failure["reason"]


async def test_a_lookup_of_more_keys_than_one_request_takes_is_sent_in_parts(team: Team) -> None:
    """A document citing 5,000 keys: the language server's one lookup was refused with 400 (at
    most 2000 keys a request), so its diagnostics failed against a team server."""
    from core.remote import RemoteLibrary

    keys = [f"absent{n}" for n in range(5000)] + ["triforce"]
    async with RemoteLibrary(team.url, team.reader) as library:
        found = await library.get_many(keys)
    assert list(found) == ["triforce"]


async def test_an_upload_abandoned_midway_is_noted_in_a_line_not_a_traceback(team: Team) -> None:
    before = team.server.output().count("Traceback")
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", team.server.port)) as client:
            client.sendall(
                f"POST /v1/ingest?name=big.bib HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {team.writer}\r\n"
                "Content-Length: 10000000\r\n\r\n".encode()
                + b"@misc{a, title={Half an Upload}}\n" * 2000
            )
            await asyncio.sleep(0.2)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
    await asyncio.sleep(0.5)
    async with aiohttp.ClientSession() as http, http.get(f"{team.url}/healthz") as answer:
        assert answer.status == 200
    log = team.server.output()
    assert log.count("the client closed the connection") >= 3
    assert log.count("Traceback") == before


@pytest.fixture
async def impatient(tmp_path: Path) -> AsyncIterator[tuple[int, str]]:
    """The API in this process, giving up on a body after one second without a byte."""
    from aiohttp import web

    from api.app import Limits, build_application
    from core.library import STORE_FILE, Library
    from core.tokens import TokenCheck, create_token

    library = await Library.open(tmp_path / "home")
    token = create_token(tmp_path / "home" / STORE_FILE, "writer", write=True)
    application = build_application(
        library, TokenCheck(tmp_path / "home" / STORE_FILE), Limits(body_idle_seconds=1)
    )
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1], token  # type: ignore[union-attr]
    await runner.cleanup()
    await library.close()


@pytest.mark.parametrize(
    ("path", "framing"),
    [
        ("/v1/search", b"Content-Length: 1000\r\n\r\n{"),
        ("/v1/ingest", b"Transfer-Encoding: chunked\r\n\r\n5\r\n@misc\r\n"),
    ],
    ids=["length-never-met", "chunks-never-ended"],
)
async def test_a_body_that_stops_arriving_gets_408(
    impatient: tuple[int, str], path: str, framing: bytes
) -> None:
    """A body announced and never finished held its request open for ever (no answer at all)."""
    port, token = impatient
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n".encode() + framing)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4000), 20)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408") and b"stopped arriving" in answer


async def test_requests_aiohttp_cannot_parse_are_one_line_each_in_the_log(team: Team) -> None:
    """A request line over 8 KB or a broken header was logged at ERROR with a traceback, so any
    client could fill the server's log."""
    before = team.server.output().count("Traceback")
    for request in [
        b"GET /v1/keys/near?key=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/stats HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n",
    ]:
        reader, writer = await asyncio.open_connection("127.0.0.1", team.server.port)
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(200), 10)
        writer.close()
        assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    await asyncio.sleep(0.5)
    logged = team.server.output()
    assert "Error handling request from 127.0.0.1: " in logged and logged.count("Traceback") == before
