"""Completion: papers ranked by the sentence around the citation, then filtered by what was typed."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from lsprotocol import types

from core.highlight import best_sentence_index, sentences
from core.query import context_terms, text_terms
from core.records import EmptyQuery, Paper, fold
from core.search import Hit
from server.context import CiteSite, cite_site_at, citing_context
from server.server import PaperciteServer, log, safely

# VS Code looks at no more than the first 128 characters of filterText.
_FILTER_TEXT_LIMIT = 128
# How many context hits are read to find those matching a typed prefix.
_PREFIX_POOL = 200


def empty_list() -> types.CompletionList:
    return types.CompletionList(is_incomplete=True, items=[])


def prefix_matches(paper: Paper, prefix: str) -> list[str]:
    """Words of the key, title or author names that start with what was typed (empty: no match)."""
    wanted = fold(prefix).replace(" ", "")
    if not wanted:
        return [paper.key]
    if paper.key.lower().startswith(prefix.lower()) or fold(paper.key).replace(" ", "").startswith(wanted):
        return [paper.key]
    words = fold(paper.title).split() + [fold(a).split()[0] for a in paper.authors if fold(a)]
    return list(dict.fromkeys(w for w in words if w.startswith(wanted)))


def render_detail(paper: Paper) -> str:
    """short title · first author · year"""
    parts = [paper.short_title(50)]
    if paper.authors:
        parts.append(paper.first_author_surname + (" et al." if len(paper.authors) > 1 else ""))
    if paper.year:
        parts.append(str(paper.year))
    return " · ".join(parts)


def render_documentation(paper: Paper, terms: Mapping[str, float]) -> str:
    """Markdown: title; authors and venue; the abstract with its best-matching sentence in bold."""
    venue = ", ".join(v for v in (paper.venue, str(paper.year or "")) if v)
    byline = "  \n".join(v for v in (paper.author_line(6), f"*{venue}*" if venue else "") if v)
    abstract = sentences(paper.abstract)
    best = best_sentence_index(paper.abstract, terms)
    if best is not None:
        abstract[best] = f"**{abstract[best]}**"
    return "\n\n".join(block for block in (f"**{paper.title}**", byline, " ".join(abstract)) if block)


def render_item(
    documentation: types.MarkupContent | str | None,
    hit: Hit,
    rank: int,
    site: CiteSite,
    edit_range: types.Range,
    matched: Sequence[str],
) -> types.CompletionItem:
    paper = hit.paper
    filter_words = [site.prefix] if site.prefix else []
    filter_words += [paper.key, *[w for w in matched if w != paper.key]]
    return types.CompletionItem(
        label=paper.key,
        kind=types.CompletionItemKind.Reference,
        detail=render_detail(paper),
        documentation=documentation,
        sort_text=f"{rank:04d}",
        filter_text=" ".join(dict.fromkeys(filter_words))[:_FILTER_TEXT_LIMIT],
        text_edit=types.TextEdit(range=edit_range, new_text=paper.key),
        # Without documentation, the client asks for it (completionItem/resolve) when it shows one.
        data={"key": paper.key} if documentation is None else None,
    )


async def rank_candidates(
    server: PaperciteServer, text: str, site: CiteSite
) -> tuple[list[tuple[Hit, list[str]]], dict[str, float]]:
    """Hits for the citation's context, those matching the typed prefix, best first."""
    library = await server.library()
    limit = server.settings.max_items
    terms = context_terms(citing_context(text, site, server.settings.context_window))
    present = set(site.present_keys)
    ranked: list[tuple[Hit, list[str]]] = []
    seen: set[str] = set(present)

    def take(hits: Sequence[Hit]) -> None:
        for hit in hits:
            matched = prefix_matches(hit.paper, site.prefix)
            if hit.key not in seen and matched:
                seen.add(hit.key)
                ranked.append((hit, matched))

    if terms:
        pool = limit if not site.prefix else max(limit, _PREFIX_POOL)
        take(await library.search(terms, pool, exclude=present))
    if len(ranked) < limit and site.prefix:
        # Few context hits match the prefix: look the typed word up on its own, then as a key prefix.
        with contextlib.suppress(EmptyQuery):
            take(await library.search(text_terms(site.prefix), limit * 2, exclude=seen))
        keyed = await library.store.keys_with_prefix(site.prefix, limit=limit + len(seen))
        papers = await library.get_many(sorted(keyed - seen)[:limit])
        take([Hit(paper, 0.0, 0) for paper in papers.values()])
    return ranked[:limit], terms


@safely(empty_list)
async def complete(server: PaperciteServer, params: types.CompletionParams) -> types.CompletionList:
    snapshot = server.snapshot(params.text_document.uri)
    if snapshot is None:
        return empty_list()
    site = cite_site_at(snapshot.text, snapshot.lines.offset(params.position), snapshot.language)
    if site is None:
        return empty_list()
    edit_range = snapshot.lines.range(site.replace_start, site.replace_end)
    ranked, terms = await rank_candidates(server, snapshot.text, site)
    lazy = server.resolves_documentation
    if lazy:
        server.last_completion_terms = terms
    items = [
        render_item(
            None if lazy else server.completion_markup(render_documentation(hit.paper, terms)),
            hit,
            rank,
            site,
            edit_range,
            matched,
        )
        for rank, (hit, matched) in enumerate(ranked, start=1)
    ]
    return types.CompletionList(is_incomplete=True, items=items)


async def resolve(server: PaperciteServer, item: types.CompletionItem) -> types.CompletionItem:
    """The documentation of one item, asked for when the editor shows it: abstracts travel one at a time."""
    try:
        key = item.data.get("key") if isinstance(item.data, dict) else None
        paper = await (await server.library()).find(key) if key else None
        if paper is not None:
            item.documentation = server.completion_markup(
                render_documentation(paper, server.last_completion_terms)
            )
    except Exception:
        log.error("completionItem/resolve failed", exc_info=True)
    return item
