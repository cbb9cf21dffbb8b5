"""`/paper follow`, `/paper following`, `/paper unfollow N`: a channel's follows, kept in the store."""

from __future__ import annotations

import datetime as dt

from bots import blocks
from bots.commands import parse_follow
from bots.pages import Answer
from core.follows import Follow, FollowError, add_follow, channel_papers, follows, remove_follow
from core.interface import PaperLibrary
from core.library import Library
from core.schedule import format_time_of_day


def _folder(library: PaperLibrary) -> Library:
    if not isinstance(library, Library):
        raise FollowError(
            "Follows work when the bot serves a folder (or runs beside `papercite serve`), not a remote index."
        )
    return library


def when(follow: Follow) -> str:
    days = "Mondays" if follow.weekly else "weekdays"
    return f"{days} at {format_time_of_day(follow.at_minute)} ({follow.time_zone})"


async def follow(
    library: PaperLibrary, channel: str, user: str, argument: str, *, now: dt.datetime, time_zone: str
) -> Answer:
    arguments = parse_follow(argument)
    made = await add_follow(
        _folder(library),
        channel,
        query=arguments.query,
        by_library=arguments.by_library,
        at_minute=arguments.at_minute,
        weekly=arguments.weekly,
        time_zone=time_zone,
        user=user,
        now=now,
    )
    what = (
        "new papers like the ones shared, added and linked here"
        if made.by_library
        else f"new papers on _{blocks.escape(made.query)}_"
    )
    text = (
        f"Following {what} (follow {made.number}): a digest comes {when(made)} when there is something new."
    )
    if made.by_library and not await channel_papers(_folder(library), channel):
        text += (
            " Nothing has been shared here yet: papers shared with /paper, added or linked in this "
            "channel make its query."
        )
    return Answer(blocks.text_message(text), f"Following {made.label} (follow {made.number})")


async def following(library: PaperLibrary, channel: str) -> Answer:
    found = await follows(_folder(library), channel)
    rows = [(item.number, item.label, when(item)) for item in found]
    return Answer(blocks.following_message(rows), f"This channel has {len(found)} follows")


async def unfollow(library: PaperLibrary, channel: str, argument: str) -> Answer:
    number = argument.strip().lstrip("#")
    if not (number.isascii() and number.isdigit()) or len(number) > 6:
        raise FollowError("Which one? `/paper unfollow N`, with N from `/paper following`.")
    ended = await remove_follow(_folder(library), channel, int(number))
    text = f"Follow {ended.number} ({blocks.escape(ended.label)}) has ended."
    return Answer(blocks.text_message(text), f"Follow {ended.number} has ended.")
