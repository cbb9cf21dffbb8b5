"""Hover on a cited key: what the paper is."""

from __future__ import annotations

from lsprotocol import types

from core.records import Paper
from server.citations import citation_at
from server.server import PaperciteServer, safely


def render_hover(paper: Paper) -> str:
    """Markdown: title, authors, year and venue, the abstract, and a link (DOI first)."""
    lines = [f"**{paper.title}**"]
    if paper.authors:
        lines.append(", ".join(paper.authors))
    meta = " · ".join(v for v in (str(paper.year or ""), paper.venue, f"`{paper.key}`") if v)
    lines.append(f"*{meta}*")
    if paper.abstract:
        lines.append(paper.abstract)
    if paper.doi:
        lines.append(f"[doi:{paper.doi}](https://doi.org/{paper.doi})")
    elif paper.link:
        lines.append(f"<{paper.link}>")
    return "\n\n".join(lines)


def no_hover() -> types.Hover | None:
    return None


@safely(no_hover)
async def hover(server: PaperciteServer, params: types.HoverParams) -> types.Hover | None:
    snapshot = server.snapshot(params.text_document.uri)
    if snapshot is None:
        return None
    offset = snapshot.lines.offset(params.position)
    cited = citation_at(snapshot.citations(), offset)
    if cited is None:
        return None
    library = await server.library()
    paper = await library.find(cited.key) or server.bibliography(snapshot).paper(cited.key)
    if paper is None:
        return None
    return types.Hover(
        contents=server.hover_markup(render_hover(paper)),
        range=snapshot.lines.range(cited.start, cited.end),
    )
