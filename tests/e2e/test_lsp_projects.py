"""Documents of a project cite from the bibliography the project names once: a thesis chapter from
its root document's `\\bibliography`, a Quarto or Jupyter Book page from the project's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import (
    PHOTONIC,
    SHARED_HOME,
    Editor,
    complete,
    diagnostics_when,
    position_of,
    server_config,
)
from tests.e2e.test_lsp_bibliography import CAPABILITIES, actions_at, read_code_actions_as_editors_do

CHAPTER = "Annealing folds proteins~\\cite{mine2031photonic}, unlike~\\cite{nosuchpaper2099}.\n"
PAGE = "Annealing folds proteins [@mine2031photonic], unlike [@nosuchpaper2099].\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    (tmp_path / "chapters").mkdir()
    return tmp_path


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient, project: Path):
    read_code_actions_as_editors_do(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=CAPABILITIES,
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="thesis")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def unknown_keys(diagnostics: list[types.Diagnostic]) -> set[str]:
    return {d.message.split("'")[1] for d in diagnostics if d.code == "unknown-key"}


async def cites_from_the_project(editor: Editor, uri: str, text: str, language: str) -> None:
    """Only the key no bibliography holds is unknown, and the project's entry is completed."""
    trigger = "\\cite{" if language == "latex" else "[@"
    text, position = position_of(f"{text}Quantum annealing folds proteins on photonic chips {trigger}|\n")
    editor.open(uri, text, language)
    diagnostics = await diagnostics_when(editor.client, uri, lambda found: bool(unknown_keys(found)))
    assert unknown_keys(diagnostics) == {"nosuchpaper2099"}
    items = await complete(editor.client, uri, position)
    assert items and items[0].label == "mine2031photonic"
    assert items[0].detail is not None and items[0].detail.startswith("in refs.bib")


@pytest.mark.parametrize(
    "root",
    [
        "\\documentclass{book}\n\\begin{document}\n\\include{chapters/annealing}\n\\bibliography{refs}\n\\end{document}\n",
        "\\documentclass{book}\n\\begin{document}\n\\input{chapters/annealing.tex}\n\\addbibresource{refs.bib}\n",
    ],
    ids=["include", "input"],
)
async def test_a_chapter_cites_from_the_bibliography_its_root_names(
    client: LanguageClient, project: Path, root: str
) -> None:
    (project / "main.tex").write_text(root)
    chapter = project / "chapters" / "annealing.tex"
    chapter.write_text(CHAPTER)
    await cites_from_the_project(Editor(client), chapter.as_uri(), CHAPTER, "latex")


async def test_a_chapter_two_levels_down_a_magic_comment_and_subfiles_find_their_root(
    client: LanguageClient, project: Path
) -> None:
    (project / "main.tex").write_text("\\documentclass{book}\n\\input{parts/one}\n\\bibliography{refs}\n")
    (project / "parts").mkdir()
    (project / "parts" / "one.tex").write_text("\\part{One}\n\\input{chapters/deep}\n")
    deep = project / "chapters" / "deep.tex"
    editor = Editor(client)
    await cites_from_the_project(editor, deep.as_uri(), CHAPTER, "latex")
    # Not included by anything, but says where its root is.
    magic = project / "chapters" / "magic.tex"
    await cites_from_the_project(editor, magic.as_uri(), "% !TEX root = ../main.tex\n" + CHAPTER, "latex")
    sub = project / "chapters" / "sub.tex"
    text = "\\documentclass[../main.tex]{subfiles}\n\\begin{document}\n" + CHAPTER + "\\end{document}\n"
    await cites_from_the_project(editor, sub.as_uri(), text, "latex")


async def test_a_bibliography_named_in_a_preamble_the_root_inputs_serves_the_root_and_its_chapters(
    client: LanguageClient, project: Path
) -> None:
    (project / "setup").mkdir()
    (project / "setup" / "preamble.tex").write_text("\\usepackage{biblatex}\n\\addbibresource{refs.bib}\n")
    root = "\\documentclass{book}\n\\input{setup/preamble}\n\\begin{document}\n\\include{chapters/one}\n"
    (project / "main.tex").write_text(root + CHAPTER)
    editor = Editor(client)
    await cites_from_the_project(editor, (project / "main.tex").as_uri(), root + CHAPTER, "latex")
    await cites_from_the_project(editor, (project / "chapters" / "one.tex").as_uri(), CHAPTER, "latex")


async def test_a_chapters_missing_entry_is_added_to_the_roots_bibliography(
    client: LanguageClient, project: Path
) -> None:
    (project / "main.tex").write_text(
        "\\documentclass{book}\n\\include{chapters/draft}\n\\bibliography{refs}\n"
    )
    chapter = project / "chapters" / "draft.tex"
    text = "We draft from a sparse KV cache~\\cite{triforce}.\n"
    editor = Editor(client)
    editor.open(chapter.as_uri(), text, "latex")
    await diagnostics_when(
        client, chapter.as_uri(), lambda found: any(d.code == "not-in-bibliography" for d in found)
    )
    actions = await actions_at(client, chapter.as_uri(), text, "triforce")
    add = next(a for a in actions if a.title.startswith("Add triforce to refs.bib"))
    assert add.command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=add.command.command, arguments=add.command.arguments)
    )
    assert "{triforce," in (project / "refs.bib").read_text()
    assert not (project / "chapters" / "references.bib").exists()


@pytest.mark.parametrize(
    ("configuration", "content", "page"),
    [
        ("_quarto.yml", "project:\n  type: book\nbibliography: refs.bib\n", "chapters/annealing.qmd"),
        (
            "_config.yml",
            "title: A Book\nbibtex_bibfiles:\n  - refs.bib  # the lab's\n",
            "chapters/annealing.md",
        ),
        (
            "myst.yml",
            "version: 1\nproject:\n  title: A Book\n  bibliography:\n    - refs.bib\n",
            "annealing.md",
        ),
        ("_bookdown.yml", 'book_filename: "thesis"\n', "chapters/annealing.Rmd"),
    ],
    ids=["quarto", "jupyter-book", "myst", "bookdown"],
)
async def test_a_page_cites_from_the_bibliography_its_project_names(
    client: LanguageClient, project: Path, configuration: str, content: str, page: str
) -> None:
    if configuration == "_bookdown.yml":
        # bookdown takes the bibliography from the book's first file, index.Rmd, in the same folder.
        (project / "chapters" / configuration).write_text(content)
        (project / "chapters" / "index.Rmd").write_text(
            "---\ntitle: A Book\nbibliography: [../refs.bib]\n---\n"
        )
    else:
        (project / configuration).write_text(content)
    await cites_from_the_project(Editor(client), (project / page).as_uri(), PAGE, "markdown")


async def test_a_document_naming_its_own_bibliography_or_none_in_no_project_is_left_alone(
    client: LanguageClient, project: Path
) -> None:
    (project / "main.tex").write_text(
        "\\documentclass{book}\n\\include{chapters/own}\n\\bibliography{refs}\n"
    )
    (project / "chapters" / "other.bib").write_text("@misc{nosuchpaper2099, title = {Other}}\n")
    own = project / "chapters" / "own.tex"
    editor = Editor(client)
    editor.open(own.as_uri(), "\\bibliography{other}\n" + CHAPTER, "latex")
    diagnostics = await diagnostics_when(client, own.as_uri(), lambda found: bool(unknown_keys(found)))
    assert unknown_keys(diagnostics) == {"mine2031photonic"}  # its own file, not the root's
    alone = project / "chapters" / "alone.tex"
    editor.open(alone.as_uri(), CHAPTER, "latex")
    diagnostics = await diagnostics_when(client, alone.as_uri(), lambda found: bool(unknown_keys(found)))
    assert unknown_keys(diagnostics) == {"mine2031photonic", "nosuchpaper2099"}
