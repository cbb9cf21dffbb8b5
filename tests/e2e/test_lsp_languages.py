"""A client whose language ids contradict the files' extensions, as eglot 1.9 is: it sends the id
of a project's first file for every file it opens afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import (
    PHOTONIC,
    SHARED_HOME,
    complete,
    diagnostics_when,
    open_document,
    position_of,
    server_config,
)


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def test_a_markdown_file_sent_as_latex_is_read_as_markdown(
    client: LanguageClient, tmp_path: Path
) -> None:
    tex = (tmp_path / "paper.tex").as_uri()
    open_document(client, tex, "Loops \\cite{relay}.\n", "latex")
    md = (tmp_path / "notes.md").as_uri()
    text, position = position_of(
        "# Notes\n\nEach loop iteration of the transformer is aligned with a reasoning step [@|].\n\n"
        "Drafts [@trifroce].\n"
    )
    open_document(client, md, text, "latex")
    items = await complete(client, md, position)
    assert items[0].label == "relay"
    found = await diagnostics_when(client, md, lambda d: len(d) == 1)
    assert found[0].code == "unknown-key" and found[0].range.start == types.Position(4, 9)
    assert found[0].message.endswith("did you mean triforce?")


async def test_a_latex_file_sent_as_markdown_is_read_as_latex(client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "paper.tex").as_uri()
    text, position = position_of(
        "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"
        "Mail me@example.org, see \\cite{trifroce}.\n"
    )
    open_document(client, uri, text, "markdown")
    assert (await complete(client, uri, position))[0].label == "triforce"
    found = await diagnostics_when(client, uri, lambda d: len(d) == 1)
    assert [(d.code, d.range.start) for d in found] == [("unknown-key", types.Position(1, 31))]


async def test_a_bib_sent_as_latex_is_a_bibliography(client: LanguageClient, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib_text = PHOTONIC.replace("}\n}\n", "},\n  note = {Compare \\cite{nosuchkey}}\n}\n")
    bib.write_text(bib_text)
    tex = (tmp_path / "paper.tex").as_uri()
    open_document(client, tex, "\\bibliography{refs}\nFolding \\cite{mine2031photonic}.\n", "latex")
    open_document(client, bib.as_uri(), bib_text, "latex")
    # Its own problems (none) are published for it, not an unknown key read from its note.
    assert await diagnostics_when(client, bib.as_uri(), lambda d: True) == []
    await diagnostics_when(client, tex, lambda d: d == [])
    # Find references from the entry's line works as it does for a .bib the client calls bibtex.
    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=bib.as_uri()),
            position=types.Position(0, 3),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert [(r.uri, r.range.start) for r in references or []] == [(tex, types.Position(1, 14))]
