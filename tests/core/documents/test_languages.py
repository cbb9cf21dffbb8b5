"""Which language a document is read in: its extension when known, else the editor's language id."""

from __future__ import annotations

import pytest

from core.documents.syntax import LATEX, MARKDOWN, language_of


@pytest.mark.parametrize(
    ("language_id", "uri", "expected"),
    [
        # eglot 1.9 sends the first file's id for every file of a project.
        ("latex", "file:///p/notes.md", MARKDOWN),
        ("LaTeX", "file:///p/notes.QMD", MARKDOWN),
        ("markdown", "file:///p/paper.tex", LATEX),
        ("latex", "file:///p/My%20Notes.Rmd", MARKDOWN),
        # An extension papercite does not know leaves it to the id.
        ("markdown", "file:///p/notes.txt", MARKDOWN),
        ("quarto", "untitled:Untitled-1", MARKDOWN),
        ("python", "file:///p/script.py", None),
        (None, "file:///p/paper.ltx", LATEX),
        ("", "file:///p/README", None),
        # A .bib holds entries: never read for citations, whatever the editor calls it.
        ("latex", "file:///p/refs.bib", None),
        ("markdown", "file:///p/REFS.BIB", None),
        ("bibtex", "file:///p/refs.bib", None),
    ],
)
def test_a_known_extension_wins_over_the_language_id(
    language_id: str | None, uri: str, expected: str | None
) -> None:
    assert language_of(language_id, uri) == expected
