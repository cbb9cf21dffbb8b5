"""Go to definition: from a cited key to its entry — in the .bib, in the document, or on the paper's
page when only the index has it."""

from __future__ import annotations

from lsprotocol import types

from server.citations import citation_at
from server.paper_pages import page_for
from server.server import PaperciteServer, Snapshot, safely, uri_of


def line_location(uri: str, line: int) -> types.Location:
    start = types.Position(line=line, character=0)
    return types.Location(uri=uri, range=types.Range(start=start, end=start))


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
        return [line_location(uri_of(bib.path), bib.lines[key])]
    library = await server.library()
    paper = await library.find(key)
    if paper is None:
        return []
    page, line = page_for(library.home, paper)
    return [line_location(uri_of(page), line)]
