from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.fakes.sources import FakeSources

# One seeded home for the module's server; tests that write make their own.
SHARED_HOME = Path(tempfile.mkdtemp(prefix="papercite-e2e-"))
# The LaTeX document the real-editor tests open: a citation to complete, a known and a misspelt key.
DRAFT_TEX = [
    r"\documentclass{article}",
    r"\begin{document}",
    r"We draft tokens from a sparse KV cache in hierarchical speculative decoding~\cite{}.",
    r"Looped models help~\citep{relay}, unlike \cite{trifroce}.",
    r"\end{document}",
]
# An entry of a user's own .bib that no index holds.
PHOTONIC = (
    "@article{mine2031photonic,\n  title = {Annealing Schedules for Protein Folding on Photonic Quantum Chips},\n"
    "  author = {Qubit, Quinn},\n  year = {2031},\n"
    "  abstract = {Quantum annealing folds proteins on photonic chips.}\n}\n"
)


@pytest.fixture(scope="module")
def sources() -> Iterator[FakeSources]:
    """Crossref, arXiv and OpenAlex on loopback, for adding by DOI or arXiv link."""
    with FakeSources.with_samples() as fake:
        yield fake


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


def offset_in(text: str, position: types.Position) -> int:
    """Offset of an LSP position in text (ASCII test documents: code points are UTF-16 units)."""
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: position.line]) + position.character


class Editor:
    """The client's open buffers: it applies the server's workspace edits to them as an editor does,
    and tells the server of the change."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.buffers: dict[str, tuple[int, str]] = {}
        self.applied: list[types.WorkspaceEdit] = []

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(
            client: LanguageClient, params: types.ApplyWorkspaceEditParams
        ) -> types.ApplyWorkspaceEditResult:
            return self._apply(params)

    def open(self, uri: str, text: str, language: str) -> None:
        self.buffers[uri] = (1, text)
        open_document(self.client, uri, text, language)

    def text(self, uri: str) -> str:
        return self.buffers[uri][1]

    def _apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edit = params.edit
        self.applied.append(edit)
        changes = dict(edit.changes or {})
        for change in edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            changes[change.text_document.uri] = list(change.edits)  # type: ignore[arg-type]
        for uri, edits in changes.items():
            version, text = self.buffers[uri]
            for text_edit in sorted(
                edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
            ):
                start, end = offset_in(text, text_edit.range.start), offset_in(text, text_edit.range.end)
                text = text[:start] + text_edit.new_text + text[end:]
            self.buffers[uri] = (version + 1, text)
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
        return types.ApplyWorkspaceEditResult(applied=True)


async def diagnostics_when(
    client: LanguageClient, uri: str, condition: Callable[[list[types.Diagnostic]], bool], seconds: float = 10
) -> list[types.Diagnostic]:
    """The document's diagnostics once `condition` holds for them (the last ones, failing, if never)."""
    for _ in range(int(seconds / 0.05)):
        found = client.diagnostics.get(uri)
        if found is not None and condition(list(found)):
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"diagnostics of {uri} never met the condition; last: {client.diagnostics.get(uri)}")
