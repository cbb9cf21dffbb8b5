"""The /paper add form's submission: validate, then add to the shared index."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots import blocks, pages
from bots.adding import add_by_identifiers, remember_shared
from bots.forms import form_metadata, identifiers_from_form, papers_from_form, submitted_values
from bots.listeners import answer_or_apologise, library_of, user_of
from bots.pages import Answer
from core.records import Paper


async def add_paper(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any) -> None:
    user = user_of(body)
    values = submitted_values(view)
    # A DOI or arXiv link fills in the rest; otherwise the fields (or a pasted entry) are the paper.
    identifiers, errors = identifiers_from_form(values)
    papers: list[Paper] = []
    if not identifiers and not errors:
        papers, errors = papers_from_form(values, user)
    if errors:
        # Shown beside each field; the form stays open and nothing is stored.
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    channel = form_metadata(view).get("channel") or user

    async def tell(answer: Answer) -> Any:
        if channel == user:
            return await client.chat_postMessage(channel=user, **answer.message())
        return await client.chat_postEphemeral(channel=channel, user=user, **answer.message())

    async def work() -> Answer:
        library = library_of(context)
        shared_in = "" if channel == user else channel
        if identifiers:
            result = await add_by_identifiers(library, identifiers)
            await remember_shared(library, shared_in, [paper.key for paper in result.papers], "added")
            return pages.added(result)
        report = await library.add_papers(papers)
        keys = report.added + report.updated + report.unchanged
        await remember_shared(library, shared_in, keys, "added")
        verb = (
            "Added"
            if report.added
            else "Already known, updated"
            if report.updated
            else "Already in the index"
        )
        text = (
            f"{verb}: "
            + ", ".join(f"`{blocks.escape(k)}`" for k in keys)
            + ". Cite with `\\cite{…}` or `[@…]`."
        )
        return Answer(blocks.text_message(text), f"{verb}: {', '.join(keys)}.")

    await answer_or_apologise(tell, work)


def register(app: AsyncApp) -> None:
    app.view(blocks.ADD_CALLBACK)(add_paper)
