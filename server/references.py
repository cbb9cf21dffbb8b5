"""Find references: every use of a key in the open documents, from a citation or from its .bib entry."""

from __future__ import annotations

from lsprotocol import types

from core.bibfile import defined_keys
from server.citations import citation_at
from server.definition import definition_of, no_locations
from server.server import PaperciteServer, safely


def key_at(server: PaperciteServer, uri: str, position: types.Position) -> str | None:
    """The key cited under the cursor, or defined on the cursor's line of a .bib file."""
    snapshot = server.snapshot(uri)
    if snapshot is not None:
        cited = citation_at(snapshot.citations(), snapshot.lines.offset(position))
        return cited.key if cited else None
    if uri.lower().endswith(".bib"):
        text = server.workspace.get_text_document(uri).source
        return next((key for key, line in defined_keys(text).items() if line == position.line), None)
    return None


@safely(no_locations)
async def references(server: PaperciteServer, params: types.ReferenceParams) -> list[types.Location]:
    key = key_at(server, params.text_document.uri, params.position)
    if key is None:
        return []
    found: list[types.Location] = []
    citing = []
    for snapshot in server.open_snapshots():
        uses = [c for c in snapshot.citations() if c.key == key]
        citing += [snapshot] if uses else []
        found += [types.Location(uri=snapshot.uri, range=snapshot.lines.range(c.start, c.end)) for c in uses]
    if params.context.include_declaration and citing:
        found = await definition_of(server, citing[0], key) + found
    return found
