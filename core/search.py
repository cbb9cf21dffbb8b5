"""Search results, and "did you mean" for keys."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from core.records import LimitOutOfRange, Paper

# The most papers one search returns, whoever asks: a page of results is ten, a re-ranking pool a
# few hundred; tantivy allocates room for the whole count before it looks at a document.
MAX_RESULTS = 1000


def checked_limit(limit: object) -> int:
    """`limit` if it is a whole number from 0 to MAX_RESULTS; LimitOutOfRange otherwise."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_RESULTS:
        raise LimitOutOfRange(limit, MAX_RESULTS)
    return limit


@dataclass(frozen=True)
class Hit:
    paper: Paper
    score: float
    rank: int

    @property
    def key(self) -> str:
        return self.paper.key

    def to_json(self) -> dict[str, Any]:
        """The shape `papercite search --json` prints (DESIGN.md names these fields)."""
        paper = self.paper
        hit: dict[str, Any] = {
            "key": paper.key,
            "title": paper.title,
            "abstract": paper.abstract,
            "score": round(self.score, 4),
        }
        optional = {
            "authors": list(paper.authors),
            "year": paper.year,
            "doi": paper.doi,
            "url": paper.url or paper.link,
            "venue": paper.venue,
            "arxiv_id": paper.arxiv_id,
        }
        hit.update({name: value for name, value in optional.items() if value})
        return hit


def closest_keys(key: str, candidates: list[str], limit: int = 3) -> list[str]:
    """Known keys that look like a mistyped `key`, closest first."""
    by_folded = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(key.lower(), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[m] for m in matches]
