"""The `/paper` slash command."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots import blocks, pages
from bots.adding import add_by_identifiers
from bots.commands import parse_request
from bots.links import identifiers_in_command
from bots.listeners import answer_or_apologise, ephemeral, library_of
from bots.pages import Answer

COMMAND = "/paper"


async def paper_command(ack: Any, command: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
    await ack()  # within Slack's 3 seconds, before any work
    request = parse_request(command.get("text", ""))
    library = library_of(context)
    if request.kind == "add" and not request.argument:
        metadata = json.dumps({"channel": command.get("channel_id", ""), "user": command.get("user_id", "")})
        await answer_or_apologise(
            ephemeral(respond),
            lambda: _open_add_form(client, command["trigger_id"], metadata),
        )
        return

    async def work() -> Answer:
        if request.kind == "help":
            return Answer(blocks.usage_message(), "How to use /paper")
        if request.kind == "stats":
            return await pages.stats(library)
        if request.kind == "cite":
            return await pages.bibtex(library, request.argument)
        if request.kind == "show":
            return await pages.show(library, request.argument)
        if request.kind == "add":
            return pages.added(
                await add_by_identifiers(library, identifiers_in_command(request.argument) or [])
            )
        if request.kind == "links":
            return await pages.links_setting(library, str(command.get("channel_id") or ""), request.argument)
        return await pages.search_page(library, request.argument, None, 0)

    await answer_or_apologise(ephemeral(respond), work)


async def _open_add_form(client: Any, trigger_id: str, metadata: str) -> None:
    await client.views_open(trigger_id=trigger_id, view=blocks.add_paper_modal(metadata))


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(paper_command)
