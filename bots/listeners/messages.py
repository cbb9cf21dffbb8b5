"""Links posted in a channel the app is in: each DOI or arXiv paper joins the index, and the message
gets one quiet reaction, never a reply. A channel can say no with `/paper links off`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots.adding import add_by_identifiers, links_enabled, remember_shared
from bots.links import identifiers_in_message
from bots.listeners import library_of, log
from core.records import PaperciteError

REACTION = "books"
# Message subtypes written by people; edits, deletions, joins and bots' posts are left alone.
_PEOPLE = {None, "thread_broadcast", "file_share"}


async def message(event: dict[str, Any], client: Any, context: Any) -> None:
    if event.get("subtype") not in _PEOPLE or event.get("bot_id"):
        return
    channel, ts = event.get("channel"), event.get("ts")
    identifiers = identifiers_in_message(event.get("text"))
    if not identifiers or not isinstance(channel, str) or not isinstance(ts, str):
        return
    library = library_of(context)
    if not await links_enabled(library, channel):
        return
    try:
        result = await add_by_identifiers(library, identifiers)
    except PaperciteError as error:
        log.info("links in %s not added: %s", channel, error)
        return
    except Exception:
        log.exception("adding the links of a message in %s failed", channel)
        return
    for failure in result.errors:
        log.info("a link in %s was not added: %s", channel, failure)
    if not result.papers:
        return
    await remember_shared(library, channel, [paper.key for paper in result.papers], "linked")
    try:
        await client.reactions_add(channel=channel, timestamp=ts, name=REACTION)
    except SlackApiError as error:
        # already_reacted (a redelivered event), or no reactions:write: the papers are in either way.
        log.info("reactions.add refused (%s)", error.response.get("error"))


def register(app: AsyncApp) -> None:
    app.event("message")(message)
