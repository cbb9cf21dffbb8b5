"""The /paper add form's submission: validate, then add to the shared index."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots import blocks
from bots.forms import form_metadata, papers_from_form, submitted_values
from bots.listeners import answer_or_apologise, library_of, user_of
from bots.pages import Answer


async def add_paper(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any) -> None:
    user = user_of(body)
    papers, errors = papers_from_form(submitted_values(view), user)
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
        report = await library_of(context).add_papers(papers)
        keys = report.added + report.updated + report.unchanged
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
