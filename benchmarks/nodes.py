"""PostgreSQL as the store: ingest into it against ingest into a folder, and searches through 1, 2
and 3 `papercite serve` nodes over one database.

    python -m benchmarks.nodes [--sizes 100k] [--store postgresql://…] [--clients 30] [--seconds 15]

Without --store, a throwaway PostgreSQL cluster is made for the run (initdb, as tests/postgres.py
does; Debian's postgresql-15), with durability settings left at PostgreSQL's defaults. Each size
ingests the same synthetic JSON Lines file (benchmarks/synthetic.py) with `papercite ingest` twice,
interleaved: into a folder home (SQLite), and into a fresh database with the home holding only the
index — the same code a node runs for an upload. Then N nodes, each with its own folder, over that
database; the clients (each a token of its own) are spread over the nodes, each sending one
completion's search after another.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from api.launch import TeamServer
from benchmarks import synthetic
from benchmarks.remote import COMPLETION_RESULTS, Load, load, percentile
from core.query import text_terms
from core.store_postgres import redacted

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
QUERIES = 200


@dataclass
class SizeResult:
    label: str
    papers: int
    folder_seconds: list[float] = field(default_factory=list)
    postgres_seconds: list[float] = field(default_factory=list)
    loads: list[tuple[int, Load]] = field(default_factory=list)


def _cli(home: Path, *args: str, store: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAPERCITE_HOME": str(home)}
    env.pop("PAPERCITE_STORE", None)
    if store:
        env["PAPERCITE_STORE"] = store
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args], env=env, capture_output=True, text=True, check=True
    )


def timed_ingest(home: Path, data: Path, store: str | None) -> float:
    _cli(home, "stats", store=store)  # seeded and indexed before the clock starts
    started = time.perf_counter()
    _cli(home, "ingest", str(data), store=store)
    return time.perf_counter() - started


def _new_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def measure(
    label: str, work: Path, admin_url: str, clients: int, seconds: float, nodes: list[int], rounds: int
) -> SizeResult:
    count = SIZES[label]
    data = work / f"synthetic-{label}.jsonl"
    if not data.exists():
        synthetic.write(count, data)
    result = SizeResult(label, count)
    store = ""
    for round_ in range(rounds):
        folder = work / f"folder-{label}-{round_}"
        result.folder_seconds.append(timed_ingest(folder, data, None))
        store = _new_database(admin_url, f"bench_{label.lower()}_{round_}")
        result.postgres_seconds.append(timed_ingest(work / f"node-{label}-{round_}-0", data, store))
    queries = [text_terms(q) for q in synthetic.citing_sentences(QUERIES)]
    admin_home = work / f"admin-{label}"
    tokens = [
        _cli(admin_home, "token", "create", f"bench-{n}-{time.time_ns()}", store=store).stdout.split()[-1]
        for n in range(clients)
    ]
    for count_nodes in (n for n in nodes if n > 0):  # (--nodes 0: ingest only)
        servers = [
            TeamServer(work / f"node-{label}-0-{n}" / "home", env={"PAPERCITE_STORE": store})
            for n in range(count_nodes)
        ]
        for server in servers:
            server.home.parent.mkdir(parents=True, exist_ok=True)
            server.start(timeout=1800)
        try:
            best: Load | None = None
            for _ in range(rounds):
                spread = [
                    load(server.url, tokens[n::count_nodes], queries, seconds)
                    for n, server in enumerate(servers)
                ]
                parts = await asyncio.gather(*spread)
                merged = Load(clients, seconds, workers=count_nodes)
                for part in parts:
                    merged.samples += part.samples
                    for name, errors in part.errors.items():
                        merged.errors[name] = merged.errors.get(name, 0) + errors
                merged.rounds = [merged.throughput]
                if best is None or merged.throughput > best.throughput:
                    best = merged
            assert best is not None
            result.loads.append((count_nodes, best))
        finally:
            for server in servers:
                server.stop()
    return result


def table(results: list[SizeResult], store_shown: str) -> str:
    lines = [
        f"Ingest with `papercite ingest` (synthetic JSON Lines; store {store_shown}), seconds per round:",
        "",
        "| abstracts | into a folder (SQLite) | into PostgreSQL (+ the node's index) | ratio (best of each) |",
        "|---|---|---|---|",
    ]
    for r in results:
        folder = " / ".join(f"{s:.1f}" for s in r.folder_seconds)
        postgres = " / ".join(f"{s:.1f}" for s in r.postgres_seconds)
        ratio = min(r.postgres_seconds) / min(r.folder_seconds)
        lines.append(f"| {r.label} | {folder} | {postgres} | {ratio:.2f}x |")
    lines += [
        "",
        f"Searches through N nodes over one database ({COMPLETION_RESULTS} results each; clients spread "
        "over the nodes; best round):",
        "",
        "| abstracts | nodes | clients | seconds | requests | per second | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for nodes, result in r.loads:
            errors = ", ".join(f"{name} {count}" for name, count in result.errors.items()) or "none"
            samples = result.samples
            lines.append(
                f"| {r.label} | {nodes} | {result.clients} | {result.seconds:g} | {len(samples)} | "
                f"{result.throughput:.0f} | {1000 * statistics.median(samples):.1f} | "
                f"{1000 * percentile(samples, 0.95):.1f} | {1000 * percentile(samples, 0.99):.1f} | {errors} |"
            )
    return "\n".join(lines)


async def run(args: argparse.Namespace, work: Path) -> str:
    cluster = None
    admin_url = args.store
    if admin_url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.postgres import Cluster

        cluster = Cluster(durable=True)
        admin_url = cluster.url()
    try:
        results = [
            await measure(label, work, admin_url, args.clients, args.seconds, args.nodes, args.rounds)
            for label in args.sizes
        ]
    finally:
        if cluster is not None:
            cluster.close()
    return table(results, "a throwaway local cluster" if cluster else redacted(admin_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100k"], choices=list(SIZES))
    parser.add_argument("--store", help="a PostgreSQL URL whose user may create databases")
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, help="folder for the synthetic data and homes (kept)")
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        print(asyncio.run(run(args, args.work)))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            print(asyncio.run(run(args, Path(scratch))))


if __name__ == "__main__":
    main()
