"""workspace/symbol over the whole index: the editor's symbol search doubles as paper search.

Each symbol points at a line that names its paper, since some editors list a symbol by that line
rather than by its name (Emacs's xref-find-apropos through eglot): on the paper's page, its heading
(key and title); in the user's own bibliography, the entry's title field.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from lsprotocol import types

from core.formats import read_text
from core.query import text_terms
from core.records import EmptyQuery, Paper
from server.definition import line_location
from server.paper_pages import HEADING_LINE, page_for
from server.server import PaperciteServer, safely

MAX_SYMBOLS = 50
_MAX_QUERY_CHARS = 1000
# A title field in BibTeX (`title = {…}`) or CSL-JSON (`"title": "…"`), not booktitle, shorttitle or
# container-title.
_TITLE_FIELD = re.compile(r'(?i)(?:^|[\s,{"])title"?\s*[=:]')
# How far into an entry its title is looked for.
_ENTRY_LINES = 40


def title_line(lines: list[str], entry_line: int) -> int:
    """The line of the entry's title field, else the entry's own line."""
    for number in range(entry_line, min(len(lines), entry_line + _ENTRY_LINES)):
        if number > entry_line and lines[number].lstrip().startswith("@"):
            break  # the next entry
        if _TITLE_FIELD.search(lines[number]):
            return number
    return entry_line


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
    defined: dict[str, tuple[Path, int]] = {}
    for snapshot in server.open_snapshots():
        for bib in server.bibliography(snapshot).files:
            defined.update({key: (bib.path, line) for key, line in bib.lines.items()})
    texts: dict[Path, list[str]] = {}
    symbols = []
    for paper in papers[:MAX_SYMBOLS]:
        if paper.key in defined:
            path, line = defined[paper.key]
            if path not in texts:
                texts[path] = _lines_of(server, path)
            location = line_location(path, title_line(texts[path], line))
        else:
            location = line_location(page_for(library.home, paper)[0], HEADING_LINE)
        symbols.append(render_symbol(paper, location))
    return symbols


def _lines_of(server: PaperciteServer, path: Path) -> list[str]:
    """A bibliography file's lines, from the editor when it is open there."""
    in_editor = server.editor_text(path)
    try:
        return (in_editor[1] if in_editor else read_text(path)).splitlines()
    except (OSError, ValueError):
        return []
