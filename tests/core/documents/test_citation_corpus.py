"""The scanners against the real tools, on the documents of tests/data/citations/.

expected.json holds the keys pdflatex (its .aux and .bcf), pandoc (its Cite elements) and MyST's
parser see in each document (tests/data/citations/regenerate.py makes it); no TeX is needed here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.documents.citations import find_citations
from core.documents.syntax import LATEX, MARKDOWN

CORPUS = Path(__file__).resolve().parents[2] / "data" / "citations"
EXPECTED: dict[str, list[str]] = json.loads((CORPUS / "expected.json").read_text())
TARGET = 0.99


SUFFIXES = {".tex", ".md", ".qmd", ".rmd", ".markdown"}
# A document's chapters: `\input{…}`, `\include{…}` (relative to its folder) on a line not commented out.
_INPUT = re.compile(r"^[^%\n]*?\\(?:input|include|subfile)\s*\{([^}]+)\}", re.MULTILINE)


def language_of(name: str) -> str:
    return LATEX if name.endswith(".tex") else MARKDOWN


def documents() -> set[str]:
    """The corpus's documents by name (not the class files or bibliographies beside them)."""
    return {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*.*")
        if p.parent != CORPUS and p.suffix.lower() in SUFFIXES
    }


def files_of(name: str) -> list[Path]:
    """A document and the files it reads, in turn; a Markdown document is one file."""
    root = CORPUS / name
    found, pending = [], [root]
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.append(path)
        if language_of(name) == LATEX:
            for part in _INPUT.findall(path.read_text()):
                candidates = [root.parent / part.strip(), root.parent / f"{part.strip()}.tex"]
                pending += [c for c in candidates if c.suffix == ".tex" and c.is_file()][:1]
    return found


def flagged(name: str) -> set[str]:
    return {c.key for path in files_of(name) for c in find_citations(path.read_text(), language_of(name))}


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
    chapters = {
        n for n in documents() if n.endswith(".tex") and "\\documentclass" not in (CORPUS / n).read_text()
    }
    assert documents() - chapters == set(EXPECTED), (
        "run tests/data/citations/regenerate.py after adding a document"
    )
    read = {p.relative_to(CORPUS).as_posix() for name in EXPECTED for p in files_of(name)}
    assert chapters and chapters <= read, f"chapters no document reads: {sorted(chapters - read)}"


# A pandoc document of links that look like citations (markdown/pandoc-links.md), each line with its
# citations: a link's text, the `@` of a bare URL and `[@key, V.9]` where a link reference definition
# names it are links there, the real citations beside them on the same lines are not.
LINKS_CITED = [
    (8, "robertson2009bm25"),  # then [@jupyter-book](https://github.com/jupyter-book)
    (9, "manning2008ir"),  # [@manning2008ir, ch. 6]
    (10, "jones1972idf"),  # after [@executablebooks][ebp]
    (14, "he2010context"),  # lines 12-13: https://hackmd.io/@…, www.hackmd.io/@…
    (17, "lo2020s2orc"),  # line 16: [@manning2008ir, V.9] and [@lo2020s2orc], each defined below
    (18, "beltagy2019scibert"),  # line 17: [@Manning2008IR,  v.9], the same label as a definition's
    (20, "cohan2020specter"),  # an image's description: a figure's caption, citing
]


@pytest.mark.parametrize("myst", [False, True], ids=["pandoc", "myst"])
def test_links_that_look_like_citations_are_links(myst: bool) -> None:
    text = (CORPUS / "markdown" / "pandoc-links.md").read_text()
    if myst:  # a MyST target above the heading makes it a MyST document
        text = text.replace("# Tools", "(tools)=\n# Tools")
    found = find_citations(text, MARKDOWN)
    lines = [text.count("\n", 0, cited.start) + 1 - myst for cited in found]
    assert list(zip(lines, [cited.key for cited in found], strict=True)) == LINKS_CITED
    assert {key for _, key in LINKS_CITED} == set(EXPECTED["markdown/pandoc-links.md"])
