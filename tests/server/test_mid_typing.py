"""A citation being typed early in a document changes nothing after it.

For every document of tests/data/citations/, each unfinished citation below is inserted after the
first word of the body's first line of prose: no key appears but the one being typed, every later
citation is found at its (shifted) place — so hover, definition and diagnostics, which look keys up
by offset with `citation_at`, still find it — and completion at the insertion still works.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from core.documents.citations import citation_at, find_citations
from core.documents.syntax import LATEX, MARKDOWN
from server.context import cite_site_at

CORPUS = Path(__file__).resolve().parents[1] / "data" / "citations"
DOCUMENTS = sorted(
    p
    for p in CORPUS.rglob("*.*")
    if p.parent != CORPUS and p.suffix.lower() in {".tex", ".md", ".qmd", ".rmd"}
)
# What is typed, and the key it holds so far.
UNFINISHED = [
    ("\\cite{", None),
    ("\\cite{foo,", "foo"),
    ("\\citep[see][", None),
    ("[@", None),
    ("[see @foo;", "foo"),
]
# Where completion offers keys as it does today: in a key group, after an `@`.
COMPLETES = {"\\cite{": LATEX, "\\cite{foo,": LATEX, "[@": MARKDOWN}
_PROSE_LINE = re.compile(r"^[A-Za-z][\w'-]* ", re.MULTILINE)


def language_of(path: Path) -> str:
    return LATEX if path.suffix == ".tex" else MARKDOWN


def insertion_point(text: str, language: str) -> int:
    """After the first word of the first prose line of the body where a citation can be typed (not
    in code or verbatim: a chapter file has no `\\begin{document}`), or at the start of its first line."""
    body = text.find("\\begin{document}") if language == LATEX else 0
    if language == MARKDOWN and text.startswith("---"):
        body = text.find("\n---", 3) + 4
    body = text.find("\n", max(body, 0)) + 1
    probe = "\\cite{" if language == LATEX else "[@"
    for line in _PROSE_LINE.finditer(text, body):
        at = line.end() - 1
        if cite_site_at(text[:at] + probe + text[at:], at + len(probe), language) is not None:
            return at
    return body


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
@pytest.mark.parametrize(("typed", "key"), UNFINISHED, ids=[u[0] for u in UNFINISHED])
def test_an_unfinished_citation_changes_nothing_after_it(path: Path, typed: str, key: str | None) -> None:
    text = path.read_text()
    language = language_of(path)
    at = insertion_point(text, language)
    edited = text[:at] + typed + text[at:]
    before = find_citations(text, language)
    after = find_citations(edited, language)
    shift = len(typed)

    moved = Counter((c.key, c.start + (shift if c.start >= at else 0)) for c in before)
    now = Counter((c.key, c.start) for c in after)
    new = now - moved
    assert all(k == key for k, _ in new), f"new keys {sorted(new)}"
    lost = moved - now
    assert not lost, f"citations lost after the insertion: {sorted(lost)}"
    for cited in before:
        if cited.start >= at:
            found = citation_at(after, cited.start + shift)
            assert found is not None and found.key == cited.key
    if COMPLETES.get(typed) == language:
        site = cite_site_at(edited, at + shift, language)
        assert site is not None and site.prefix == "" and site.replace_start == at + shift
