"""A kill in the middle of an ingest, and two writers at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.library import Library
from core.lock import WriteLock
from core.records import StoreLocked
from tests.conftest import REPO, run_cli

# Big enough that an ingest is still writing when the test interrupts it.
BIG = 150_000


def write_big_json_lines(path: Path, count: int) -> None:
    with path.open("w") as out:
        for number in range(count):
            record = {
                "title": f"Synthetic paper number {number} on retrieval",
                "abstract": f"We study topic {number} with dense retrieval and sparse indexes.",
                "authors": [f"Author{number}, A."],
                "year": 2000 + number % 25,
            }
            out.write(json.dumps(record) + "\n")


def count_papers(home: Path) -> int:
    with sqlite3.connect(home / "papers.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM papers").fetchone()[0])


def ingest_in_the_middle(home: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """A seeded home, and `papercite ingest` of a big file caught while it is writing (the WAL grows)."""
    assert run_cli(home, "stats").returncode == 0  # seeded: 179
    big = tmp_path / "big.jsonl"
    write_big_json_lines(big, BIG)
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "ingest", str(big)],
        cwd=REPO,
        env={**os.environ, "PAPERCITE_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wal = home / "papers.sqlite3-wal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (wal.exists() and wal.stat().st_size > 1_000_000):
        time.sleep(0.02)
    assert process.poll() is None, "the ingest finished before it could be interrupted; make the file bigger"
    return process, big


def test_kill_9_during_ingest_leaves_the_store_as_it_was(home: Path, tmp_path: Path) -> None:
    process, big = ingest_in_the_middle(home, tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate()

    stored = count_papers(home)
    assert stored in (179, 179 + BIG)  # never half
    # The index agrees with the store (caught up on open if the kill fell between their commits).
    after = run_cli(home, "search", "--json", "dense retrieval sparse indexes synthetic", "-k", "3")
    assert after.returncode == 0
    synthetic = [hit["title"].startswith("Synthetic") for hit in json.loads(after.stdout)]
    assert synthetic == [stored > 179] * 3
    # The lock died with the process: a new ingest goes through completely.
    again = run_cli(home, "ingest", str(big), timeout=300)
    assert again.returncode == 0
    assert count_papers(home) == 179 + BIG


def test_ctrl_c_during_ingest_says_nothing_changed(home: Path, tmp_path: Path) -> None:
    process, _ = ingest_in_the_middle(home, tmp_path)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert count_papers(home) in (179, 179 + BIG)  # as it was, or (if it had committed) complete


def test_a_second_writer_waits_then_says_who_holds_the_lock(home: Path, tmp_path: Path) -> None:
    assert run_cli(home, "stats").returncode == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from core.lock import WriteLock;"
            "lock = WriteLock(Path(sys.argv[1]), 'papercite ingest huge.bib'); lock.acquire();"
            "print('held', flush=True); time.sleep(30)",
            str(home / "write.lock"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        env_timeout = {"PAPERCITE_LOCK_TIMEOUT": "0.5"}
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "core.cli", "remove", "triforce"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "PAPERCITE_HOME": str(home), **env_timeout},
            timeout=30,
        )
        assert time.monotonic() - started < 10
        assert result.returncode == 1
        assert f"process {holder.pid}" in result.stderr and "papercite ingest huge.bib" in result.stderr
        assert "PAPERCITE_LOCK_TIMEOUT" in result.stderr
        # Readers are not blocked by a writer.
        assert run_cli(home, "search", "looped transformers", "-k", "1").returncode == 0
    finally:
        holder.kill()
        holder.wait()
    assert run_cli(home, "remove", "triforce").returncode == 0


async def test_two_libraries_writing_at_once_both_land(home: Path, tmp_path: Path) -> None:
    first_file, second_file = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first_file.write_text('{"title": "Paper One", "authors": ["A, B"], "year": 2020}\n')
    second_file.write_text('{"title": "Paper Two", "authors": ["C, D"], "year": 2021}\n')
    async with await Library.open(home) as one, await Library.open(home) as two:
        reports = await asyncio.gather(one.ingest([first_file]), two.ingest([second_file]))
        assert [r.added for r in reports] == [["a2020paper"], ["c2021paper"]]
        assert (await one.stats())["papers"] == 181


def test_lock_timeout_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "write.lock"
    with WriteLock(path, "first"):
        started = time.monotonic()
        with pytest.raises(StoreLocked, match="first"):
            WriteLock(path, "second").acquire(timeout=0.3)
        assert 0.25 < time.monotonic() - started < 5
