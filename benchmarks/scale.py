"""Speed at scale: synthetic arXiv collections of 10k, 100k and 1M abstracts, rank-bm25 beside us.

    python -m benchmarks.scale [--sizes 10k 100k 1M] [--work DIR]

Without --work, data and homes go to a fresh temporary folder, removed afterwards: runs at the same
time (two checkouts' test suites) must not share a home, since each run starts its home afresh.
With --work, the synthetic data written there is kept for the next run (1M takes a while to make).

For each size: `papercite ingest` throughput and peak memory, index and store size on disk, cold
start of `papercite lsp` to the first completion, completion round trips over stdio after 15–25-word
sentences (p50/p95/p99), alone and as the last of a four-sentence paragraph (the paragraph is weaker
context), the server's resident memory, and `/paper` acknowledgement time. rank-bm25's
BM25Okapi over the same tokens is built and queried at 10k and 100k; at 1M its needs are extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks import lsp_latency, slack_ack, synthetic

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
QUERIES = 200
RANK_BM25_LIMIT = 100_000
RANK_BM25_QUERIES = 20


@dataclass
class SizeResult:
    label: str
    papers: int
    ingest_seconds: float = 0.0
    ingest_peak_rss: int = 0
    index_bytes: int = 0
    store_bytes: int = 0
    cold_start: float = 0.0
    completion: list[float] = field(default_factory=list)
    completion_in_paragraph: list[float] = field(default_factory=list)
    server_rss: int = 0
    ack: list[float] = field(default_factory=list)
    bm25_build: float | None = None
    bm25_query: float | None = None
    bm25_rss: int | None = None


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def timed_ingest(home: Path, data: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes, the process and its workers) of one ingest."""
    env = {**os.environ, "PAPERCITE_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "core.cli", "stats"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "ingest", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0

    def watch() -> None:
        nonlocal peak
        parent = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                family = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in family))
            except psutil.Error:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert process.wait() == 0
    watcher.join()
    return time.perf_counter() - started, peak


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def rank_bm25_figures(home: Path, queries: list[str]) -> tuple[float, float, int]:
    """Build seconds, median seconds per query and memory growth (bytes) of rank-bm25 over the home."""
    from rank_bm25 import BM25Okapi

    from core.library import Library
    from core.text import analyze, clean_citing_text

    library = await Library.open(home)
    try:
        corpus = [analyze(p.search_text()) async for batch in library.store.iter_papers() for p in batch]
    finally:
        await library.close()
    before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    reference = BM25Okapi(corpus, k1=1.2, b=0.75)
    build = time.perf_counter() - started
    grown = psutil.Process().memory_info().rss - before
    times = []
    for query in queries[:RANK_BM25_QUERIES]:
        started = time.perf_counter()
        scores = reference.get_scores(analyze(clean_citing_text(query)))
        scores.argsort()[-10:]
        times.append(time.perf_counter() - started)
    return build, statistics.median(times), grown


async def measure(label: str, work: Path) -> SizeResult:
    size = SIZES[label]
    data = work / f"synthetic-{label}.jsonl"
    if not data.exists():
        # Written aside and renamed, so a run that stops half-way leaves no partial file to reuse.
        partial = data.with_name(f"{data.name}.{os.getpid()}.partial")
        synthetic.write(size, partial)
        partial.replace(data)
    home = work / f"home-{label}"
    if home.exists():
        subprocess.run(["rm", "-rf", str(home)], check=True)
    result = SizeResult(label, size)
    result.ingest_seconds, result.ingest_peak_rss = timed_ingest(home, data)
    result.index_bytes = folder_bytes(home / "index")
    result.store_bytes = (home / "papers.sqlite3").stat().st_size
    sentences = synthetic.citing_sentences(QUERIES)
    docs = lsp_latency.documents(sentences)
    result.cold_start = statistics.median((await lsp_latency.cold_start(home, docs[0])).samples)
    latency, result.server_rss = await lsp_latency.round_trips_and_memory(home, docs)
    result.completion = latency.samples
    in_paragraphs = lsp_latency.documents(synthetic.citing_paragraphs(QUERIES))
    result.completion_in_paragraph = (await lsp_latency.round_trips(home, in_paragraphs)).samples
    result.ack = await slack_ack.run(100, home)
    if size <= RANK_BM25_LIMIT:
        result.bm25_build, result.bm25_query, result.bm25_rss = await rank_bm25_figures(home, sentences)
    return result


def mb(value: int | None) -> str:
    return "—" if value is None else f"{value / 2**20:,.0f} MB"


def table(results: list[SizeResult]) -> str:
    lines = [
        "| abstracts | ingest /s | ingest peak RSS | index on disk | store on disk | cold start | "
        "completion p50 / p95 / p99 | in a paragraph | server RSS | /paper ack p50 | rank-bm25 build | "
        "rank-bm25 query | rank-bm25 memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def spread(samples: list[float]) -> str:
        return " / ".join(f"{1000 * percentile(samples, q):.1f}" for q in (0.5, 0.95, 0.99)) + " ms"

    for r in results:
        bm25 = (
            (f"{r.bm25_build:.1f} s", f"{1000 * r.bm25_query:.0f} ms", mb(r.bm25_rss))
            if r.bm25_build is not None and r.bm25_query is not None
            else ("not run", "not run", "—")
        )
        lines.append(
            f"| {r.label} | {r.papers / r.ingest_seconds:,.0f} | {mb(r.ingest_peak_rss)} | {mb(r.index_bytes)} | "
            f"{mb(r.store_bytes)} | {r.cold_start:.2f} s | {spread(r.completion)} | "
            f"{spread(r.completion_in_paragraph)} | "
            f"{mb(r.server_rss)} | {1000 * statistics.median(r.ack):.1f} ms | {bm25[0]} | {bm25[1]} | {bm25[2]} |"
        )
    measured = [r for r in results if r.bm25_query is not None]
    if measured and any(r.bm25_query is None for r in results):
        largest = max(measured, key=lambda r: r.papers)
        factor = 1_000_000 / largest.papers
        assert (
            largest.bm25_query is not None and largest.bm25_build is not None and largest.bm25_rss is not None
        )
        lines.append(
            f"\nrank-bm25 at 1M, extrapolated linearly from {largest.label}: about "
            f"{largest.bm25_query * factor:.1f} s per query, {largest.bm25_build * factor:.0f} s to build, "
            f"{largest.bm25_rss * factor / 2**30:.1f} GB of memory — every query scores every document in Python."
        )
    for r in measured:
        ours = percentile(r.completion, 0.5)
        assert r.bm25_query is not None
        lines.append(
            f"\nAt {r.label}, completion median is {r.bm25_query / ours:,.0f}× faster than a rank-bm25 query."
        )
    return "\n".join(lines)


async def run(labels: list[str], work: Path) -> str:
    work.mkdir(parents=True, exist_ok=True)
    return table([await measure(label, work) for label in labels])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument(
        "--work", type=Path, help="where data and homes go (kept; default: a temporary folder)"
    )
    args = parser.parse_args()
    if args.work:
        print(asyncio.run(run(args.sizes, args.work)))
    else:
        with tempfile.TemporaryDirectory(prefix="papercite-scale-") as scratch:
            print(asyncio.run(run(args.sizes, Path(scratch))))


if __name__ == "__main__":
    main()
