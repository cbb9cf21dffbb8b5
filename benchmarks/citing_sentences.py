"""Citing sentences → the paper they describe: first-item and top-3 rates on the seed corpus.

    python -m benchmarks.citing_sentences [--sentences tests/data/eval/citing-sentences-dev.jsonl] [--misses]

Each line of the file is {"text", "style", "title" or null, "abstract_start"}; the gold paper is the
one with that title or, for untitled seed abstracts, whose abstract starts with `abstract_start`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.library import Library
from core.records import Paper

DEFAULT_SENTENCES = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "eval" / "citing-sentences-dev.jsonl"
)


@dataclass(frozen=True)
class CitingSentence:
    text: str
    style: str
    title: str | None
    abstract_start: str

    def is_gold(self, paper: Paper) -> bool:
        if self.title:
            return not paper.title_derived and paper.title == self.title
        return paper.abstract.startswith(self.abstract_start)


def load_sentences(path: Path) -> list[CitingSentence]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [CitingSentence(r["text"], r["style"], r.get("title"), r["abstract_start"]) for r in rows]


@dataclass(frozen=True)
class Rates:
    total: int
    first: int
    top3: int

    def row(self, label: str) -> str:
        return f"| {label} | {self.total} | {self.first / self.total:.1%} | {self.top3 / self.total:.1%} |"


def rate(ranks: Sequence[int | None]) -> Rates:
    return Rates(
        total=len(ranks),
        first=sum(r == 1 for r in ranks),
        top3=sum(r is not None and r <= 3 for r in ranks),
    )


async def gold_ranks(
    library: Library, sentences: Sequence[CitingSentence], k: int = 10, *, semantic: bool | None = None
) -> list[int | None]:
    ranks: list[int | None] = []
    for sentence in sentences:
        hits = await library.search(sentence.text, k, semantic=semantic)
        ranks.append(next((h.rank for h in hits if sentence.is_gold(h.paper)), None))
    return ranks


async def run(path: Path, show_misses: bool) -> None:
    sentences = load_sentences(path)
    with tempfile.TemporaryDirectory() as home:
        library = await Library.open(Path(home))
        try:
            ranks = await gold_ranks(library, sentences)
            plain = await gold_ranks(library, sentences, semantic=False)
            if show_misses:
                for sentence, rank in zip(sentences, ranks, strict=True):
                    if rank != 1:
                        hits = await library.search(sentence.text, 3)
                        print(f"rank {rank} [{sentence.style}] {sentence.text}")
                        print(f"    gold: {sentence.title or sentence.abstract_start}")
                        print(f"    got:  {[h.paper.title[:50] for h in hits]}")
        finally:
            await library.close()
    print("| sentences | n | first | top 3 |")
    print("|---|---|---|---|")
    for label, found in (("BM25 + MiniLM", ranks), ("BM25 alone", plain)):
        print(rate(found).row(f"all, {label}"))
        for style in ("named", "unnamed"):
            print(
                rate([r for r, s in zip(found, sentences, strict=True) if s.style == style]).row(
                    f"{style}, {label}"
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    parser.add_argument("--misses", action="store_true", help="print the sentences not ranked first")
    args = parser.parse_args()
    asyncio.run(run(args.sentences, args.misses))


if __name__ == "__main__":
    main()
