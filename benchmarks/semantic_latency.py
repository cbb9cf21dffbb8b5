"""Completion with and without sentence vectors, server side, at the size of a given home.

    python -m benchmarks.semantic_latency --home DIR [--queries N] [--random-vectors]

Each completion is a new 15–25-word sentence (the synthetic generator's), so each pays for its
sentence's embedding — the cost an editor sees once per sentence. --random-vectors first gives every
paper lacking a vector a random unit vector: the cost of fusing does not depend on the vectors'
values, and embedding a synthetic 100k collection takes longer than measuring it (use it on a
benchmark home only: the vectors mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import numpy as np

from benchmarks import lsp_latency, synthetic
from core.embedding import DIMENSIONS, paper_text, text_digest
from core.library import Library

_CHUNK = 20_000


async def fill_random_vectors(home: Path) -> int:
    async with await Library.open(home) as library:
        have = library.vectors.digests()
        pending = [
            (paper.key, text_digest(paper_text(paper)))
            async for batch in library.store.iter_papers()
            for paper in batch
            if paper.key not in have
        ]
        appender = library.vectors.appending()
        rng = np.random.default_rng(5)
        for start in range(0, len(pending), _CHUNK):
            chunk = pending[start : start + _CHUNK]
            rows = rng.normal(size=(len(chunk), DIMENSIONS)).astype(np.float32)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            appender.add([key for key, _ in chunk], [digest for _, digest in chunk], rows)
        return len(pending)


async def run(home: Path, queries: int, rounds: int) -> str:
    lines = ["| run | n | median ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    results: dict[str, list[float]] = {"BM25 alone": [], "BM25 + MiniLM": []}
    for number in range(rounds):  # interleaved, each round with sentences of its own
        docs = lsp_latency.documents(synthetic.citing_sentences(queries, seed=100 + number))
        for label, semantic in (("BM25 alone", False), ("BM25 + MiniLM", True)):
            latency = await lsp_latency.server_side(home, docs, label, semantic=semantic)
            results[label] += latency.samples
    for label, samples in results.items():
        lines.append(lsp_latency.Latency(label, samples).row())
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--random-vectors", action="store_true")
    args = parser.parse_args()
    if args.random_vectors:
        print(f"random vectors given to {asyncio.run(fill_random_vectors(args.home))} papers\n")
    print(asyncio.run(run(args.home, args.queries, args.rounds)))


if __name__ == "__main__":
    main()
