from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from core.library import open_store
from core.migrations import MIGRATIONS
from core.records import Paper
from core.store import Store, Writer, _split_statements


async def test_fresh_store_applies_every_migration_once(tmp_path: Path, store_url: str | None) -> None:
    store = await open_store(tmp_path, store_url)
    assert await store.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert await store.migrate() == []
    await store.close()


async def test_an_old_store_is_upgraded_and_keeps_its_papers(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    first_name, first_script = MIGRATIONS[0]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        for statement in _split_statements(first_script):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations (name) VALUES (?)", (first_name,))
        db.execute(
            "INSERT INTO papers (key, title, identity) VALUES ('old2001paper', 'Old Paper', 'old paper|')"
        )
    store = await Store.open(path)
    assert await store.applied_migrations() == [name for name, _ in MIGRATIONS]
    paper = await store.get("old2001paper")
    assert paper is not None and paper.title == "Old Paper"
    # The change-log migration queues existing papers for the index.
    assert [key for _, key, _ in await store.changes_since(0)] == ["old2001paper"]
    await store.close()


async def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite3")
    try:
        async with store.transaction():
            await store._db.execute("INSERT INTO papers (key, title, identity) VALUES ('a', 'A', 'a|')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert await store.count() == 0
    await store.close()


async def test_a_write_is_all_or_nothing(tmp_path: Path, store_url: str | None) -> None:
    store = await open_store(tmp_path, store_url)
    paper = Paper(key="a2020b", title="B", authors=("A, Z",), year=2020)

    def insert_then_fail(writer: Writer) -> None:
        writer.insert([paper])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.write(insert_then_fail)
    assert await store.count() == 0 and await store.head_seq() == 0
    await store.write(lambda writer: writer.insert([paper]))
    assert await store.get("a2020b") == paper
    assert [key for _, key, _ in await store.changes_since(0)] == ["a2020b"]
    await store.close()


async def test_cancelling_a_write_stops_it_and_rolls_it_back(tmp_path: Path, store_url: str | None) -> None:
    store = await open_store(tmp_path, store_url)
    started, batches = threading.Event(), []

    def endless(writer: Writer) -> None:
        for number in itertools.count():
            writer.checkpoint()
            writer.insert([Paper(key=f"p{number}", title=f"Paper {number}")])
            batches.append(number)
            started.set()
            time.sleep(0.01)

    task = asyncio.create_task(store.write(endless))
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stopped_at = len(batches)
    await asyncio.sleep(0.1)
    assert len(batches) == stopped_at  # the thread has let go, not still writing
    assert await store.count() == 0
    await store.close()
