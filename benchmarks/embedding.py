"""The sentence model's cost: loading it, embedding abstracts (what `papercite embed` does), one query.

    python -m benchmarks.embedding [--abstracts N] [--queries N]

Abstracts are the seed corpus's and, with --collection or PAPERCITE_ACMCR, ACM-CR's (real ones, of
real lengths); queries are the citing sentences of tests/data/eval, each embedded once (no cache).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.citing_sentences import DEFAULT_SENTENCES, load_sentences
from core.embedding import DIMENSIONS, Encoder, model_folder, paper_text
from core.library import Library

_ABSTRACT = re.compile(r"abstract\s*=\s*\{(.*?)\},?\n", re.DOTALL)


async def _seed_texts() -> list[str]:
    with tempfile.TemporaryDirectory() as scratch:
        library = await Library.open(Path(scratch), semantic=False)
        try:
            return [paper_text(p) async for batch in library.store.iter_papers() for p in batch]
        finally:
            await library.close()


def _collection_texts(limit: int) -> list[str]:
    where = os.environ.get("PAPERCITE_ACMCR")
    if not where:
        return []
    texts: list[str] = []
    for path in sorted(Path(where, "acm-dl").rglob("*.bib")):
        texts += [" ".join(m.group(1).split()) for m in _ABSTRACT.finditer(path.read_text(errors="replace"))]
        if len(texts) >= limit:
            break
    return texts[:limit]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(abstracts: int, queries: int) -> str:
    started = time.perf_counter()
    encoder = Encoder()
    load = time.perf_counter() - started
    texts = (asyncio.run(_seed_texts()) + _collection_texts(abstracts))[:abstracts]
    encoder.encode(texts[:32])  # first-call set-up out of the figure
    started, cpu = time.perf_counter(), time.process_time()
    encoder.encode(texts)
    rate = len(texts) / (time.perf_counter() - started)
    cpu_rate = len(texts) / (time.process_time() - cpu)
    sentences = [s.text for s in load_sentences(DEFAULT_SENTENCES)][:queries]
    samples, cpu_samples = [], []
    for sentence in sentences:
        started, cpu = time.perf_counter(), time.process_time()
        encoder.encode([sentence])
        samples.append(time.perf_counter() - started)
        cpu_samples.append(time.process_time() - cpu)
    model_bytes = sum(f.stat().st_size for f in model_folder().iterdir())
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| model load | {1000 * load:.0f} ms |",
        f"| abstracts embedded ({len(texts)}, batch of 32, cut at 128 tokens) | {rate:.1f} / s |",
        # CPU time too: on a shared machine the wall clock says more about the neighbours.
        f"| the same, per CPU-second (all threads) | {cpu_rate:.1f} |",
        f"| one citing sentence (n = {len(samples)}), median | {1000 * statistics.median(samples):.1f} ms |",
        f"| one citing sentence, p95 | {1000 * _percentile(samples, 0.95):.1f} ms |",
        f"| one citing sentence, CPU median (all threads) | {1000 * statistics.median(cpu_samples):.1f} ms |",
        f"| vector on disk | {DIMENSIONS * 2} bytes (float16) |",
        f"| model files in the package | {model_bytes / 1e6:.1f} MB |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abstracts", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=180)
    args = parser.parse_args()
    print(run(args.abstracts, args.queries))


if __name__ == "__main__":
    main()
