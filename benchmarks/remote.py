"""The team server: completion through the language server to `papercite serve` on loopback, beside
the same language server on the folder, and the server under many concurrent clients.

    python -m benchmarks.remote [--sizes 10k 100k] [--clients 50] [--seconds 20] [--workers 1 2]
                                [--rounds 3] [--work DIR]

For each size (synthetic abstracts, benchmarks/synthetic.py): completion round trips over stdio
after citing sentences, with the home a folder and with the home the server's URL (p50/p95/p99);
then `--clients` clients, each with a token of its own, sending the request a completion makes
(`/v1/search` with the context's weighted terms, 20 results and word statistics) back to back for
`--seconds`: throughput, p50/p95/p99 and errors, against `papercite serve --workers N` for each N
given, the Ns taking turns for `--rounds` rounds and the round with the most requests kept. The
load comes from this process, on the same machine as the server: the table says how much CPU the
clients and the server each took.
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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from api.app import WORKER_HEADER
from api.launch import TeamServer, make_token
from benchmarks import lsp_latency, synthetic
from core.query import text_terms
from core.remote import TOKEN_VARIABLE, RemoteLibrary

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
QUERIES = 200
COMPLETION_RESULTS = 20


@dataclass
class Load:
    clients: int
    seconds: float
    workers: int = 1
    samples: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    # CPU seconds over the run, in this process (the clients) and in the server's processes.
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    # Requests a second in every round at this many workers, the kept one among them.
    rounds: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.seconds


@dataclass
class SizeResult:
    label: str
    local: list[float]
    remote: list[float]
    loads: list[Load]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def home_for(label: str, work: Path) -> Path:
    """A home of that many synthetic abstracts, built once and reused."""
    home = work / f"remote-home-{label}"
    if (home / "index").exists() and (home / ".complete").exists():
        return home
    data = work / f"synthetic-{label}.jsonl"
    if not data.exists():
        synthetic.write(SIZES[label], data)
    env = {**os.environ, "PAPERCITE_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "core.cli", "ingest", str(data)], env=env, check=True, capture_output=True
    )
    (home / ".complete").write_text("")
    return home


async def completions(home: str | Path, docs: list[tuple[str, str, object]]) -> list[float]:
    return (await lsp_latency.round_trips(home, docs)).samples  # type: ignore[arg-type]


def _server_cpu(server: TeamServer) -> float:
    assert server.process is not None
    parent = psutil.Process(server.process.pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _wait_for_workers(server: TeamServer, workers: int, timeout: float = 600) -> None:
    """Until `workers` different processes have answered (new connections reach any of them)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {workers} workers answered: {server.output()}")
        request = urllib.request.Request(f"{server.url}/healthz", headers={"Connection": "close"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            seen.add(answer.headers[WORKER_HEADER])


async def load(url: str, tokens: list[str], queries: list[dict[str, float]], seconds: float) -> Load:
    """Every client sends one completion's search after another until the time is up."""
    result = Load(len(tokens), seconds)
    libraries = [RemoteLibrary(url, token, timeout=10.0) for token in tokens]
    stop = time.perf_counter() + seconds

    async def client(number: int, library: RemoteLibrary) -> None:
        sent = number
        while time.perf_counter() < stop:
            terms = queries[sent % len(queries)]
            sent += 1
            started = time.perf_counter()
            try:
                await library.search(terms, COMPLETION_RESULTS)
            except Exception as error:
                name = type(error).__name__
                result.errors[name] = result.errors.get(name, 0) + 1
                continue
            result.samples.append(time.perf_counter() - started)

    try:
        await asyncio.gather(*(client(n, lib) for n, lib in enumerate(libraries)))
    finally:
        await asyncio.gather(*(lib.close() for lib in libraries))
    return result


async def load_at(
    home: Path, workers: int, tokens: list[str], queries: list[dict[str, float]], seconds: float
) -> Load:
    server = TeamServer(home, extra=("--workers", str(workers))).start(timeout=600)
    try:
        _wait_for_workers(server, workers)
        client_before, server_before = time.process_time(), _server_cpu(server)
        result = await load(server.url, tokens, queries, seconds)
        result.client_cpu = time.process_time() - client_before
        result.server_cpu = _server_cpu(server) - server_before
        result.workers = workers
    finally:
        server.stop()
    return result


async def measure(
    label: str, work: Path, clients: int, seconds: float, workers: list[int], rounds: int
) -> SizeResult:
    home = home_for(label, work)
    docs = lsp_latency.documents(synthetic.citing_sentences(QUERIES))
    local = await completions(home, docs)
    tokens = [make_token(home, f"bench-{label}-{n}-{time.time_ns()}") for n in range(clients + 1)]
    server = TeamServer(home).start(timeout=600)
    try:
        os.environ[TOKEN_VARIABLE] = tokens[0]  # the language server's token, from its environment
        remote = await completions(server.url, docs)
    finally:
        os.environ.pop(TOKEN_VARIABLE, None)
        server.stop()
    queries = [text_terms(sentence) for sentence in synthetic.citing_sentences(QUERIES, seed=13)]
    best: dict[int, Load] = {}
    every: dict[int, list[float]] = {count: [] for count in workers}
    # The worker counts take turns, so that a slow spell of the machine falls on all of them.
    for _ in range(rounds):
        for count in workers:
            result = await load_at(home, count, tokens[1:], queries, seconds)
            every[count].append(result.throughput)
            if count not in best or result.throughput > best[count].throughput:
                best[count] = result
    for count, result in best.items():
        result.rounds = every[count]
    return SizeResult(label, local, remote, [best[count] for count in workers])


def ms(value: float) -> str:
    return f"{1000 * value:.1f}"


def table(results: list[SizeResult]) -> str:
    lines = [
        "Completion round trip over stdio, the language server's home a folder or `papercite serve` on loopback:",
        "",
        "| abstracts | home | n | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for name, samples in (("folder", r.local), ("server URL", r.remote)):
            lines.append(
                f"| {r.label} | {name} | {len(samples)} | {ms(statistics.median(samples))} | "
                f"{ms(percentile(samples, 0.95))} | {ms(percentile(samples, 0.99))} |"
            )
    lines += [
        "",
        "The server under concurrent clients (each: a token, one completion's search after another),",
        "`papercite serve --workers N`; the best of the rounds, and every round's requests a second;",
        "CPU as a share of one core, of the server's processes and of the clients' one process:",
        "",
        "| abstracts | clients | seconds | workers | requests | per second | p50 ms | p95 ms | p99 ms "
        "| errors | rounds, per second | server CPU | clients CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for load_ in r.loads:
            errors = ", ".join(f"{name} {count}" for name, count in load_.errors.items()) or "none"
            rounds = " / ".join(f"{value:.0f}" for value in load_.rounds)
            lines.append(
                f"| {r.label} | {load_.clients} | {load_.seconds:g} | {load_.workers} | {len(load_.samples)} | "
                f"{load_.throughput:.0f} | {ms(statistics.median(load_.samples))} | "
                f"{ms(percentile(load_.samples, 0.95))} | {ms(percentile(load_.samples, 0.99))} | {errors} | "
                f"{rounds} | {100 * load_.server_cpu / load_.seconds:.0f}% | "
                f"{100 * load_.client_cpu / load_.seconds:.0f}% |"
            )
    return "\n".join(lines)


async def run(
    labels: list[str], work: Path, clients: int, seconds: float, workers: list[int], rounds: int
) -> str:
    return table([await measure(label, work, clients, seconds, workers, rounds) for label in labels])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10k", "100k"], choices=list(SIZES))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="serve --workers N for each N")
    parser.add_argument("--rounds", type=int, default=1, help="load runs per worker count; the best is kept")
    parser.add_argument("--work", type=Path, help="folder for the synthetic data and homes (kept)")
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        print(asyncio.run(run(args.sizes, args.work, args.clients, args.seconds, args.workers, args.rounds)))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            print(
                asyncio.run(
                    run(args.sizes, Path(scratch), args.clients, args.seconds, args.workers, args.rounds)
                )
            )


if __name__ == "__main__":
    main()
