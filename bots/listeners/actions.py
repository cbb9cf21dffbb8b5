"""The buttons under results: Share in channel, BibTeX, More like this, Next 5."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots import blocks, pages
from bots.listeners import answer_or_apologise, ephemeral, library_of, log
from bots.pages import Answer
from core.search import Hit


def _value(body: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(body["actions"][0]["value"]))


async def share(ack: Any, body: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
    """Post one result for everyone; where the bot is not in the channel, post through response_url."""
    await ack()
    value = _value(body)
    library = library_of(context)

    async def work() -> Answer | None:
        paper = await library.get(value["k"])
        hit = Hit(paper, 0.0, 1)
        message = blocks.shared_message(hit, value.get("t", {}), body["user"]["id"])
        channel = (body.get("channel") or {}).get("id")
        try:
            await client.chat_postMessage(
                channel=channel, blocks=message, text=paper.title, unfurl_links=False
            )
        except SlackApiError as error:
            log.info(
                "chat.postMessage refused (%s); sharing through response_url", error.response.get("error")
            )
            await respond(
                blocks=message, text=paper.title, response_type="in_channel", replace_original=False
            )
        return None

    await answer_or_apologise(ephemeral(respond), work)


async def bibtex(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
    await ack()
    await answer_or_apologise(
        ephemeral(respond), lambda: pages.bibtex(library_of(context), _value(body)["k"])
    )


async def more_like_this(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
    await ack()
    await answer_or_apologise(
        ephemeral(respond), lambda: pages.more_like(library_of(context), _value(body)["k"])
    )


async def next_page(ack: Any, body: dict[str, Any], respond: Any, context: Any) -> None:
    await ack()
    value = _value(body)
    await answer_or_apologise(
        ephemeral(respond, replace_original=True),
        lambda: pages.search_page(
            library_of(context), value.get("q", ""), value.get("t"), int(value.get("o", 0))
        ),
    )


def register(app: AsyncApp) -> None:
    app.action("share")(share)
    app.action("bibtex")(bibtex)
    app.action("more_like_this")(more_like_this)
    app.action("next_page")(next_page)
