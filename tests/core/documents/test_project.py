"""Finding the file that names a project's bibliography, on real folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.documents.project import ProjectSource, project_source, yaml_names

CHAPTER = "Prose~\\cite{a}.\n"


def read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def root_of(document: Path, text: str = CHAPTER, roots: tuple[Path, ...] = ()) -> Path | None:
    found = project_source(document, text, "latex", roots, read)
    return found.path if found else None


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("bibliography: refs.bib\n", ["refs.bib"]),
        ("bibliography: 'my refs.bib'  # quoted\n", ["my refs.bib"]),
        ('bibliography: [a.bib, "b.json"]\n', ["a.bib", "b.json"]),
        (
            "title: x\nbibliography:\n  - a.bib   # first\n  # a comment\n  - b.bib\nformat: html\n",
            ["a.bib", "b.bib"],
        ),
        ("title: x\n", []),
        ("format:\n  bibliography: nested.bib\n", []),  # not at the top level
    ],
)
def test_yaml_names_reads_the_forms_configurations_use(text: str, names: list[str]) -> None:
    assert yaml_names(text, "bibliography") == names


def test_yaml_names_reads_a_key_under_its_parent() -> None:
    myst = "version: 1\nproject:\n  title: T\n  bibliography:\n    - refs.bib\n  toc: []\nsite:\n  bibliography: no.bib\n"
    assert yaml_names(myst, "bibliography", "project") == ["refs.bib"]
    assert yaml_names("site:\n  title: T\n", "bibliography", "project") == []


def test_a_root_is_found_by_what_it_includes_not_by_commented_out_lines(tmp_path: Path) -> None:
    chapter = write(tmp_path / "chapters" / "one.tex", CHAPTER)
    write(tmp_path / "draft.tex", "\\documentclass{article}\n% \\input{chapters/one}\n\\bibliography{refs}\n")
    assert root_of(chapter, roots=(tmp_path,)) is None
    write(
        tmp_path / "notes.tex", "% \\documentclass{article}\n\\input{chapters/one}\n"
    )  # no class: not a root
    assert root_of(chapter, roots=(tmp_path,)) is None
    write(
        tmp_path / "thesis.tex",
        "\\documentclass{report}\n\\include{./chapters/../chapters/one}\n\\bibliography{refs}\n",
    )
    assert root_of(chapter, roots=(tmp_path,)) == tmp_path / "thesis.tex"


def test_import_reads_from_the_folder_it_names_and_nested_inputs_from_there(tmp_path: Path) -> None:
    section = write(tmp_path / "parts" / "a" / "section.tex", CHAPTER)
    write(tmp_path / "parts" / "a" / "part.tex", "\\input{section}\n")
    write(tmp_path / "main.tex", "\\documentclass{book}\n\\import{parts/a/}{part}\n\\bibliography{refs}\n")
    assert root_of(section, roots=(tmp_path,)) == tmp_path / "main.tex"
    write(
        tmp_path / "main.tex", "\\documentclass{book}\n\\input{parts/a/part}\n\\bibliography{refs}\n"
    )  # section.tex from here
    assert root_of(section, roots=(tmp_path,)) is None
    nested = write(tmp_path / "parts" / "a" / "nested.tex", CHAPTER)
    write(
        tmp_path / "parts" / "a" / "book.tex",
        "\\documentclass{book}\n\\import{./}{part}\n\\input{nested}\n\\bibliography{refs}\n",
    )
    assert root_of(nested, roots=(tmp_path,)) == tmp_path / "parts" / "a" / "book.tex"


def test_the_search_stays_inside_the_workspace_folder(tmp_path: Path) -> None:
    write(tmp_path / "main.tex", "\\documentclass{book}\n\\input{project/chapter}\n\\bibliography{refs}\n")
    chapter = write(tmp_path / "project" / "chapter.tex", CHAPTER)
    assert root_of(chapter, roots=(tmp_path / "project",)) is None
    assert root_of(chapter, roots=(tmp_path,)) == tmp_path / "main.tex"


def test_a_root_document_and_a_magic_comment(tmp_path: Path) -> None:
    # (a root naming no bibliography, in itself or a file it inputs, gives its chapters none)
    write(tmp_path / "main.tex", "\\documentclass{book}\n\\input{other}\n\\bibliography{refs}\n")
    other = tmp_path / "other.tex"
    assert root_of(other, "\\documentclass{article}\n" + CHAPTER, (tmp_path,)) is None  # a root itself
    magic = "%!TeX root=../main.tex\n" + CHAPTER
    assert root_of(tmp_path / "sub" / "x.tex", magic, (tmp_path,)) == tmp_path / "main.tex"
    assert root_of(tmp_path / "sub" / "x.tex", "% !TEX root = missing.tex\n", (tmp_path,)) is None


def test_markdown_projects_nearest_configuration_wins(tmp_path: Path) -> None:
    write(tmp_path / "_quarto.yml", "bibliography: top.bib\n")
    write(tmp_path / "book" / "_quarto.yml", "bibliography: [book.bib]\n")
    page = tmp_path / "book" / "chapters" / "page.qmd"
    found = project_source(page, "", "markdown", (tmp_path,), read)
    assert isinstance(found, ProjectSource) and found.path == tmp_path / "book" / "_quarto.yml"
    assert "book.bib" in found.text and "top.bib" not in found.text
    assert project_source(tmp_path.parent / "elsewhere.md", "", "markdown", (tmp_path,), read) is None


def test_a_root_naming_no_bibliography_anywhere_gives_none_and_a_preamble_it_inputs_counts(
    tmp_path: Path,
) -> None:
    chapter = write(tmp_path / "chapters" / "one.tex", CHAPTER)
    write(tmp_path / "main.tex", "\\documentclass{book}\n\\input{setup}\n\\include{chapters/one}\n")
    assert root_of(chapter, roots=(tmp_path,)) is None
    write(tmp_path / "setup.tex", "\\usepackage{biblatex}\n\\addbibresource{lab.bib}\n")
    found = project_source(chapter, CHAPTER, "latex", (tmp_path,), read)
    assert found is not None and found.path == tmp_path / "main.tex" and "lab.bib" in found.text
