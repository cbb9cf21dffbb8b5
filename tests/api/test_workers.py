"""`papercite serve --workers 2`: real processes on loopback — both answer, each sees the other's
writes, writes take turns, a worker that dies comes back, and none outlives the server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from api.app import WORKER_HEADER
from api.launch import TeamServer, free_port, make_token
from api.workers import RATE_FILE, CannotServe, bind

SEARCH = {"query": "speculative decoding with a sparse KV cache", "k": 3}


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux's /proc), the workers and whatever they started."""
    found: set[int] = set()
    waiting = [pid]
    while waiting:
        parent = waiting.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            waiting.extend(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"  # not a zombie
    except OSError:
        return False


def gone_within(pids: set[int], seconds: float) -> list[int]:
    """Those of `pids` still running after waiting up to `seconds` for all to end."""
    deadline = time.monotonic() + seconds
    while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def worker_of_a_new_connection(url: str) -> int:
    request = urllib.request.Request(f"{url}/healthz", headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.headers[WORKER_HEADER])


def workers_answering(url: str, count: int, timeout: float = 60) -> set[int]:
    """The pids that answer new connections, once `count` different ones have (each connection
    reaches the worker the kernel picks for it)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        seen.add(worker_of_a_new_connection(url))
    assert len(seen) == count, f"only workers {seen} answered in {timeout} s"
    return seen


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def one_per_worker(url: str, token: str, count: int) -> AsyncIterator[dict[int, aiohttp.ClientSession]]:
    """A kept-alive connection to each of `count` workers: {worker pid: its session}."""
    sessions: dict[int, aiohttp.ClientSession] = {}
    spare: list[aiohttp.ClientSession] = []
    try:
        for _ in range(200):
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), headers=bearer(token))
            async with session.get(f"{url}/healthz") as answer:
                pid = int(answer.headers[WORKER_HEADER])
            if pid in sessions:
                spare.append(session)
            else:
                sessions[pid] = session
            if len(sessions) == count:
                break
        assert len(sessions) == count
        yield sessions
    finally:
        await asyncio.gather(*(s.close() for s in [*sessions.values(), *spare]))


class Workers:
    def __init__(self, server: TeamServer, writer: str, reader: str) -> None:
        self.server, self.writer, self.reader = server, writer, reader

    @property
    def url(self) -> str:
        return self.server.url


def start_workers(*extra: str) -> Workers:
    home = Path(tempfile.mkdtemp(prefix="papercite-workers-")) / "home"
    writer, reader = make_token(home, "writer", write=True), make_token(home, "reader")
    server = TeamServer(home, extra=("--workers", "2", *extra)).start()
    workers_answering(server.url, 2)
    return Workers(server, writer, reader)


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    started = start_workers()
    yield started
    started.server.stop()


async def found_by(session: aiohttp.ClientSession, url: str, query: str, key: str) -> bool:
    async with session.post(f"{url}/v1/search", json={"query": query, "k": 5}) as answer:
        assert answer.status == 200
        return key in [hit["paper"]["key"] for hit in (await answer.json())["hits"]]


async def test_a_paper_added_through_one_worker_is_found_through_the_other_within_two_seconds(
    workers: Workers,
) -> None:
    async with one_per_worker(workers.url, workers.writer, 2) as sessions:
        for number, (adder, searcher) in enumerate([list(sessions.values()), list(sessions.values())[::-1]]):
            key = f"crossworker{number}2031glacier"
            query = f"glacier moraine beryllium dating crossworker{number}"
            assert not await found_by(searcher, workers.url, query, key)  # the searcher has looked once
            paper = {"key": key, "title": f"Glacier Moraine Dating Crossworker{number}", "abstract": query}
            async with adder.post(f"{workers.url}/v1/papers", json={"papers": [paper]}) as answer:
                assert answer.status == 200 and (await answer.json())["added"] == [key]
            added_at = time.monotonic()
            while not await found_by(searcher, workers.url, query, key):
                assert time.monotonic() - added_at < 2.0, "the other worker did not see the paper in 2 s"
                await asyncio.sleep(0.05)
        # And over many new connections, whichever worker each reaches.
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True), headers=bearer(workers.reader)
        ) as fresh:
            answered_by = set()
            for _ in range(40):
                async with fresh.post(
                    f"{workers.url}/v1/search", json={"query": "glacier moraine crossworker1", "k": 5}
                ) as answer:
                    answered_by.add(int(answer.headers[WORKER_HEADER]))
                    hits = [hit["paper"]["key"] for hit in (await answer.json())["hits"]]
                    assert "crossworker12031glacier" in hits
        assert answered_by == set(sessions)


def _upload(number: int, papers: int) -> bytes:
    """JSON Lines papers whose keys ask for the same names as the other upload's (same first
    author, year and first title word), so the second writer must see the first one's keys."""
    lines = [
        json.dumps(
            {
                "title": f"Turns {n} of upload {number}: moraines under load",
                "abstract": f"Concurrent writers through different workers, paper {n} of upload {number}.",
                "authors": ["Writer, Wanda"],
                "year": 2031,
            }
        )
        for n in range(papers)
    ]
    return ("\n".join(lines) + "\n").encode()


async def test_two_large_uploads_through_different_workers_both_land_with_unique_keys(
    workers: Workers,
) -> None:
    papers = 3000
    async with one_per_worker(workers.url, workers.writer, 2) as sessions:
        first = next(iter(sessions.values()))
        async with first.get(f"{workers.url}/v1/stats") as answer:
            before = (await answer.json())["papers"]

        async def upload(number: int, session: aiohttp.ClientSession) -> dict[str, list[str]]:
            async with session.post(
                f"{workers.url}/v1/ingest",
                params={"name": f"upload{number}.jsonl"},
                data=_upload(number, papers),
            ) as answer:
                assert answer.status == 200, await answer.text()
                return dict(await answer.json())

        reports = await asyncio.gather(*(upload(n, s) for n, s in enumerate(sessions.values())))
        added = [report["added"] for report in reports]
        assert [len(keys) for keys in added] == [papers, papers]
        assert not set(added[0]) & set(added[1]) and len(set(added[0] + added[1])) == 2 * papers
        assert all(key.startswith("writer2031turns") for key in added[0] + added[1])
        for session in sessions.values():  # the store and each worker's index agree
            for upload_number, n in ((0, 17), (1, 2345)):
                query = f"Concurrent writers through different workers paper {n} of upload {upload_number}"
                deadline = time.monotonic() + 5
                while not await found_by(session, workers.url, query, added[upload_number][n]):
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.1)
            async with session.get(f"{workers.url}/v1/stats") as answer:
                stats = await answer.json()
            assert stats["papers"] == stats["indexed"] == before + 2 * papers


def test_a_killed_worker_is_restarted_and_sigterm_stops_them_all() -> None:
    server = start_workers().server
    assert server.process is not None
    before = workers_answering(server.url, 2)
    below = descendants(server.process.pid)
    assert before <= below
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    answering: set[int] = set()
    while time.monotonic() < deadline and (victim in answering or len(answering) < 2):
        answering = workers_answering(server.url, 2)
    assert victim not in answering and len(answering) == 2 and answering & before == before - {victim}
    assert "worker 1 (pid" in server.output() or "worker 2 (pid" in server.output()
    assert f"(pid {victim}) ended: killed by SIGKILL; starting another" in server.output()

    below = descendants(server.process.pid)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0
    # The workers are gone before the server exits; multiprocessing's resource tracker a moment after.
    assert not gone_within(below, 10)
    assert "stopping (SIGTERM)" in server.output()


def test_a_worker_that_stops_answering_is_replaced() -> None:
    """A stopped process keeps its socket but answers nothing, as a worker whose event loop is stuck:
    its beats stop, and after --worker-timeout it is killed and another takes its place."""
    server = start_workers("--worker-timeout", "2").server
    assert server.process is not None
    try:
        before = workers_answering(server.url, 2)
        stuck = min(before)
        os.kill(stuck, signal.SIGSTOP)
        deadline = time.monotonic() + 30
        while (
            f"(pid {stuck}) ended: killed by SIGKILL" not in server.output() and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert f"(pid {stuck}) has not answered for" in server.output()
        assert f"(pid {stuck}) ended: killed by SIGKILL; starting another" in server.output()
        answering = workers_answering(server.url, 2)
        assert stuck not in answering and len(answering) == 2
    finally:
        server.stop()


def test_killing_the_parent_leaves_no_worker_behind() -> None:
    started = start_workers()
    server = started.server
    assert server.process is not None
    below = descendants(server.process.pid)
    assert len(below) >= 2
    server.process.kill()
    server.process.wait(timeout=10)
    assert not gone_within(below, 45)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{server.url}/healthz", timeout=2)


def test_a_tokens_rate_holds_across_workers() -> None:
    """At 0.1 requests a second (bursts of 1), one request goes through whichever worker it
    reaches; buckets of each worker's own would let one through each."""
    started = start_workers("--rate", "0.1")
    try:
        statuses: dict[int, list[int]] = {}
        for _ in range(60):
            request = urllib.request.Request(
                f"{started.url}/v1/changes", headers={**bearer(started.reader), "Connection": "close"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status, pid = answer.status, int(answer.headers[WORKER_HEADER])
            except urllib.error.HTTPError as refused:
                status, pid = refused.code, int(refused.headers[WORKER_HEADER])
            statuses.setdefault(pid, []).append(status)
            if len(statuses) == 2 and sum(len(s) for s in statuses.values()) >= 10:
                break
        assert len(statuses) == 2, "both workers answered"
        every = [status for answers in statuses.values() for status in answers]
        assert every.count(200) == 1 and set(every) == {200, 429}
    finally:
        started.server.stop()


def test_a_second_server_on_the_same_port_is_refused_by_name(workers: Workers, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "core.cli", "--home", str(tmp_path / "home"), "serve"]
    done = subprocess.run(
        [*command, "--port", str(workers.server.port), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{workers.server.port}: Address already in use" in done.stderr


def test_a_worker_that_cannot_start_stops_the_server_with_its_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_token(home, "reader")
    (home / RATE_FILE).mkdir()  # where the workers' shared rate limits must be a file
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "--home", str(home), "serve", "--port", "0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        "IsADirectoryError" in done.stderr and "ended before serving (exit code 1); stopping" in done.stderr
    )


def test_each_worker_gets_its_own_socket_on_one_port_or_all_share_one() -> None:
    own = bind("127.0.0.1", 0, 3, reuse_port=True)
    shared = bind("127.0.0.1", 0, 3, reuse_port=False)
    try:
        assert len({sockets[0].fileno() for sockets in own}) == 3
        assert len({sockets[0].getsockname() for sockets in own}) == 1
        assert len({sockets[0].fileno() for sockets in shared}) == 1 and len(shared) == 3
        port = own[0][0].getsockname()[1]
        # The port is taken, by a group of its own or by any other listener: refused by name.
        for reuse_port in (True, False):
            with pytest.raises(
                CannotServe, match=re.escape(f"cannot listen on 127.0.0.1:{port}: Address already in use")
            ):
                bind("127.0.0.1", port, 2, reuse_port=reuse_port)
        with pytest.raises(CannotServe, match=re.escape("cannot listen on no-such-host.invalid:80")):
            bind("no-such-host.invalid", 80, 2, reuse_port=True)
    finally:
        for sock in {sock for group in (*own, *shared) for sock in group}:
            sock.close()


def test_ctrl_c_stops_every_worker_and_starts_none(tmp_path: Path) -> None:
    """Ctrl-C in a terminal signals the whole process group: the workers' ends are no failures."""
    port = free_port()
    log = tmp_path / "serve.log"
    command = [
        sys.executable,
        "-m",
        "core.cli",
        "--home",
        str(tmp_path / "home"),
        "serve",
        "--port",
        str(port),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--workers", "2"], stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while "all 2 workers serving" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        below = descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert not gone_within(below, 10)
        assert "stopping (SIGINT)" in log.read_text() and "starting another" not in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
