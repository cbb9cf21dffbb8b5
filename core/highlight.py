"""Which part of an abstract matches a query: shared by editor documentation and Slack snippets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from core.text import analyze

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


@lru_cache(maxsize=8192)
def _analyzed_sentences(abstract: str) -> tuple[frozenset[str], ...]:
    """Each sentence's terms. Cached: while one sentence is being written, the same papers come back."""
    return tuple(frozenset(analyze(sentence)) for sentence in sentences(abstract))


def best_sentence_index(abstract: str, terms: Mapping[str, float]) -> int | None:
    """The index of the abstract sentence sharing the most query weight, or None if none shares any."""
    best, best_score = None, 0.0
    for index, tokens in enumerate(_analyzed_sentences(abstract)):
        score = sum(terms.get(token, 0.0) for token in tokens)
        if score > best_score:
            best, best_score = index, score
    return best


def matching_words(text: str, terms: Mapping[str, float]) -> list[tuple[int, int]]:
    """(start, end) spans of the words in `text` whose analyzed form is a query term."""
    spans = []
    for match in _WORD.finditer(text):
        tokens = analyze(match.group(0))
        if tokens and any(token in terms for token in tokens):
            spans.append(match.span())
    return spans
