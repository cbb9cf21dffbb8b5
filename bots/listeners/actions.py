"""The buttons under results: Share in channel, BibTeX, More like this, Next 5."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots import blocks, pages
from bots.adding import remember_shared
from bots.listeners import answer_or_apologise, ephemeral, library_of, log, user_of
from bots.pages import Answer
from bots.values import action_value, page_value, paper_value
from core.search import Hit


def _channel(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    return channel.get("id") if isinstance(channel, dict) else None


async def share(ack: Any, body: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
    """Post one result for everyone; where the bot is not in the channel, post through response_url."""
    await ack()
    library = library_of(context)

    async def work() -> Answer | None:
        value = paper_value(action_value(body))  # a bad value becomes a private apology
        paper = await library.get(value.key)
        shared = Answer(blocks.shared_message(Hit(paper, 0.0, 1), value.terms, user_of(body)), paper.title)
        await remember_shared(library, _channel(body) or "", [paper.key], "shared")
        try:
            await client.chat_postMessage(channel=_channel(body), **shared.message(), unfurl_links=False)
        except SlackApiError as error:
            log.info(
                "chat.postMessage refused (%s); sharing through response_url", error.response.get("error")
            )
            await respond(**shared.message(), response_type="in_channel", replace_original=False)
        return None

    await answer_or_apologise(ephemeral(respond), work)


async def bibtex(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
    await ack()

    async def work() -> Answer:
        return await pages.bibtex(library_of(context), paper_value(action_value(body)).key)

    await answer_or_apologise(ephemeral(respond), work)


async def more_like_this(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
    await ack()

    async def work() -> Answer:
        return await pages.more_like(library_of(context), paper_value(action_value(body)).key)

    await answer_or_apologise(ephemeral(respond), work)


async def next_page(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
    await ack()

    async def work() -> Answer:
        value = page_value(action_value(body))
        return await pages.search_page(library_of(context), value.query, value.terms, value.offset)

    await answer_or_apologise(ephemeral(respond, replace_original=True), work)


def register(app: AsyncApp) -> None:
    app.action("share")(share)
    app.action("bibtex")(bibtex)
    app.action("more_like_this")(more_like_this)
    app.action("next_page")(next_page)
