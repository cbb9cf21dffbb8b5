"""What only the PostgreSQL store has to show: several nodes at once over one database, its URL's
password kept out of every message, and a database that is not there."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from core.library import Library
from core.migrations import MIGRATIONS
from core.records import Paper, PaperciteError, StoreUnavailable
from core.sources import add_identifiers, fetch_identifiers
from core.sources.http import CACHE_FILE
from core.sources.shared_state import SharedSourceState
from core.store_postgres import PostgresStore, checked_url, redacted
from tests.fakes.sources import FakeSources
from tests.postgres import PASSWORD, Cluster

MIGRATE = "import asyncio, sys; from core.store_postgres import migrate_postgres; print(migrate_postgres(sys.argv[1]))"


def test_nodes_starting_at_once_apply_each_migration_once(postgres_url: str) -> None:
    starting = [
        subprocess.Popen([sys.executable, "-c", MIGRATE, postgres_url], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    applied = [process.communicate(timeout=60)[0].strip() for process in starting]
    assert all(process.returncode == 0 for process in starting)
    # One node applied them all; the others waited on the lock and found nothing left to do.
    assert sorted(applied, key=len) == ["[]"] * 3 + [repr([name for name, _ in MIGRATIONS])]
    with psycopg.connect(postgres_url) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]


async def test_two_nodes_adding_the_same_papers_at_once_store_each_once(
    tmp_path: Path, postgres_url: str
) -> None:
    first = await Library.open(tmp_path / "a", store=postgres_url)
    second = await Library.open(tmp_path / "b", store=postgres_url)
    try:
        papers = [
            Paper(key="", title=f"Concurrent Writers Paper {n}", authors=("Lamport, Leslie",), year=1978)
            for n in range(300)
        ]
        one, two = await asyncio.gather(first.add_papers(papers), second.add_papers(list(reversed(papers))))
        # Whichever came second found every paper the first had keyed.
        assert sorted([len(one.added), len(two.added)]) == [0, 300]
        assert await first.count() == 179 + 300
        keys = {row[0] for row in await first.store._rows("SELECT key FROM papers WHERE key LIKE 'lamport%'")}
        assert len(keys) == 300
        # Each node's index holds the other's writes too, once it looks.
        for node in (first, second):
            hits = await node.search("concurrent writers paper 17", 1)
            assert hits and hits[0].paper.title == "Concurrent Writers Paper 17"
            assert node.index.num_docs == 479
    finally:
        await first.close()
        await second.close()


async def test_a_node_sees_another_nodes_write_in_its_own_next_write(
    tmp_path: Path, postgres_url: str
) -> None:
    first = await Library.open(tmp_path / "a", store=postgres_url)
    second = await Library.open(tmp_path / "b", store=postgres_url)
    try:
        await first.add_papers([Paper(key="", title="Written Through The First Node", year=2020)])
        # The second node writes without having searched since: its index commit must not claim
        # the first node's change without holding it.
        await second.add_papers([Paper(key="", title="Written Through The Second Node", year=2021)])
        assert second.index.num_docs == 181
        hits = await second.search("written through the first node", 1)
        assert hits[0].paper.title == "Written Through The First Node"
    finally:
        await first.close()
        await second.close()


def test_messages_never_show_the_password() -> None:
    url = f"postgresql://papercite:{PASSWORD}@db.example.org:5432/papers?sslmode=require&password=x2"
    shown = redacted(url)
    assert PASSWORD not in shown and "x2" not in shown
    assert shown == "postgresql://papercite:***@db.example.org:5432/papers?sslmode=require&password=***"
    assert redacted("postgresql://papercite@db/papers") == "postgresql://papercite@db/papers"
    with pytest.raises(PaperciteError, match="names no database") as raised:
        checked_url(f"postgresql://papercite:{PASSWORD}@db.example.org:5432")
    assert PASSWORD not in str(raised.value)
    with pytest.raises(PaperciteError, match="not a postgresql:// URL"):
        checked_url("mysql://db/papers")


async def test_a_database_that_does_not_answer_is_named_without_its_password(
    postgres_cluster: Cluster,
) -> None:
    url = f"postgresql://papercite:{PASSWORD}@127.0.0.1:{postgres_cluster.port}/no_such_database"
    with pytest.raises(StoreUnavailable) as raised:
        await PostgresStore.open_url(url)
    message = str(raised.value)
    assert "no_such_database" in message and "does not exist" in message
    assert PASSWORD not in message and "***" in message


async def test_a_write_is_announced_to_listening_nodes(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No polling within the test's time: only the write's NOTIFY can wake the listener.
    monkeypatch.setattr("core.store_postgres._POLL_SECONDS", 60.0)
    writer = await Library.open(tmp_path / "a", store=postgres_url)
    listener = await PostgresStore.open_url(postgres_url)
    announcements = listener.announcements()
    try:
        await asyncio.wait_for(anext(announcements), 10)  # the first: catch up on what came before
        woken = asyncio.ensure_future(anext(announcements))
        await asyncio.sleep(0.5)
        assert not woken.done()
        await writer.add_papers([Paper(key="", title="Announced Through Notify", year=2024)])
        await asyncio.wait_for(woken, 10)
    finally:
        await announcements.aclose()
        await listener.close()
        await writer.close()


async def test_a_following_node_indexes_another_nodes_writes_without_being_asked(
    tmp_path: Path, postgres_url: str
) -> None:
    first = await Library.open(tmp_path / "a", store=postgres_url)
    second = await Library.open(tmp_path / "b", store=postgres_url)
    following = asyncio.create_task(second.follow())
    try:
        await first.add_papers([Paper(key="", title="Followed Into The Other Index", year=2024)])
        for _ in range(100):
            if second.index.num_docs == 180:
                break
            await asyncio.sleep(0.05)
        assert second.index.num_docs == 180
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await first.close()
        await second.close()


async def test_a_home_pointed_at_another_store_rebuilds_its_index(tmp_path: Path, postgres_url: str) -> None:
    home = tmp_path / "home"
    async with await Library.open(home, store=None) as folder:
        await folder.add_papers([Paper(key="", title="Only In The Folder Store", year=2020)])
        assert folder.index.num_docs == 180
    other = await Library.open(tmp_path / "other", store=postgres_url)
    await other.remove(["triforce", "relay"])
    await other.close()
    # The folder's index is as far along the change log as the database's: without knowing which
    # store it came from, it would pass for current.
    async with await Library.open(home, store=postgres_url) as node:
        assert node.index.num_docs == 177
        assert not [
            h for h in await node.search("only in the folder store", 3) if h.paper.title.startswith("Only")
        ]


def test_the_cli_names_a_store_it_cannot_use_without_its_password(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    away = run_cli(tmp_path / "home", "--store", f"postgresql://ops:{PASSWORD}@127.0.0.1:9/papers", "stats")
    assert away.returncode == 1 and PASSWORD not in away.stderr
    assert "the database postgresql://ops:***@127.0.0.1:9/papers is unavailable" in away.stderr
    other = run_cli(tmp_path / "home", "--store", f"mysql://ops:{PASSWORD}@db/papers", "stats")
    assert other.returncode == 1 and "is not a postgresql:// URL" in other.stderr
    assert PASSWORD not in other.stderr
    remote = run_cli("http://127.0.0.1:9", "--store", "postgresql://ops@db/papers", "stats")
    assert remote.returncode == 1 and "is for a node's own folder home" in remote.stderr


async def test_searches_answer_from_the_index_while_the_database_is_away(
    tmp_path: Path, postgres_url: str, postgres_cluster: Cluster
) -> None:
    async with await Library.open(tmp_path / "node", store=postgres_url) as library:
        before = await library.search("looped transformer reasoning chains", 3)
        postgres_cluster.stop()
        try:
            library._checked_at = 0  # skip the half-second throttle: the next search asks the store
            during = await library.search("looped transformer reasoning chains", 3)
            assert [(hit.paper, hit.score) for hit in during] == [(hit.paper, hit.score) for hit in before]
            assert await library.get_many(["relay"]) == {"relay": before[0].paper}
            assert (await library.get("relay")).title == before[0].paper.title
            assert "relay" in await library.keys_with_prefix("rel")
            assert await library.suggest_keys("relya") == ["relay"]
            with pytest.raises(StoreUnavailable):
                await library.add_papers([Paper(key="", title="Written While Away")])
        finally:
            postgres_cluster.start()
        library._checked_at = 0
        await library.add_papers([Paper(key="", title="Written After The Database Came Back")])
        assert (await library.search("written after the database came back", 1))[0].paper.title == (
            "Written After The Database Came Back"
        )


async def test_nodes_share_the_web_sources_cache_and_pace(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeSources.with_samples() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        async with (
            await Library.open(tmp_path / "a", store=postgres_url) as first,
            await Library.open(tmp_path / "b", store=postgres_url) as second,
        ):
            added = await add_identifiers(first, ["10.1145/3404835.3463238"])
            assert not added.errors and len(fake.served("crossref")) == 1
            fake.stop()  # the service is gone: the other node answers from the shared cache
            found, errors = await fetch_identifiers(
                ["10.1145/3404835.3463238"], shared_store=second.shared_store
            )
            assert not errors and found[0][1].title == added.papers[0].title
        assert not (tmp_path / "a" / CACHE_FILE).exists() and not (tmp_path / "b" / CACHE_FILE).exists()
    # A host's slots are taken in turn whichever node asks: the second waits out the first's interval.
    waits = [SharedSourceState(postgres_url).reserve("arXiv", 3.0) for _ in range(2)]
    assert waits[0] == 0.0 and 2.5 < waits[1] <= 3.0
