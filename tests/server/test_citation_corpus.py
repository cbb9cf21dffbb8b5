"""The scanners against the real tools, on the documents of tests/data/citations/.

expected.json holds the keys pdflatex (its .aux and .bcf), pandoc (its Cite elements) and MyST's
parser see in each document (tests/data/citations/regenerate.py makes it); no TeX is needed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.citations import find_citations
from server.syntax import LATEX, MARKDOWN

CORPUS = Path(__file__).resolve().parents[1] / "data" / "citations"
EXPECTED: dict[str, list[str]] = json.loads((CORPUS / "expected.json").read_text())
TARGET = 0.99


def language_of(name: str) -> str:
    return LATEX if name.endswith(".tex") else MARKDOWN


def flagged(name: str) -> set[str]:
    return {c.key for c in find_citations((CORPUS / name).read_text(), language_of(name))}


def agreement(language: str) -> tuple[float, float, int, list[str]]:
    """(precision, recall, keys the tools see, disagreements) over the documents of a language."""
    true_positives = flagged_count = expected_count = 0
    disagreements = []
    for name, keys in EXPECTED.items():
        if language_of(name) != language:
            continue
        found, expected = flagged(name), set(keys)
        true_positives += len(found & expected)
        flagged_count += len(found)
        expected_count += len(expected)
        if found != expected:
            disagreements.append(
                f"{name}: extra {sorted(found - expected)}, missing {sorted(expected - found)}"
            )
    precision = true_positives / flagged_count if flagged_count else 1.0
    recall = true_positives / expected_count if expected_count else 1.0
    return precision, recall, expected_count, disagreements


@pytest.mark.parametrize("language", [LATEX, MARKDOWN])
def test_flagged_keys_agree_with_the_real_tools(language: str) -> None:
    precision, recall, seen, disagreements = agreement(language)
    print(f"\n{language}: {seen} keys the tools see, precision {precision:.3f}, recall {recall:.3f}")
    assert seen > 20
    assert precision >= TARGET and recall >= TARGET, "\n".join(disagreements)


def test_every_document_has_expected_keys() -> None:
    documents = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.*") if p.parent != CORPUS}
    assert documents == set(EXPECTED), "run tests/data/citations/regenerate.py after adding a document"
