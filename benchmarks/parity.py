"""Our BM25 top-5 against rank-bm25's BM25Okapi over exactly the same tokens, on the seed corpus.

    python -m benchmarks.parity

Differences come from two known places: rank-bm25's IDF, log((N - n + 0.5) / (n + 0.5)) floored at
a fraction of the mean for common terms, against Lucene's log(1 + (N - n + 0.5) / (n + 0.5)) that
tantivy uses; and tantivy's one-byte document-length norms.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rank_bm25 import BM25Okapi

from benchmarks.citing_sentences import DEFAULT_SENTENCES as DEV_SENTENCES
from core.library import Library
from core.text import analyze, clean_citing_text

TOP = 5


@dataclass(frozen=True)
class Parity:
    queries: int
    same_first: float
    same_top5_set: float
    mean_top5_overlap: float


async def measure(library: Library, queries: list[str]) -> Parity:
    papers = [p async for batch in library.store.iter_papers() for p in batch]
    reference = BM25Okapi([analyze(p.search_text()) for p in papers], k1=1.2, b=0.75)
    first = same_set = 0
    overlap = 0.0
    for query in queries:
        scores = reference.get_scores(analyze(clean_citing_text(query)))
        theirs = [papers[i].key for i in sorted(range(len(papers)), key=lambda i: -scores[i])[:TOP]]
        ours = [hit.key for hit in await library.search(query, TOP, semantic=False)]
        first += theirs[0] == ours[0]
        same_set += set(theirs) == set(ours)
        overlap += len(set(theirs) & set(ours)) / TOP
    n = len(queries)
    return Parity(n, first / n, same_set / n, overlap / n)


async def run() -> None:
    queries = [json.loads(line)["text"] for line in DEV_SENTENCES.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as home:
        library = await Library.open(Path(home))
        try:
            parity = await measure(library, queries)
        finally:
            await library.close()
    print("| queries | same first hit | same top-5 set | mean top-5 overlap |")
    print("|---|---|---|---|")
    print(
        f"| {parity.queries} | {parity.same_first:.1%} | {parity.same_top5_set:.1%} "
        f"| {parity.mean_top5_overlap:.1%} |"
    )


if __name__ == "__main__":
    asyncio.run(run())
