"""Where a link to a paper ends and what replaces it: pure, on hand-made text."""

from __future__ import annotations

import pytest

from core.documents import syntax
from core.identifiers import find_identifiers
from server.add_paper import citation_for, link_span


def replaced(text: str, language: str, key: str = "k") -> str:
    [found] = find_identifiers(text)
    span = link_span(text, found.start, found.end, language)
    return text[: span.start] + citation_for(key, language, span.label) + text[span.end :]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As shown in https://arxiv.org/abs/2404.11912v2, it works.", "As shown in [@k], it works."),
        ("As shown in <https://arxiv.org/abs/2404.11912>.", "As shown in [@k]."),
        ("Use [TriForce](https://arxiv.org/abs/2404.11912) here.", "Use TriForce [@k] here."),
        ("See doi:10.1145/3404835.3463238.", "See [@k]."),
    ],
)
def test_markdown_links_become_citations(text: str, expected: str) -> None:
    assert replaced(text, syntax.MARKDOWN) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("As shown in arXiv:2404.11912, it works.", "As shown in \\cite{k}, it works."),
        ("See \\url{https://doi.org/10.1145/3404835.3463238} now.", "See \\cite{k} now."),
        ("Use \\href{https://arxiv.org/abs/2404.11912}{TriForce} here.", "Use TriForce~\\cite{k} here."),
    ],
)
def test_latex_links_become_citations(text: str, expected: str) -> None:
    assert replaced(text, syntax.LATEX) == expected
