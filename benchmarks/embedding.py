"""The sentence model's cost: loading it, embedding abstracts (what `papercite embed` does), one query.

    python -m benchmarks.embedding [--abstracts N] [--queries N] [--rounds N] [--model-file PATH ...]

Abstracts are the seed corpus's and, with PAPERCITE_ACMCR, ACM-CR's (real ones, of real lengths);
queries are the citing sentences of tests/data/eval, each embedded once (no cache). The abstracts
are embedded `--rounds` times by each way of running, interleaved (this machine is shared: the best
round says most about the code, the median about the day): the shipped model as papercite runs it
(each text alone, the texts spread over threads), the same model in sorted batches of 32 on two
intra-op threads (how papercite ran it before), and each --model-file (another export, e.g. an
earlier papercite's `git show REV:core/data/minilm/model.onnx`) both ways, with its vectors'
worst and mean cosine to the shipped model's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.citing_sentences import DEFAULT_SENTENCES, load_sentences
from core.embedding import DIMENSIONS, MAX_TOKENS, Encoder, model_folder, paper_text
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


def batched(model_file: Path) -> Callable[[Sequence[str]], np.ndarray]:
    """Texts sorted by length, 32 to a run padded to the longest, two intra-op threads."""
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_folder() / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()  # tokenizer.json pads to the longest of a call: padded here, per run
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def encode(texts: Sequence[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            ids = np.zeros((len(chunk), max(len(encodings[i].ids) for i in chunk)), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chunk):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            out[chunk] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    return encode


def alone(model_file: Path, scratch: Path) -> Callable[[Sequence[str]], np.ndarray]:
    """papercite's Encoder over another model file (the shipped tokenizer beside it)."""
    folder = scratch / model_file.name
    folder.mkdir()
    (folder / "model.onnx").symlink_to(model_file.resolve())
    (folder / "tokenizer.json").symlink_to(model_folder() / "tokenizer.json")
    return Encoder(folder).encode


def throughput(
    ways: dict[str, Callable[[Sequence[str]], np.ndarray]], texts: list[str], rounds: int
) -> list[str]:
    reference = ways["shipped model, each text alone (papercite)"](texts)
    walls: dict[str, list[float]] = {name: [] for name in ways}
    cpus: dict[str, list[float]] = {name: [] for name in ways}
    closeness: dict[str, str] = {}
    for name, encode in ways.items():
        vectors = encode(texts)  # first-call set-up out of the figure
        cosines = np.sum(vectors * reference, axis=1)
        closeness[name] = f"{cosines.min():.4f} / {cosines.mean():.4f}"
    for _ in range(rounds):
        for name, encode in ways.items():
            started, cpu = time.perf_counter(), time.process_time()
            encode(texts)
            walls[name].append(len(texts) / (time.perf_counter() - started))
            # CPU time too: on a shared machine the wall clock says more about the neighbours.
            cpus[name].append(len(texts) / (time.process_time() - cpu))
    lines = [
        f"{len(texts)} abstracts cut at {MAX_TOKENS} tokens, {rounds} rounds interleaved",
        "",
        "| way | abstracts/s, best | median | per CPU-second, best | cosine to the shipped vectors, min / mean |",
        "|---|---|---|---|---|",
    ]
    for name in ways:
        lines.append(
            f"| {name} | {max(walls[name]):.1f} | {statistics.median(walls[name]):.1f} | "
            f"{max(cpus[name]):.1f} | {closeness[name]} |"
        )
    return lines


def run(abstracts: int, queries: int, rounds: int, model_files: Sequence[Path]) -> str:
    started = time.perf_counter()
    encoder = Encoder()
    load = time.perf_counter() - started
    texts = (asyncio.run(_seed_texts()) + _collection_texts(abstracts))[:abstracts]
    with tempfile.TemporaryDirectory() as scratch:
        ways = {
            "shipped model, each text alone (papercite)": encoder.encode,
            "shipped model, sorted batches of 32": batched(model_folder() / "model.onnx"),
        }
        for model_file in model_files:
            ways[f"{model_file.name}, each text alone"] = alone(model_file, Path(scratch))
            ways[f"{model_file.name}, sorted batches of 32"] = batched(model_file)
        lines = throughput(ways, texts, rounds)
    sentences = [s.text for s in load_sentences(DEFAULT_SENTENCES)][:queries]
    samples, cpu_samples = [], []
    for sentence in sentences:
        started, cpu = time.perf_counter(), time.process_time()
        encoder.encode([sentence])
        samples.append(time.perf_counter() - started)
        cpu_samples.append(time.process_time() - cpu)
    model_bytes = sum(f.stat().st_size for f in model_folder().iterdir())
    lines += [
        "",
        "| measure | value |",
        "|---|---|",
        f"| model load | {1000 * load:.0f} ms |",
        f"| one citing sentence (n = {len(samples)}), median | {1000 * statistics.median(samples):.1f} ms |",
        f"| one citing sentence, p95 | {1000 * _percentile(samples, 0.95):.1f} ms |",
        f"| one citing sentence, CPU median | {1000 * statistics.median(cpu_samples):.1f} ms |",
        f"| vector on disk | {DIMENSIONS * 2} bytes (float16) |",
        f"| model files in the package | {model_bytes / 1e6:.1f} MB |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abstracts", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=180)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--model-file", type=Path, action="append", default=[], help="another model to compare"
    )
    args = parser.parse_args()
    print(run(args.abstracts, args.queries, args.rounds, args.model_file))


if __name__ == "__main__":
    main()
