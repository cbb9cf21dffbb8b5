"""The `/paper` slash command."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots import blocks, following, pages
from bots.adding import add_by_identifiers, remember_shared
from bots.commands import parse_request
from bots.links import identifiers_in_command
from bots.listeners import answer_or_apologise, clock_of, ephemeral, library_of, log
from bots.pages import Answer
from bots.slack_errors import error_code

COMMAND = "/paper"


async def paper_command(ack: Any, command: dict[str, Any], respond: Any, client: Any, context: Any) -> None:
    await ack()  # within Slack's 3 seconds, before any work
    request = parse_request(command.get("text", ""))
    library = library_of(context)
    channel, user = str(command.get("channel_id") or ""), str(command.get("user_id") or "")
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
            result = await add_by_identifiers(library, identifiers_in_command(request.argument) or [])
            await remember_shared(library, channel, [paper.key for paper in result.papers], "added")
            return pages.added(result)
        if request.kind == "links":
            return await pages.links_setting(library, channel, request.argument)
        if request.kind == "follow":
            return await following.follow(
                library,
                channel,
                user,
                request.argument,
                now=clock_of(context)(),
                time_zone=await _time_zone(client, user),
            )
        if request.kind == "following":
            return await following.following(library, channel)
        if request.kind == "unfollow":
            return await following.unfollow(library, channel, request.argument)
        return await pages.search_page(library, request.argument, None, 0)

    await answer_or_apologise(ephemeral(respond), work)


async def _time_zone(client: Any, user: str) -> str:
    """The time zone of the person following (users.info), for the digest's time; UTC without it."""
    try:
        answer = await client.users_info(user=user)
    except SlackApiError as error:
        log.info("users.info refused (%s); the follow's times are in UTC", error_code(error) or error)
        return "UTC"
    found = answer.get("user") if answer else None
    zone = found.get("tz") if isinstance(found, dict) else None
    return zone if isinstance(zone, str) and zone else "UTC"


async def _open_add_form(client: Any, trigger_id: str, metadata: str) -> None:
    await client.views_open(trigger_id=trigger_id, view=blocks.add_paper_modal(metadata))


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(paper_command)
