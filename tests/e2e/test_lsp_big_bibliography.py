"""A big bibliography is read off the event loop: requests in its document and in another are
answered while it is read, its entries come when it lands, and the editor is shown the progress."""

from __future__ import annotations

import re
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from benchmarks import big_bibliography
from tests.e2e.conftest import (
    SHARED_HOME,
    complete,
    diagnostics_when,
    open_document,
    position_of,
    server_config,
)

# Enough entries (about 4 MB) that reading them takes seconds here, far longer than a request.
ENTRIES = 5000
CAPABILITIES = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


def reading_reports(client: LanguageClient, name: str) -> list[object] | None:
    """The progress the server reported for reading the file `name`, if it began any."""
    for reports in client.progress_reports.values():
        first = reports[0] if reports else None
        if isinstance(first, types.WorkDoneProgressBegin) and first.title == f"Reading {name}":
            return list(reports)
    return None


async def test_requests_are_answered_while_a_big_bibliography_is_read(
    client: LanguageClient, tmp_path: Path
) -> None:
    bib = big_bibliography.write(tmp_path / "refs.bib", ENTRIES)
    keys = re.findall(r"^@\w+\{([^,]+),", bib.read_text(), re.MULTILINE)
    cited, last = keys[0], keys[-1]
    other_text, other_position = position_of(
        "Speculative decoding drafts tokens with a small model~\\cite{|}.\n"
    )
    other = (tmp_path / "other.tex").as_uri()
    open_document(client, other, other_text, "latex")
    assert await complete(client, other, other_position)  # the index is open

    big_text, big_position = position_of(
        f"\\bibliography{{refs}}\nAs shown by~\\cite{{{cited}}}, drafting helps~\\cite{{{last[:-1]}|}}.\n"
    )
    on_cited = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=(tmp_path / "big.tex").as_uri()),
        position=types.Position(line=1, character=big_text.splitlines()[1].index(cited) + 1),
    )
    big = (tmp_path / "big.tex").as_uri()
    open_document(client, big, big_text, "latex")
    # A request to the other document, then to the big one's, answered before the reading ends
    # (its end is reported, and the big document diagnosed, only when it has landed).
    assert await complete(client, other, other_position)
    await client.text_document_hover_async(on_cited)
    meanwhile = await complete(client, big, big_position)
    assert big not in client.diagnostics
    reports = reading_reports(client, "refs.bib")
    assert reports is None or not isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert last not in [item.label for item in meanwhile]

    # Landed: the cited key is known, and the file's entries are offered.
    found = await diagnostics_when(client, big, lambda found: True, seconds=120)
    unknown = [d.data["key"] for d in found if d.code == "unknown-key"]  # type: ignore[index]
    assert unknown == [last[:-1]]  # the key still being typed
    items = {item.label: item for item in await complete(client, big, big_position)}
    assert (items[last].detail or "").startswith("in refs.bib")
    hover = await client.text_document_hover_async(on_cited)
    assert hover is not None and isinstance(hover.contents, str)  # (no Markdown declared)
    title = re.search(r'title = "(.*)"', bib.read_text()).group(1)  # type: ignore[union-attr]
    assert hover.contents.startswith(re.sub("[{}]", "", title))

    reports = reading_reports(client, "refs.bib")
    assert reports is not None and isinstance(reports[-1], types.WorkDoneProgressEnd)
    counted = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert f"{ENTRIES:,} of {ENTRIES:,} entries" in counted and f"0 of {ENTRIES:,} entries" in counted
