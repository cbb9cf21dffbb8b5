"""An ingest's parsing workers end with it, `kill -9` included (the review found 3–4 processes of
12–95 MB each still running 90 s after the ingest was killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core.formats import pieces
from tests.conftest import REPO

WORDS = [
    "model",
    "data",
    "learning",
    "neural",
    "graph",
    "attention",
    "sparse",
    "cache",
    "decoding",
    "retrieval",
    "token",
]


def _write_arxiv_lines(path: Path, size: int) -> None:
    """Synthetic arXiv metadata lines, `size` bytes or a little more: several pieces for the workers."""
    with path.open("w", encoding="utf-8") as out:
        written, n = 0, 0
        while written < size:
            record = {
                "id": f"2101.{n:05d}",
                "title": f"Paper {n} on " + " ".join(WORDS[(n + i) % len(WORDS)] for i in range(6)),
                "abstract": " ".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(150)),
                "authors_parsed": [["Doe", "Jane"]],
                "categories": "cs.CL",
            }
            written += out.write(json.dumps(record) + "\n")
            n += 1


def _workers(ingest: psutil.Process) -> list[psutil.Process]:
    return [p for p in ingest.children(recursive=True) if "forkserver" in " ".join(p.cmdline())]


def test_workers_die_with_a_killed_ingest(tmp_path: Path) -> None:
    data = tmp_path / "arxiv.jsonl"
    _write_arxiv_lines(data, 3 * pieces.PIECE_BYTES)
    env = {**os.environ, "PAPERCITE_HOME": str(tmp_path / "home")}
    ingest = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "ingest", str(data)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process = psutil.Process(ingest.pid)
    descendants: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        # Two workers under the forkserver, all three started from it: parsing is under way.
        while len(_workers(process)) < 3 and time.monotonic() < deadline and ingest.poll() is None:
            time.sleep(0.05)
        descendants = process.children(recursive=True)
        assert len(_workers(process)) >= 3, "the ingest never started its workers"
        os.kill(ingest.pid, signal.SIGKILL)
        ingest.wait()
        _, alive = psutil.wait_procs(descendants, timeout=10)
        assert alive == [], [" ".join(p.cmdline())[:80] for p in alive]
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
        for leftover in descendants:
            if leftover.is_running():
                leftover.kill()
