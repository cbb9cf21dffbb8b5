"""From a request to the message answering it: the work every listener shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bots import adding, blocks
from bots.blocks import PAGE_SIZE, Block, escape
from bots.values import BadActionValue
from core.embedding import paper_text
from core.interface import PaperLibrary
from core.query import text_terms
from core.records import EmptyQuery, UnknownKey
from core.sources import AddResult

# Notification text is short: Slack shows it in notifications and where blocks are not rendered.
MAX_SUMMARY = 150


@dataclass(frozen=True)
class Answer:
    blocks: list[Block]
    summary: str  # plain words, not mrkdwn: escaped on the way out, like everything else we post

    def message(self) -> dict[str, Any]:
        """The `blocks` and `text` arguments of every message the bot sends (chat.postMessage,
        chat.postEphemeral, response_url): the blocks are escaped as they are built, the text here."""
        return {"blocks": self.blocks, "text": escape(blocks.clip(self.summary, MAX_SUMMARY))}


async def search_page(
    library: PaperLibrary, query: str, terms: Mapping[str, float] | None, offset: int
) -> Answer:
    """One page of results for a query (or for its already built terms, when paging)."""
    terms = dict(terms) if terms else text_terms(query)
    if not terms:
        raise EmptyQuery()
    hits = await library.search(terms, offset + PAGE_SIZE + 1, meaning=query)
    page = hits[offset : offset + PAGE_SIZE]
    return Answer(
        blocks.results_message(page, terms, query, offset, has_more=len(hits) > offset + PAGE_SIZE),
        f"{len(page)} papers for {query}" if page else f"No papers match {query}",
    )


async def more_like(library: PaperLibrary, key: str) -> Answer:
    paper = await library.get(key)
    terms = text_terms(paper.search_text())
    hits = await library.search(terms, PAGE_SIZE, exclude=[key], meaning=paper_text(paper))
    label = f"papers like {paper.short_title(80)}"
    return Answer(blocks.results_message(hits, terms, label, 0, has_more=False), label)


async def bibtex(library: PaperLibrary, key: str) -> Answer:
    paper = await library.get(key)
    return Answer(blocks.bibtex_message(paper), f"BibTeX for {key}")


async def show(library: PaperLibrary, key: str) -> Answer:
    paper = await library.get(key)
    return Answer(blocks.paper_message(paper), paper.title)


def added(result: AddResult) -> Answer:
    """What `/paper add ID…`, the form's identifier and the like answer: the papers' cards."""
    papers = [(paper, result.status.get(paper.key, "added")) for paper in result.papers]
    failures = [str(error) for error in result.errors]
    summary = "; ".join(
        [f"{blocks.ADDED_LABELS.get(status, 'Added')}: {paper.key}" for paper, status in papers]
        + [f"Could not add {failure}" for failure in failures]
    )
    return Answer(blocks.added_message(papers, failures), summary or "Nothing to add.")


async def links_setting(library: PaperLibrary, channel: str, setting: str) -> Answer:
    """`/paper links [on|off]`: set or tell whether this channel's DOI and arXiv links join the index."""
    if setting:
        await adding.set_links(library, channel, setting == "on")
    if await adding.links_enabled(library, channel):
        text = (
            "DOI and arXiv links posted in this channel join the team's index (a :books: says so). "
            "`/paper links off` stops it."
        )
    else:
        text = "Links posted in this channel stay out of the index. `/paper links on` lets them in."
    return Answer(blocks.text_message(text), text)


async def stats(library: PaperLibrary) -> Answer:
    return Answer(blocks.stats_message(await library.stats()), "papercite index statistics")


def problem(error: Exception) -> Answer:
    """The project's own errors, in plain words for the person who asked."""
    if isinstance(error, EmptyQuery):
        text = "Your query has no words to search for (only very common words or markup). Try `/paper help`."
        summary = "Your query has no words to search for."
    elif isinstance(error, UnknownKey):
        hint = (
            f" Did you mean {', '.join(f'`{escape(k)}`' for k in error.suggestions)}?"
            if error.suggestions
            else ""
        )
        text = f"No paper has the key `{escape(error.key)}`.{hint}"
        summary = f"No paper has the key {error.key}."
    elif isinstance(error, BadActionValue):
        text, summary = escape(str(error)), str(error)
    else:
        text = f"Sorry: {escape(str(error))}"
        summary = f"Sorry: {error}"
    return Answer(blocks.text_message(text), summary)


SOMETHING_WENT_WRONG = Answer(
    blocks.text_message("Sorry, something went wrong on our side; it has been logged. Please try again."),
    "Sorry, something went wrong.",
)
