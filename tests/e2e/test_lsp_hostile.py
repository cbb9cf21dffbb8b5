"""Hostile documents and records over the protocol, as an editor meets them: paper data that tries
to be markup, and bibliography names that point outside the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import SHARED_HOME, open_document, server_config
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
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in value
