"""Every citation key in a document, with where it stands: for hover, diagnostics and references.

The scanners read a document the way LaTeX and pandoc do (`core/documents/latex_scan.py`,
`core/documents/markdown_scan.py`); `tests/data/citations/` holds documents with the keys the real tools see.
"""

from __future__ import annotations

from bisect import bisect_right

from core.documents import syntax
from core.documents.cited import CitedKey
from core.documents.latex_scan import latex_citations
from core.documents.markdown_scan import markdown_citations

__all__ = ["CitedKey", "citation_at", "find_citations", "latex_citations", "markdown_citations"]


def find_citations(text: str, language: str) -> list[CitedKey]:
    return latex_citations(text) if language == syntax.LATEX else markdown_citations(text)


def citation_at(citations: list[CitedKey], offset: int) -> CitedKey | None:
    """The cited key under the cursor (touching its end counts); `citations` are in document order."""
    index = bisect_right(citations, offset, key=lambda cited: cited.start) - 1
    if index >= 0 and citations[index].start <= offset <= citations[index].end:
        return citations[index]
    return None
