"""Two `papercite serve` nodes over one PostgreSQL store, as the issue's Done-when list runs them:
each with its own folder, one PAPERCITE_STORE; tokens made and revoked with the CLI; papers written
through one node found through the other; one node killed with SIGKILL and restarted."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.postgres import PASSWORD, Cluster
from tests.team_server import TeamServer

SEED_PAPERS = 179
ADDED = 500


def many_papers(path: Path, count: int) -> Path:
    entries = [
        f"@article{{node{n:04d},\n  title = {{Replicated ledger paper number {n} on quorum node{n:04d}}},\n"
        f"  author = {{Writer, Ada and Node, N{n}}},\n  year = {{{2000 + n % 25}}},\n"
        f"  abstract = {{We study quorum replication marker{n:04d} across stateless nodes.}}\n}}\n"
        for n in range(count)
    ]
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def within(seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def nodes(tmp_path: Path, postgres_url: str) -> Iterator[list[TeamServer]]:
    store = {"PAPERCITE_STORE": postgres_url}
    for name in ("node-a", "node-b"):
        (tmp_path / name).mkdir()
    started = [
        TeamServer(tmp_path / name / "home", env=store).start(timeout=120) for name in ("node-a", "node-b")
    ]
    yield started
    for node in started:
        node.stop()


def cli(url: str, token: str, *args: str) -> Callable[[], dict | list | None]:
    def run() -> dict | list | None:
        done = run_cli(url, *args, variables={"PAPERCITE_TOKEN": token, "PAPERCITE_STORE": None})
        return json.loads(done.stdout) if done.returncode == 0 else None

    return run


def test_two_nodes_over_one_store(tmp_path: Path, postgres_url: str, nodes: list[TeamServer]) -> None:
    first, second = nodes
    store = {"PAPERCITE_STORE": postgres_url}
    made = run_cli(tmp_path / "admin", "token", "create", "ops", "--write", variables=store)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert postgres_url.split(":")[2].split("@")[0] not in made.stdout + made.stderr  # no password shown

    # The token works on both nodes, each having read it from the store within 2 s (they read the
    # tokens every half second: a request may come before the next reading).
    for node in nodes:
        stats = cli(node.url, token, "stats", "--json")
        assert within(
            2, lambda stats=stats: (found := stats()) is not None and found["papers"] == SEED_PAPERS
        )

    # 500 papers ingested through one node's URL are found through the other within seconds.
    ingested = run_cli(
        first.url,
        "ingest",
        str(many_papers(tmp_path / "many.bib", ADDED)),
        "--json",
        variables={"PAPERCITE_TOKEN": token, "PAPERCITE_STORE": None},
    )
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["added"] == ADDED
    search_second = cli(second.url, token, "search", "quorum replication marker0437", "-k", "1", "--json")
    assert within(5, lambda: (hits := search_second()) is not None and hits[0]["key"] == "node0437")

    # One node killed with SIGKILL: the other answers.
    first.stop(signal.SIGKILL)
    hits = cli(second.url, token, "search", "quorum replication marker0042", "-k", "1", "--json")()
    assert hits is not None and hits[0]["key"] == "node0042"

    # The killed one, restarted over its folder, holds all the papers and finds them.
    first.start(timeout=120)
    stats = cli(first.url, token, "stats", "--json")()
    assert isinstance(stats, dict) and stats["papers"] == SEED_PAPERS + ADDED
    assert stats["indexed"] == SEED_PAPERS + ADDED
    hits = cli(first.url, token, "search", "quorum replication marker0499", "-k", "1", "--json")()
    assert hits is not None and hits[0]["key"] == "node0499"

    # A token revoked with the CLI stops on both nodes within 2 s.
    revoked = run_cli(tmp_path / "admin", "token", "revoke", "ops", variables=store)
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    for node in nodes:
        assert within(2 - (time.monotonic() - started), lambda node=node: _status(node.url, token) == 401)


def _status(url: str, token: str) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{url}/v1/stats", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_nodes_ride_out_the_database_stopping_and_coming_back(
    tmp_path: Path, postgres_url: str, postgres_cluster: Cluster, nodes: list[TeamServer]
) -> None:
    first, second = nodes
    store = {"PAPERCITE_STORE": postgres_url}
    made = run_cli(tmp_path / "admin", "token", "create", "ops", "--write", variables=store)
    token = made.stdout.strip().splitlines()[-1]
    papers = many_papers(tmp_path / "few.bib", 3)
    # The token is known to both nodes (each learns it from the store within 2 s) before the store goes.
    assert within(5, lambda: _status(first.url, token) == 200 and _status(second.url, token) == 200)
    postgres_cluster.stop()
    try:
        # Writes get 503 naming the database (never its password); tokens known still count.
        answer = _post(first.url, token, "/v1/papers", {"papers": [{"title": "Written While Away"}]})
        assert answer[0] == 503 and answer[1]["code"] == "store_unavailable"
        assert f"127.0.0.1:{postgres_cluster.port}" in answer[1]["error"]
        assert PASSWORD not in answer[1]["error"]
        assert _status(second.url, token) in (200, 503)
        assert _status(second.url, "pct_not-a-token") == 401
        # Searches answer from each node's index, records and all.
        for node in nodes:
            found = cli(
                node.url, token, "search", "looped transformer reasoning chains", "-k", "1", "--json"
            )()
            assert found is not None and found[0]["key"] == "relay" and found[0]["abstract"]
    finally:
        postgres_cluster.start()
    # Each node reconnects by itself: a write through one is found through the other.
    ingest = cli(first.url, token, "ingest", str(papers), "--json")
    assert within(15, lambda: (report := ingest()) is not None and report["added"] == 3)
    search = cli(second.url, token, "search", "quorum replication marker0002", "-k", "1", "--json")
    assert within(5, lambda: (hits := search()) is not None and hits[0]["key"] == "node0002")


def _post(url: str, token: str, path: str, body: dict) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())
