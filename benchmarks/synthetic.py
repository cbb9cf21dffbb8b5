"""Synthetic abstracts in the arXiv metadata snapshot format (JSON Lines), at any size.

    python -m benchmarks.synthetic N OUT.jsonl [--seed S]

The language is learned from the seed corpus as a word trigram chain, so sentences read like
abstracts of this field; a Zipf-distributed long tail of invented words is mixed in, so the
vocabulary keeps growing with N as a real collection's does (a handful of new words per paper).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from core.formats import parse_file
from core.library import seed_files
from core.records import Paper

_WORD = re.compile(r"\S+")
_START = ("<s>", "<s>")
# Each generated word is replaced by a long-tail word with this probability.
TAIL_RATE = 0.06
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "xe",
    "qu",
    "dra",
    "pel",
    "tor",
    "vin",
    "gam",
    "sul",
    "fex",
    "bor",
    "nac",
    "ith",
]


class TrigramChain:
    def __init__(self, texts: list[str]) -> None:
        self.next: dict[tuple[str, str], list[str]] = defaultdict(list)
        for text in texts:
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                words = _WORD.findall(sentence)
                if len(words) < 4:
                    continue
                context = _START
                for word in [*words, "</s>"]:
                    self.next[context].append(word)
                    context = (context[1], word)

    def sentence(self, rng: random.Random, max_words: int = 45) -> list[str]:
        words: list[str] = []
        context = _START
        while len(words) < max_words:
            choices = self.next.get(context)
            if not choices:
                break
            word = rng.choice(choices)
            if word == "</s>":
                break
            words.append(word)
            context = (context[1], word)
        return words


def tail_word(rng: random.Random, vocabulary: int) -> str:
    """A Zipf-distributed draw from an unbounded set of invented words (rank 1 most frequent)."""
    rank = int(rng.paretovariate(0.45)) % vocabulary
    syllables = []
    while True:
        rank, digit = divmod(rank, len(SYLLABLES))
        syllables.append(SYLLABLES[digit])
        if rank == 0:
            break
    return "".join(syllables)


def seed_texts() -> tuple[list[str], list[str]]:
    papers = [p for f in seed_files() for p in parse_file(f) if isinstance(p, Paper)]
    return [p.abstract for p in papers], [p.title for p in papers if not p.title_derived]


def records(count: int, seed: int = 7) -> Iterator[dict[str, object]]:
    abstracts, titles = seed_texts()
    body, heading = TrigramChain(abstracts), TrigramChain(titles + abstracts)
    rng = random.Random(seed)
    vocabulary = 50 * max(1000, count)  # room for the tail to keep growing with the collection
    surnames = ["Chen", "Smith", "Garcia", "Kim", "Müller", "Rossi", "Sato", "Novak", "Okafor", "Silva"]

    def with_tail(words: list[str]) -> str:
        return " ".join(tail_word(rng, vocabulary) if rng.random() < TAIL_RATE else w for w in words)

    for number in range(count):
        sentences = [with_tail(body.sentence(rng)) for _ in range(rng.randint(4, 8))]
        title = with_tail(heading.sentence(rng, max_words=rng.randint(6, 14))).rstrip(".")
        authors = [
            (rng.choice(surnames) + tail_word(rng, 50).capitalize(), rng.choice("ABCDEFGHJKLM") + ".")
            for _ in range(rng.randint(1, 5))
        ]
        year = 2007 + number % 18
        yield {
            "id": f"{year % 100:02d}{1 + number % 12:02d}.{number:05d}"
            if number < 100_000
            else f"synth/{number:07d}",
            "submitter": authors[0][0],
            "authors": ", ".join(f"{given} {family}" for family, given in authors),
            "title": title or f"Untitled {number}",
            "comments": None,
            "journal-ref": None,
            "doi": None,
            "categories": rng.choice(["cs.CL", "cs.LG", "cs.AI", "cs.IR"]),
            "abstract": " ".join(sentences),
            "versions": [{"version": "v1", "created": f"Mon, 1 Jan {year} 00:00:00 GMT"}],
            "update_date": f"{year}-01-01",
            "authors_parsed": [[family, given, ""] for family, given in authors],
        }


def citing_sentences(count: int, seed: int = 11) -> list[str]:
    """Sentences of 15–25 words, as someone writing before a citation would."""
    abstracts, _ = seed_texts()
    chain = TrigramChain(abstracts)
    rng = random.Random(seed)
    made: list[str] = []
    while len(made) < count:
        words = chain.sentence(rng, max_words=25)
        if len(words) >= 15:
            made.append(" ".join(words).rstrip("."))
    return made


def citing_paragraphs(count: int, lead: int = 3) -> list[str]:
    """A citing sentence after `lead` others of its paragraph, as most citations are written."""
    sentences = citing_sentences(count * (lead + 1), seed=13)
    return [". ".join(sentences[n : n + lead + 1]) for n in range(0, len(sentences), lead + 1)]


def write(count: int, path: Path, seed: int = 7) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records(count, seed):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(args.count, args.out, args.seed)


if __name__ == "__main__":
    main()
