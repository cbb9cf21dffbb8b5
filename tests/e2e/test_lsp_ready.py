"""The first keystroke in a file just opened: a completion that arrives while the index is still
opening waits for it instead of answering empty; and what VS Code shows on every row."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from core.library import LOCK_FILE
from core.lock import WriteLock
from tests.e2e.conftest import complete, open_document, position_of, server_config

FRESH_HOME = Path(tempfile.mkdtemp(prefix="papercite-ready-"))
SENTENCE = "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"
# What VS Code declares of completion items, as far as papercite reads it.
VSCODE_ITEMS = types.ClientCompletionItemOptions(
    documentation_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText],
    label_details_support=True,
)


@pytest_lsp.fixture(config=server_config(FRESH_HOME))
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_a_completion_while_the_index_opens_waits_for_it(client: LanguageClient) -> None:
    # Another process writing the fresh home (an ingest) keeps the server from seeding it.
    lock = WriteLock(FRESH_HOME / LOCK_FILE, "test: an ingest in another process")
    lock.acquire()
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    text_document=types.TextDocumentClientCapabilities(
                        completion=types.CompletionClientCapabilities(completion_item=VSCODE_ITEMS)
                    )
                )
            )
        )
        text, position = position_of(SENTENCE)
        uri = (FRESH_HOME.parent / "fresh.tex").as_uri()
        open_document(client, uri, text, "latex")
        pending = asyncio.ensure_future(complete(client, uri, position))
        await asyncio.sleep(1.0)
        assert not pending.done(), "answered before the index was open"
    finally:
        lock.release()
    items = await pending
    assert items[0].label == "triforce"
    # Every row shows the title (and the year, which the seed corpus does not record), not only the
    # selected one.
    assert items[0].label_details == types.CompletionItemLabelDetails(
        description="TriForce: Lossless Acceleration of Long Sequence Generation…"
    )
