"""Completion: papers ranked by the sentence around the citation, then filtered by what was typed."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from lsprotocol import types

from core.documents.declared import identities_of
from core.fusion import CANDIDATES, SENTENCE_WAIT, fused_ranking
from core.highlight import best_sentence_index, sentences
from core.interface import PaperLibrary
from core.query import context_terms, text_terms
from core.records import EmptyQuery, Paper, fold
from core.search import Hit
from server import commands, markdown
from server.bibliography import DocumentBibliography
from server.context import CiteSite, cite_site_at, citing_context
from server.server import PaperciteServer, Snapshot, log, safely

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


def render_label_details(candidate: Candidate) -> types.CompletionItemLabelDetails:
    """What clients that can show on every row (VS Code shows `detail` on the selected one only):
    year, where it is and title, the year first so a narrow list still shows it."""
    paper = candidate.paper
    parts = [str(paper.year) if paper.year else "", f"in {candidate.source}" if candidate.source else ""]
    return types.CompletionItemLabelDetails(
        description=" · ".join([*(part for part in parts if part), paper.short_title(60)])
    )


def render_documentation(paper: Paper, terms: Mapping[str, float]) -> str:
    """Markdown: title; authors and venue; the abstract with its best-matching sentence in bold."""
    title, byline, escaped = _escaped_parts(
        paper.title, paper.author_line(6), paper.venue, paper.year, paper.abstract
    )
    abstract = list(escaped)
    best = best_sentence_index(paper.abstract, terms)
    if best is not None and abstract[best]:
        abstract[best] = f"**{abstract[best]}**"
    return "\n\n".join(block for block in (title, byline, " ".join(a for a in abstract if a)) if block)


# Escaping a paper's sentences one by one was half of a completion (20 papers of about ten
# sentences, five substitutions each: 2.6 of 5.6 ms); the same papers come back completion after
# completion while someone writes, and only the bold sentence depends on the query.
@functools.lru_cache(maxsize=1024)
def _escaped_parts(
    title: str, authors: str, venue: str, year: int | None, abstract: str
) -> tuple[str, str, tuple[str, ...]]:
    """A paper's title (bold), byline and abstract sentences, escaped as Markdown text."""
    when = markdown.escape(", ".join(v for v in (venue, str(year or "")) if v))
    byline = "  \n".join(v for v in (markdown.escape(authors), f"*{when}*" if when else "") if v)
    escaped_title = markdown.escape(title)
    pieces = tuple(markdown.escape(sentence) for sentence in sentences(abstract))
    return (f"**{escaped_title}**" if escaped_title else "", byline, pieces)


@dataclass(frozen=True)
class Candidate:
    paper: Paper
    score: float
    source: str = ""  # the bibliography file (or "this document") that has it; "" for the index only
    matched: tuple[str, ...] = ()


def merge_with_bibliography(
    hits: Sequence[Hit],
    local: Mapping[str, tuple[Paper, str]],
    local_scores: Mapping[str, float],
    by_identity: Mapping[str, str],
) -> list[Candidate]:
    """Index hits and the document's own entries in one list, best first.

    An index paper that is also in the bibliography (same key, DOI, arXiv id, or title and first
    author) is offered once, under the bibliography's key: the one the document can cite.
    """
    merged: dict[str, Candidate] = {}
    for hit in hits:
        key = (
            hit.key
            if hit.key in local
            else next((by_identity[i] for i in identities_of(hit.paper) if i in by_identity), None)
        )
        if key is None:
            merged.setdefault(hit.key, Candidate(hit.paper, hit.score))
            continue
        paper, source = local[key]
        if not paper.abstract and hit.paper.abstract:
            paper = paper.replace(abstract=hit.paper.abstract, venue=paper.venue or hit.paper.venue)
        score = max(hit.score, local_scores.get(key, 0.0), merged[key].score if key in merged else 0.0)
        merged[key] = Candidate(paper, score, source)
    for key, score in local_scores.items():
        if score > 0 and key not in merged:
            merged[key] = Candidate(local[key][0], score, local[key][1])
    return sorted(merged.values(), key=lambda c: (-c.score, not c.source, c.paper.key))


async def search_with_bibliography(
    library: PaperLibrary,
    bibliography: DocumentBibliography,
    terms: Mapping[str, float],
    k: int,
    exclude: Collection[str] = (),
    *,
    meaning: str = "",
    wait: float = 0.0,
) -> list[Candidate]:
    """The library's and the bibliography's best `k` papers for the terms, in one ranking.

    With `meaning` (the sentence being written) and its vector ready within `wait` seconds, BM25's
    best CANDIDATES of both are re-ranked by sentence similarity (core/fusion.py); a bibliography
    entry the library lacks has no vector and keeps its BM25 place."""
    ready = meaning and await library.similarities(meaning, [], wait) is not None
    pool = max(k, CANDIDATES) if ready else k
    # Both sides on BM25's scale, so they merge; the fusion then ranks the merged list.
    hits = await library.search(terms, pool, exclude=exclude, semantic=False)
    scores = bibliography.search(library, terms, pool)
    merged = merge_with_bibliography(hits, bibliography.entries, scores, bibliography.identities)
    if ready:
        similarity = await library.similarities(meaning, [c.paper.key for c in merged], wait)
        if similarity is not None:
            by_key = {candidate.paper.key: candidate for candidate in merged}
            ranking = fused_ranking([(c.paper.key, c.score) for c in merged], similarity)
            merged = [dataclasses.replace(by_key[key], score=score) for key, score in ranking]
    return merged[:k]


def render_item(
    documentation: types.MarkupContent | str | None,
    candidate: Candidate,
    rank: int,
    site: CiteSite,
    edit_range: types.Range,
    command: types.Command | None,
    data: dict[str, str] | None,
) -> types.CompletionItem:
    paper = candidate.paper
    filter_words = [site.prefix] if site.prefix else []
    filter_words += [paper.key, *[w for w in candidate.matched if w != paper.key]]
    detail = render_detail(paper)
    return types.CompletionItem(
        label=paper.key,
        kind=types.CompletionItemKind.Reference,
        detail=f"in {candidate.source} · {detail}" if candidate.source else detail,
        documentation=documentation,
        sort_text=f"{rank:04d}",
        filter_text=" ".join(dict.fromkeys(filter_words))[:_FILTER_TEXT_LIMIT],
        text_edit=types.TextEdit(range=edit_range, new_text=paper.key),
        # Choosing a paper the bibliography lacks also writes its entry there.
        command=command,
        # Without documentation, the client asks for it (completionItem/resolve) when it shows one.
        data=data,
    )


async def rank_candidates(
    server: PaperciteServer, snapshot: Snapshot, site: CiteSite, bibliography: DocumentBibliography
) -> tuple[list[Candidate], dict[str, float]]:
    """The index's hits and the bibliography's entries for the citation's context, those matching
    the typed prefix, best first."""
    library = await server.library()
    limit = server.settings.max_items
    context = citing_context(snapshot.text, site, server.settings.context_window)
    terms = context_terms(context)
    # The sentence around the citation: its vector is computed once (not per keystroke of a key
    # prefix) and cached; until it is ready the answer is BM25's, and the client, told the list is
    # incomplete, asks again as the user types.
    sentence = " ".join(f"{context.before} {context.after}".split()) if server.settings.semantic else ""
    present = set(site.present_keys)
    ranked: list[Candidate] = []
    seen: set[str] = set(present)

    def take(candidates: Iterable[Candidate]) -> None:
        for candidate in candidates:
            if len(ranked) >= limit:
                return
            matched = prefix_matches(candidate.paper, site.prefix)
            if candidate.paper.key not in seen and matched:
                seen.add(candidate.paper.key)
                ranked.append(dataclasses.replace(candidate, matched=tuple(matched)))

    if terms:
        pool = limit if not site.prefix else max(limit, _PREFIX_POOL)
        take(
            await search_with_bibliography(
                library, bibliography, terms, pool, exclude=present, meaning=sentence, wait=SENTENCE_WAIT
            )
        )
    # The document's own entries are always there to pick, by key, even when the context misses them.
    if len(ranked) < limit:
        entries = bibliography.entries
        keys = (key for key in bibliography.keys_for_prefix(site.prefix) if key in entries)
        take(Candidate(entries[key][0], 0.0, entries[key][1]) for key in keys)
    if len(ranked) < limit and site.prefix:
        # Few context hits match the prefix: look the typed word up on its own, then as a key prefix.
        with contextlib.suppress(EmptyQuery):
            hits = await library.search(text_terms(site.prefix), limit * 2, exclude=seen)
            take(Candidate(hit.paper, hit.score) for hit in hits)
        keyed = await library.keys_with_prefix(site.prefix, limit=limit + len(seen))
        papers = await library.get_many(sorted(keyed - seen)[:limit])
        take(Candidate(paper, 0.0) for paper in papers.values())
    return ranked[:limit], terms


@safely(empty_list)
async def complete(server: PaperciteServer, params: types.CompletionParams) -> types.CompletionList:
    snapshot = server.snapshot(params.text_document.uri)
    if snapshot is None:
        return empty_list()
    site = cite_site_at(snapshot.text, snapshot.lines.offset(params.position), snapshot.language)
    if site is None:
        return empty_list()
    if await server.library_soon() is None:  # still opening: the next keystroke asks again
        return empty_list()
    edit_range = snapshot.lines.range(site.replace_start, site.replace_end)
    bibliography = server.bibliography(snapshot)
    ranked, terms = await rank_candidates(server, snapshot, site, bibliography)
    target = bibliography.target
    lazy = server.resolves_documentation
    completion_capabilities = getattr(server.client_capabilities.text_document, "completion", None)
    item_capabilities = getattr(completion_capabilities, "completion_item", None)
    label_details = bool(getattr(item_capabilities, "label_details_support", False))
    if lazy:
        server.last_completion_terms = terms
    items = []
    for rank, candidate in enumerate(ranked, start=1):
        key = candidate.paper.key
        command = None
        if target is not None and not candidate.source:
            command = commands.add_to_bibliography_command(snapshot.uri, [key], target.path.name)
        documentation = (
            None if lazy else server.completion_markup(render_documentation(candidate.paper, terms))
        )
        data = {"key": key, "uri": snapshot.uri} if lazy else None
        item = render_item(documentation, candidate, rank, site, edit_range, command, data)
        if label_details:
            item.label_details = render_label_details(candidate)
        items.append(item)
    return types.CompletionList(is_incomplete=True, items=items)


async def resolve(server: PaperciteServer, item: types.CompletionItem) -> types.CompletionItem:
    """The documentation of one item, asked for when the editor shows it: abstracts travel one at a time."""
    try:
        data = item.data if isinstance(item.data, dict) else {}
        key, uri = data.get("key"), data.get("uri")
        paper = await (await server.library()).find(key) if key else None
        snapshot = server.snapshot(uri) if uri and paper is None else None
        if snapshot is not None:
            paper = server.bibliography(snapshot).paper(key or "")
        if paper is not None:
            item.documentation = server.completion_markup(
                render_documentation(paper, server.last_completion_terms)
            )
    except Exception:
        log.error("completionItem/resolve failed", exc_info=True)
    return item
