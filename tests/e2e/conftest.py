from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# One seeded home for the module's server; tests that write make their own.
SHARED_HOME = Path(tempfile.mkdtemp(prefix="papercite-e2e-"))


def server_config(home: Path) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "core.cli", "lsp"],
        server_env={**os.environ, "PAPERCITE_HOME": str(home)},
    )


def open_document(client: LanguageClient, uri: str, text: str, language: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)
        )
    )


def position_of(text: str, marker: str = "|") -> tuple[str, types.Position]:
    """Text without the cursor marker, and the marker's position (code points = UTF-16 here)."""
    offset = text.index(marker)
    before = text[:offset]
    line = before.count("\n")
    return text.replace(marker, "", 1), types.Position(line=line, character=offset - (before.rfind("\n") + 1))


async def complete(client: LanguageClient, uri: str, position: types.Position) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert isinstance(result, types.CompletionList) and result.is_incomplete
    return result.items
