"""Go to definition: from a cited key to its entry — in the .bib, in the document, or on the paper's
page when only the index has it."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from core.documents.citations import citation_at
from core.records import Paper
from server.paper_pages import page_for
from server.server import PaperciteServer, Snapshot, safely, uri_of


def line_location(path: Path, line: int) -> types.Location:
    start = types.Position(line=line, character=0)
    return types.Location(uri=uri_of(path), range=types.Range(start=start, end=start))


def page_location(home: Path, paper: Paper) -> types.Location:
    """The entry on the paper's page (written if needed), for a paper no bibliography holds."""
    return line_location(*page_for(home, paper))


def no_locations() -> list[types.Location]:
    return []


@safely(no_locations)
async def definition(server: PaperciteServer, params: types.DefinitionParams) -> list[types.Location]:
    snapshot = server.snapshot(params.text_document.uri)
    if snapshot is None:
        return []
    cited = citation_at(snapshot.citations(), snapshot.lines.offset(params.position))
    return await definition_of(server, snapshot, cited.key) if cited else []


async def definition_of(server: PaperciteServer, snapshot: Snapshot, key: str) -> list[types.Location]:
    """Where `key` is defined for this document: its bibliography first, then the index."""
    bibliography = server.bibliography(snapshot)
    inline = bibliography.inline.get(key)
    if inline is not None:
        return [types.Location(uri=snapshot.uri, range=snapshot.lines.range(inline.start, inline.end))]
    bib = bibliography.file_defining(key)
    if bib is not None:
        return [line_location(bib.path, bib.lines[key])]
    library = await server.library()
    paper = await library.find(key)
    if paper is None:
        return []
    return [page_location(library.home, paper)]
