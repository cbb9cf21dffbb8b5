"""Mentioning the bot with a query: the answer goes in a thread under the mention."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bots import blocks, pages
from bots.adding import add_by_identifiers
from bots.commands import parse_request
from bots.links import identifiers_in_command
from bots.listeners import answer_or_apologise, library_of
from bots.pages import Answer


async def app_mention(event: dict[str, Any], client: Any, context: Any) -> None:
    request = parse_request(event.get("text", ""))
    library = library_of(context)
    thread = event.get("thread_ts") or event["ts"]

    async def reply(answer: Answer) -> Any:
        return await client.chat_postMessage(
            channel=event["channel"],
            thread_ts=thread,
            **answer.message(),
            unfurl_links=False,
        )

    async def work() -> Answer:
        if request.kind == "search":
            return await pages.search_page(library, request.argument, None, 0)
        if request.kind == "cite":
            return await pages.bibtex(library, request.argument)
        if request.kind == "show":
            return await pages.show(library, request.argument)
        if request.kind == "stats":
            return await pages.stats(library)
        if request.kind == "add" and request.argument:
            return pages.added(
                await add_by_identifiers(library, identifiers_in_command(request.argument) or [])
            )
        return Answer(blocks.usage_message(), "How to use papercite")

    await answer_or_apologise(reply, work)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(app_mention)
