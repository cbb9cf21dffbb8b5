"""Find references from a .bib entry reaches the workspace's documents that are not open."""

from __future__ import annotations

from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import PHOTONIC, SHARED_HOME, open_document, server_config


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="workspace")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def references_at(
    client: LanguageClient, uri: str, position: types.Position, declaration: bool = False
) -> list[tuple[str, int, int]]:
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.ReferenceContext(include_declaration=declaration),
        )
    )
    return [(r.uri, r.range.start.line, r.range.start.character) for r in found or []]


async def test_references_from_the_bib_read_the_documents_from_disk(
    client: LanguageClient, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    bib = workspace / "refs.bib"
    bib.write_text("% mine\n\n" + PHOTONIC)
    (workspace / "chapters").mkdir()
    tex = workspace / "chapters" / "intro.tex"
    tex.write_text("\\bibliography{../refs}\nFolding \\cite{relay,mine2031photonic}.\n")
    md = workspace / "notes.qmd"
    md.write_text("---\nbibliography: refs.bib\n---\nAnnealed [@mine2031photonic, p. 3].\n")
    (workspace / "unrelated.md").write_text("Nothing cited here [@relay].\n")
    for skipped in (workspace / ".git" / "old.tex", workspace / "node_modules" / "pkg" / "README.md"):
        skipped.parent.mkdir(parents=True)
        skipped.write_text("\\cite{mine2031photonic} [@mine2031photonic]\n")
    # Only the .bib is open: the citing documents are read from disk.
    open_document(client, bib.as_uri(), bib.read_text(), "bibtex")
    assert await references_at(client, bib.as_uri(), types.Position(2, 5)) == [
        (tex.as_uri(), 1, 20),
        (md.as_uri(), 3, 11),
    ]
    with_declaration = await references_at(client, bib.as_uri(), types.Position(2, 5), declaration=True)
    assert with_declaration[0] == (bib.as_uri(), 2, 0) and len(with_declaration) == 3

    # A document open in the editor counts as the editor holds it, unsaved edits included, and once.
    edited = "---\nbibliography: refs.bib\n---\nFirst [@mine2031photonic].\n\nAgain [@mine2031photonic].\n"
    open_document(client, md.as_uri(), edited, "quarto")
    assert await references_at(client, bib.as_uri(), types.Position(2, 5)) == [
        (md.as_uri(), 3, 8),
        (md.as_uri(), 5, 8),
        (tex.as_uri(), 1, 20),
    ]
    # From a citation in an open document, the same.
    assert len(await references_at(client, md.as_uri(), types.Position(3, 10))) == 3
