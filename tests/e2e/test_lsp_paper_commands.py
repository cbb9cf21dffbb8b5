"""The commands an editor's own interface calls (VS Code's Search papers…, its status bar, Add paper…),
over stdio against the real server, with an editor that applies the edits it is sent."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import PHOTONIC, Editor
from tests.fakes.sources import FakeSources

HOME = Path(tempfile.mkdtemp(prefix="papercite-commands-"))
# The web services a DOI or arXiv id is looked up in (the server is started once per module).
FAKE = FakeSources.with_samples().start()
CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True, workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)
    ),
)
NEW_PAPER = (
    "@inproceedings{lee2032tidal,\n  title = {Tidal Batching for Speculative Decoding on Ocean Buoys},\n"
    "  author = {Lee, Ada and Ng, Bo},\n  year = {2032},\n"
    "  abstract = {We batch speculative drafts by the tide. Buoys decode faster.}\n}\n"
)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "core.cli", "lsp"],
        server_env={**os.environ, **FAKE.env(), "PAPERCITE_HOME": str(HOME), "PAPERCITE_ARXIV_INTERVAL": "0"},
    )
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


async def run(client: LanguageClient, command: str, *arguments: object) -> object:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def test_search_status_and_add_a_pasted_paper(client: LanguageClient) -> None:
    hits = await run(client, "papercite.search", "sparse KV cache hierarchical speculative decoding", 5)
    assert isinstance(hits, list) and len(hits) == 5
    first = hits[0]
    assert first["key"] == "triforce" and first["title"].startswith("TriForce: Lossless")
    assert first["sentence"].startswith(
        "This approach leverages the original model weights and dynamic sparse KV"
    )
    assert await run(client, "papercite.search", "the of and", 5) == []

    status = await run(client, "papercite.status")
    assert status == {"connected": True, "home": str(HOME), "papers": 179, "version": "0.1.0"}

    added = await run(client, "papercite.addPaper", NEW_PAPER)
    assert added == {"added": ["lee2032tidal"], "updated": [], "unchanged": []}
    hits = await run(client, "papercite.search", "tidal batching ocean buoys", 3)
    assert isinstance(hits, list)
    assert hits[0] == {
        "key": "lee2032tidal",
        "title": "Tidal Batching for Speculative Decoding on Ocean Buoys",
        "authors": "Lee, Ada, Ng, Bo",
        "year": 2032,
        "venue": "",
        "sentence": "We batch speculative drafts by the tide.",
        "source": "",
    }
    status = await run(client, "papercite.status")
    assert isinstance(status, dict) and status["papers"] == 180
    # A DOI link goes through the web sources.
    added = await run(client, "papercite.addPaper", "https://doi.org/10.1145/3404835.3463238")
    assert added == {"added": ["lin2021pyserini"], "updated": [], "unchanged": []}
    # What cannot be added is said plainly, and nothing is stored.
    assert await run(client, "papercite.addPaper", "@article{broken, title = {Unclosed") is None
    assert "the pasted BibTeX cannot be read: line 1" in client.messages[-1].message
    assert await run(client, "papercite.addPaper", "no identifier here") is None
    assert "no identifier here" in client.messages[-1].message
    status = await run(client, "papercite.status")
    assert isinstance(status, dict) and status["papers"] == 181


async def test_cite_writes_the_file_syntax_and_adds_the_entry_to_the_bib(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    bib = tmp_path / "refs.bib"
    bib.write_text(PHOTONIC)
    tex = (tmp_path / "paper.tex").as_uri()
    editor.open(tex, "\\bibliography{refs}\nWe draft with a sparse KV cache.\n", "latex")
    result = await run(client, "papercite.cite", tex, {"line": 1, "character": 31}, "triforce")
    assert result == {"inserted": "~\\cite{triforce}", "added": ["triforce"]}
    assert editor.text(tex) == "\\bibliography{refs}\nWe draft with a sparse KV cache~\\cite{triforce}.\n"
    # Inside a citation, the key joins its list; the .bib already has this one.
    result = await run(client, "papercite.cite", tex, {"line": 1, "character": 46}, "mine2031photonic")
    assert result == {"inserted": ",mine2031photonic", "added": []}
    assert "\\cite{triforce,mine2031photonic}." in editor.text(tex)
    written = bib.read_text()
    assert written.startswith(PHOTONIC) and written.count("{triforce,") == 1

    md = (tmp_path / "notes.md").as_uri()
    editor.open(md, "---\nbibliography: refs.bib\n---\n\nLoops align with reasoning steps.\n", "markdown")
    result = await run(client, "papercite.cite", md, {"line": 4, "character": 32}, "relay")
    assert result == {"inserted": " [@relay]", "added": ["relay"]}
    assert editor.text(md).endswith("Loops align with reasoning steps [@relay].\n")
    assert bib.read_text().count("{relay,") == 1

    assert await run(client, "papercite.cite", md, {"line": 4, "character": 0}, "nosuchpaper") is None
    assert "no paper has the key 'nosuchpaper'" in client.messages[-1].message
