"""Hostile documents and records over the protocol, as an editor meets them: paper data that tries
to be markup, and bibliography names that point outside the workspace."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SHARED_HOME, diagnostics_when, open_document, server_config
from tests.server.test_markdown import links, markup_kinds

CAPABILITIES = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
    ),
)

HOSTILE_BIB = r"""@article{mallory2024,
  title = {Click <img src=x onerror=alert(1)> here},
  author = {Mallory, M.},
  year = {2024},
  doi = {10.1234/abc)](https://evil.example/x},
  abstract = {See ![pixel](https://evil.example/p.png) and [run](command:workbench.action.terminal.new).}
}
"""


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


async def test_hover_on_a_hostile_entry_shows_text_and_only_the_doi_link(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "refs.bib").write_text(HOSTILE_BIB)
    uri = (tmp_path / "paper.tex").as_uri()
    open_document(client, uri, "\\bibliography{refs}\nAs shown \\cite{mallory2024}.\n", "latex")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=18)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    value = hover.contents.value
    assert markup_kinds(value) == set()
    assert links(value) == ["https://doi.org/10.1234/abc%29%5D%28https%3A//evil.example/x"]
    assert "\\<img src=x onerror=alert(1)\\>" in value


# --- writes stay in the workspace ---------------------------------------------------------------

FAKE_HOME = Path(tempfile.mkdtemp(prefix="papercite-user-home-"))
WRITE_CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True, workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)
    ),
)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=server_config(SHARED_HOME).server_command,
        server_env={**server_config(SHARED_HOME).server_env, "HOME": str(FAKE_HOME)},
    )
)
async def workspace_client(lsp_client: LanguageClient, tmp_path: Path):
    project = tmp_path / "project"
    (project / "a" / "b").mkdir(parents=True)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=WRITE_CAPABILITIES,
            root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def add_triforce(client: LanguageClient, path: Path, text: str, language: str = "latex") -> object:
    uri = path.as_uri()
    open_document(client, uri, text, language)
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="papercite.addToBibliography", arguments=[uri, ["triforce"]])
    )


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


async def test_names_that_leave_the_workspace_are_refused_with_the_path(
    workspace_client: LanguageClient, tmp_path: Path
) -> None:
    client = workspace_client
    project = tmp_path / "project"
    document = project / "a" / "b" / "paper.tex"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.bib").write_text("% theirs\n")
    (project / "a" / "b" / "linked.bib").symlink_to(outside / "target.bib")
    before = files_under(tmp_path)
    cases = {
        "\\bibliography{../../../escape/dir/evil}": tmp_path / "escape" / "dir" / "evil.bib",
        f"\\bibliography{{{outside / 'absolute'}}}": outside / "absolute.bib",
        "\\bibliography{linked}": outside / "target.bib",
        "\\bibliography{~/x}": FAKE_HOME / "x.bib",
    }
    for line, refused in cases.items():
        client.messages.clear()
        assert await add_triforce(client, document, f"{line}\nAs in \\cite{{triforce}}.\n") is None
        message = " ".join(m.message for m in client.messages)
        assert f"did not write {refused}" in message or f"(really {refused})" in message, message
        assert "outside the workspace" in message
    assert (
        await add_triforce(
            client, project / "notes.md", "---\nbibliography: ../x.bib\n---\n[@triforce]\n", "markdown"
        )
        is None
    )
    assert f"did not write {tmp_path / 'x.bib'}" in client.messages[-1].message
    assert files_under(tmp_path) == before and (outside / "target.bib").read_text() == "% theirs\n"
    assert list(FAKE_HOME.iterdir()) == []

    # Inside the workspace, through `..` and a symlink that stays inside, the entry is written.
    (project / "refs.bib").write_text("")
    (project / "a" / "inside.bib").symlink_to(project / "refs.bib")
    result = await add_triforce(client, document, "\\bibliography{../inside}\nAs in \\cite{triforce}.\n")
    assert result == {"file": str(project / "refs.bib"), "added": ["triforce"]}
    assert "triforce," in (project / "refs.bib").read_text()


async def test_a_bibliography_that_is_a_symlink_loop_is_named_not_an_internal_error(
    workspace_client: LanguageClient, tmp_path: Path
) -> None:
    client = workspace_client
    project = tmp_path / "project"
    (project / "loop.bib").symlink_to(project / "loop.bib")
    client.messages.clear()
    result = await add_triforce(
        client, project / "paper.tex", "\\bibliography{loop}\nAs in \\cite{triforce}.\n"
    )
    assert result is None
    message = " ".join(m.message for m in client.messages)
    assert str(project / "loop.bib") in message and "internal error" not in message, message
    # The document still completes from the index.
    uri = (project / "paper.tex").as_uri()
    items = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=16)
        )
    )
    assert isinstance(items, types.CompletionList) and "triforce" in [i.label for i in items.items]


async def test_a_document_citing_an_unknown_key_200000_times_shows_the_first_1000(
    client: LanguageClient,
) -> None:
    """Rendering and sending 200,000 diagnostics took 15 s, holding up every completion meanwhile."""
    uri = "file:///hostile/many.tex"
    open_document(client, uri, "\\cite{nosuchkey} " * 200_000, "latex")
    found = await diagnostics_when(client, uri, lambda found: len(found) > 0, seconds=60)
    assert len(found) == 1000 and found[-1].range.start.character == 17 * 999 + len("\\cite{")


async def test_a_document_naming_too_many_bibliography_files_is_told_once(client: LanguageClient) -> None:
    """Past the first 100 files named, the rest were passed over without a word."""
    uri = "file:///hostile/many-bibs.tex"
    names = ",".join(f"refs{n}" for n in range(150))
    client.messages.clear()
    open_document(client, uri, f"\\bibliography{{{names}}}\nsparse KV cache \\cite{{", "latex")
    for _ in range(3):
        await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=22),
            )
        )
    await diagnostics_when(client, uri, lambda found: len(found) > 0)
    told = [m.message for m in client.messages if "bibliography files" in m.message]
    assert told == ["papercite: many-bibs.tex names 150 bibliography files; papercite reads the first 100"]
