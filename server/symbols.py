"""workspace/symbol over the whole index: the editor's symbol search doubles as paper search."""

from __future__ import annotations

import contextlib

from lsprotocol import types

from core.query import text_terms
from core.records import EmptyQuery, Paper
from server.definition import line_location, page_location
from server.server import PaperciteServer, safely

MAX_SYMBOLS = 50
_MAX_QUERY_CHARS = 1000


def render_symbol(paper: Paper, location: types.Location) -> types.SymbolInformation:
    byline = " ".join(v for v in (paper.first_author_surname, str(paper.year or "")) if v)
    return types.SymbolInformation(
        name=f"{paper.key}: {paper.short_title(80)}",
        kind=types.SymbolKind.Object,
        location=location,
        container_name=byline or None,
    )


def no_symbols() -> list[types.SymbolInformation]:
    return []


@safely(no_symbols)
async def workspace_symbols(
    server: PaperciteServer, params: types.WorkspaceSymbolParams
) -> list[types.SymbolInformation]:
    query = params.query.strip()[:_MAX_QUERY_CHARS]
    if not query:
        return []
    library = await server.library()
    # A typed key comes first; then the papers the words describe.
    keyed = await library.get_many(sorted(await library.keys_with_prefix(query, limit=MAX_SYMBOLS)))
    papers = list(keyed.values())
    with contextlib.suppress(EmptyQuery):
        papers += [hit.paper for hit in await library.search(text_terms(query), MAX_SYMBOLS, exclude=keyed)]
    defined = {}
    for snapshot in server.open_snapshots():
        for bib in server.bibliography(snapshot).files:
            defined.update({key: line_location(bib.path, line) for key, line in bib.lines.items()})
    symbols = []
    for paper in papers[:MAX_SYMBOLS]:
        location = defined.get(paper.key) or page_location(library.home, paper)
        symbols.append(render_symbol(paper, location))
    return symbols
