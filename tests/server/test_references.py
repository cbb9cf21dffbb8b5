"""The workspace's documents read from disk for find references: which files, within which bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.documents.syntax import LATEX, MARKDOWN
from server import references
from server.references import documents_citing, workspace_documents

LANGUAGES = frozenset({LATEX, MARKDOWN})


def write(root: Path, name: str, text: str = "See \\cite{relay}.\n") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_documents_are_found_in_path_order_outside_tools_folders(tmp_path: Path) -> None:
    for name in ["b.md", "a/paper.tex", "a/z/notes.QMD", "c.Rmd", "refs.bib", "macros.sty", "x.txt"]:
        write(tmp_path, name)
    for name in [".git/x.tex", "node_modules/pkg/README.md", ".venv/doc.md", "_site/page.md"]:
        write(tmp_path, name)
    found = [p.relative_to(tmp_path).as_posix() for p in workspace_documents([tmp_path])]
    assert found == ["a/paper.tex", "a/z/notes.QMD", "b.md", "c.Rmd"]


def test_the_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(30):
        write(tmp_path, f"d{index:02}/doc.md")
    monkeypatch.setattr(references, "MAX_DOCUMENTS", 5)
    assert len(workspace_documents([tmp_path])) == 5
    monkeypatch.setattr(references, "MAX_DOCUMENTS", 2000)
    monkeypatch.setattr(references, "MAX_ENTRIES", 10)  # the root's 30 folders use it up
    assert workspace_documents([tmp_path]) == []


def test_only_documents_holding_the_key_in_served_languages_and_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    citing = write(tmp_path, "paper.tex")
    write(tmp_path, "other.tex", "See \\cite{triforce}.\n")
    opened = write(tmp_path, "open.md", "Loops [@relay].\n")
    notes = write(tmp_path, "notes.md", "Loops [@relay].\n")
    latin = tmp_path / "old.tex"
    latin.write_bytes("Caf\xe9 \\cite{relay}.\n".encode("cp1252"))
    write(tmp_path, "big.tex", "\\cite{relay} " + "x" * 200)
    monkeypatch.setattr(references, "MAX_DOCUMENT_BYTES", 100)
    found = documents_citing("relay", [tmp_path], {str(opened)}, LANGUAGES)
    assert [(d.path, d.language) for d in found] == [(notes, MARKDOWN), (latin, LATEX), (citing, LATEX)]
    assert found[1].text.startswith("Café")
    only_latex = documents_citing("relay", [tmp_path], set(), frozenset({LATEX}))
    assert [d.path for d in only_latex] == [latin, citing]
