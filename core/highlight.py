"""Which part of an abstract matches a query: shared by editor documentation and Slack snippets."""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.text import analyze

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def best_sentence_index(abstract: str, terms: Mapping[str, float]) -> int | None:
    """The index of the abstract sentence sharing the most query weight, or None if none shares any."""
    best, best_score = None, 0.0
    for index, sentence in enumerate(sentences(abstract)):
        score = sum(terms.get(token, 0.0) for token in set(analyze(sentence)))
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
