"""`/paper follow`, `following` and `unfollow`: parsing, and the answers over a real store."""

from __future__ import annotations

import datetime as dt

import pytest

from bots import following
from bots.commands import FollowArguments, parse_follow, parse_request
from core.follows import FollowError
from core.library import Library
from core.schedule import BadSchedule

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)


def test_follow_requests_are_told_apart_from_searches() -> None:
    assert parse_request("follow speculative decoding").kind == "follow"
    assert parse_request("following").kind == "following"
    assert parse_request("unfollow 2").argument == "2"
    assert parse_request("followers of arxiv").kind == "search"


def test_follow_arguments() -> None:
    assert parse_follow("speculative decoding") == FollowArguments("speculative decoding", False, 540, False)
    assert parse_follow("--library --at 14:30 --weekly") == FollowArguments("", True, 870, True)
    # Slack turns a typed -- into an em dash; = works too.
    assert parse_follow("kv cache \u2014at=7:05") == FollowArguments("kv cache", False, 425, False)
    with pytest.raises(BadSchedule, match="'25:00' is not a time of day"):
        parse_follow("x --at 25:00")
    with pytest.raises(BadSchedule, match="--at needs a time"):
        parse_follow("x --at")
    with pytest.raises(FollowError, match="not --daily"):
        parse_follow("x --daily")
    with pytest.raises(FollowError, match="not both"):
        parse_follow("--library retrieval")


async def test_follow_following_unfollow(library: Library) -> None:
    made = await following.follow(
        library, "C1", "U1", "speculative &lt;decoding&gt;", now=NOW, time_zone="Europe/Paris"
    )
    assert "new papers on _speculative &lt;decoding&gt;_ (follow 1)" in made.blocks[0]["text"]["text"]
    assert "weekdays at 09:00 (Europe/Paris)" in made.blocks[0]["text"]["text"]
    made = await following.follow(
        library, "C1", "U1", "--library --weekly --at 8:00", now=NOW, time_zone="UTC"
    )
    assert "Nothing has been shared here yet" in made.summary + made.blocks[0]["text"]["text"]
    listed = (await following.following(library, "C1")).blocks[0]["text"]["text"]
    assert listed.splitlines()[1:] == [
        "*1.* speculative &lt;decoding&gt; — weekdays at 09:00 (Europe/Paris)",
        "*2.* papers like this channel's — Mondays at 08:00 (UTC)",
    ]
    assert "has ended" in (await following.unfollow(library, "C1", "1")).summary
    with pytest.raises(FollowError, match="Which one"):
        await following.unfollow(library, "C1", "one")
    with pytest.raises(FollowError, match="no follow number 1"):
        await following.unfollow(library, "C1", "1")
    assert "follows nothing yet" in (await following.following(library, "C2")).blocks[0]["text"]["text"]
