"""The team server: completion through the language server to `papercite serve` on loopback, beside
the same language server on the folder, and the server under many concurrent clients.

    python -m benchmarks.remote [--sizes 10k 100k] [--clients 50] [--seconds 20] [--work DIR]

For each size (synthetic abstracts, benchmarks/synthetic.py): completion round trips over stdio
after citing sentences, with the home a folder and with the home the server's URL (p50/p95/p99);
then `--clients` clients, each with a token of its own, sending the request a completion makes
(`/v1/search` with the context's weighted terms, 20 results and word statistics) back to back for
`--seconds`: throughput, p50/p95/p99 and errors. The load comes from this process, on the same
machine as the server: on 2 cores the clients take part of the server's CPU.
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
    samples: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


@dataclass
class SizeResult:
    label: str
    local: list[float]
    remote: list[float]
    load: Load


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


async def measure(label: str, work: Path, clients: int, seconds: float) -> SizeResult:
    home = home_for(label, work)
    docs = lsp_latency.documents(synthetic.citing_sentences(QUERIES))
    local = await completions(home, docs)
    tokens = [make_token(home, f"bench-{label}-{n}-{time.time_ns()}") for n in range(clients + 1)]
    server = TeamServer(home).start(timeout=600)
    try:
        os.environ[TOKEN_VARIABLE] = tokens[0]  # the language server's token, from its environment
        remote = await completions(server.url, docs)
        queries = [text_terms(sentence) for sentence in synthetic.citing_sentences(QUERIES, seed=13)]
        under_load = await load(server.url, tokens[1:], queries, seconds)
    finally:
        os.environ.pop(TOKEN_VARIABLE, None)
        server.stop()
    return SizeResult(label, local, remote, under_load)


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
        "The server under concurrent clients (each: a token, one completion's search after another):",
        "",
        "| abstracts | clients | seconds | requests | per second | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        load_ = r.load
        errors = ", ".join(f"{name} {count}" for name, count in load_.errors.items()) or "none"
        lines.append(
            f"| {r.label} | {load_.clients} | {load_.seconds:g} | {len(load_.samples)} | "
            f"{len(load_.samples) / load_.seconds:.0f} | {ms(statistics.median(load_.samples))} | "
            f"{ms(percentile(load_.samples, 0.95))} | {ms(percentile(load_.samples, 0.99))} | {errors} |"
        )
    return "\n".join(lines)


async def run(labels: list[str], work: Path, clients: int, seconds: float) -> str:
    return table([await measure(label, work, clients, seconds) for label in labels])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10k", "100k"], choices=list(SIZES))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--work", type=Path, help="folder for the synthetic data and homes (kept)")
    args = parser.parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        print(asyncio.run(run(args.sizes, args.work, args.clients, args.seconds)))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            print(asyncio.run(run(args.sizes, Path(scratch), args.clients, args.seconds)))


if __name__ == "__main__":
    main()
