"""Hover on a cited key: what the paper is."""

from __future__ import annotations

from lsprotocol import types

from core.documents.citations import citation_at
from core.records import Paper
from server import markdown
from server.server import PaperciteServer, safely


def render_hover(paper: Paper) -> str:
    """Markdown: title, authors, year and venue, the abstract, and a link (DOI first).

    Every value is escaped text; the only link is one built here from a well-formed DOI or an
    http(s) address.
    """
    title = markdown.escape(paper.title)
    lines = [f"**{title}**"] if title else []
    if paper.authors:
        lines.append(markdown.escape(", ".join(paper.authors)))
    meta = " · ".join(
        v for v in (str(paper.year or ""), markdown.escape(paper.venue), markdown.code(paper.key)) if v
    )
    lines.append(f"*{meta}*")
    if paper.abstract.strip():
        lines.append(markdown.escape(paper.abstract))
    doi = markdown.doi_address(paper.doi) if paper.doi else None
    url = markdown.web_address(paper.url) if paper.url else None
    arxiv = markdown.web_address(f"https://arxiv.org/abs/{paper.arxiv_id}") if paper.arxiv_id else None
    if doi:
        lines.append(markdown.link(f"doi:{paper.doi}", doi))
    elif url:
        lines.append(markdown.link(paper.url, url))
    elif arxiv:
        lines.append(markdown.link(f"arXiv:{paper.arxiv_id}", arxiv))
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
