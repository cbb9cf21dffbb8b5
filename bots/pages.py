"""From a request to the message answering it: the work every listener shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bots import blocks
from bots.blocks import PAGE_SIZE, Block
from core.interface import PaperLibrary
from core.query import text_terms
from core.records import EmptyQuery, UnknownKey


@dataclass
class Answer:
    blocks: list[Block]
    text: str  # the notification text Slack shows where blocks are not rendered


async def search_page(
    library: PaperLibrary, query: str, terms: Mapping[str, float] | None, offset: int
) -> Answer:
    """One page of results for a query (or for its already built terms, when paging)."""
    terms = dict(terms) if terms else text_terms(query)
    if not terms:
        raise EmptyQuery()
    hits = await library.search(terms, offset + PAGE_SIZE + 1)
    page = hits[offset : offset + PAGE_SIZE]
    return Answer(
        blocks.results_message(page, terms, query, offset, has_more=len(hits) > offset + PAGE_SIZE),
        f"{len(page)} papers for {query[:100]}" if page else f"No papers match {query[:100]}",
    )


async def more_like(library: PaperLibrary, key: str) -> Answer:
    paper = await library.get(key)
    terms = text_terms(paper.search_text())
    hits = await library.search(terms, PAGE_SIZE, exclude=[key])
    label = f"papers like {paper.short_title(80)}"
    return Answer(blocks.results_message(hits, terms, label, 0, has_more=False), label)


async def bibtex(library: PaperLibrary, key: str) -> Answer:
    paper = await library.get(key)
    return Answer(blocks.bibtex_message(paper), f"BibTeX for {key}")


async def show(library: PaperLibrary, key: str) -> Answer:
    paper = await library.get(key)
    return Answer(blocks.paper_message(paper), paper.title)


async def stats(library: PaperLibrary) -> Answer:
    return Answer(blocks.stats_message(await library.stats()), "papercite index statistics")


def problem(error: Exception) -> Answer:
    """The project's own errors, in plain words for the person who asked."""
    if isinstance(error, EmptyQuery):
        text = "Your query has no words to search for (only very common words or markup). Try `/paper help`."
    elif isinstance(error, UnknownKey):
        hint = f" Did you mean {', '.join(f'`{k}`' for k in error.suggestions)}?" if error.suggestions else ""
        text = f"No paper has the key `{blocks.escape(error.key)}`.{hint}"
    else:
        text = f"Sorry: {blocks.escape(str(error))}"
    return Answer(blocks.text_message(text), text)


SOMETHING_WENT_WRONG = Answer(
    blocks.text_message("Sorry, something went wrong on our side; it has been logged. Please try again."),
    "Sorry, something went wrong.",
)
