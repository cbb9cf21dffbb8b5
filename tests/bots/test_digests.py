"""Sending digests to the local fake of Slack's Web API through slack_sdk's real client, with a
clock the test moves: schedule, thread, pacing, 429s, channels gone, escaping, dry runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bots.digests import SECONDS_PER_CHANNEL_MESSAGE, digests_forever, send_digests
from core import follows
from core.digests import PER_FOLLOW
from core.library import Library
from core.records import Paper
from tests.e2e.fake_slack import FakeSlack

MONDAY_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
TUESDAY_9 = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    """Time the test sets; sleeping moves it on (and is noted) instead of waiting."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    slack.reset()
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


def speculative(count: int, title_prefix: str = "Draft trees for speculative decoding") -> list[Paper]:
    return [
        Paper(
            key="",
            title=f"{title_prefix} {number}",
            abstract=f"Speculative decoding with a draft model, variant {number}: the target model "
            "verifies drafted tokens in parallel.",
            authors=("Doe, Jane",),
            year=2026,
            origin=f"test:{number}",
            format="test",
        )
        for number in range(count)
    ]


def posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [call.payload for call in slack.calls if call.method == "chat.postMessage"]


def section_texts(payload: dict[str, Any]) -> list[str]:
    return [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section"]


async def test_a_digest_comes_at_its_time_with_more_in_its_thread(
    library: Library, slack: FakeSlack, client: AsyncWebClient
) -> None:
    await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(speculative(PER_FOLLOW + 3))
    clock = Clock(MONDAY_10 + dt.timedelta(hours=1))
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep)
    assert (run.sent, run.quiet, posts(slack)) == ([], [], [])  # not due before Tuesday 09:00

    clock.now = TUESDAY_9
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep)
    assert run.sent == ["C1"]
    message, more = posts(slack)
    assert message["channel"] == "C1" and "thread_ts" not in message
    assert message["blocks"][0]["elements"][0]["text"] == "*New papers: speculative decoding* (follow 1)"
    assert len(section_texts(message)) == PER_FOLLOW
    assert [b["elements"][0]["action_id"] for b in message["blocks"] if b["type"] == "actions"] == [
        "share"
    ] * PER_FOLLOW
    assert more["thread_ts"] == "1700000000.000100"  # the message's ts, as the fake answered it
    assert more["blocks"][0]["elements"][0]["text"].startswith("*More* for")
    assert len(section_texts(more)) == 3
    # (papers without a link: the title is the card's first line, in bold)
    shown = {text.split("\n", 1)[0].strip("*") for text in section_texts(message) + section_texts(more)}
    assert shown == {paper.title for paper in speculative(PER_FOLLOW + 3)}
    # The thread reply waited its turn: one message a second in a channel.
    assert clock.slept == [SECONDS_PER_CHANNEL_MESSAGE]

    # The next weekday, nothing new: nothing posted, and the follow moves on all the same.
    slack.reset()
    clock.now = TUESDAY_9 + dt.timedelta(days=1)
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep)
    assert (run.sent, run.quiet, posts(slack)) == ([], ["C1"], [])


async def test_a_429_is_waited_out_as_long_as_slack_says(
    library: Library, slack: FakeSlack, client: AsyncWebClient
) -> None:
    await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(speculative(2))
    slack.rate_limited["chat.postMessage"] = [7, 3]
    clock = Clock(TUESDAY_9)
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep)
    assert run.sent == ["C1"]
    assert clock.slept[:2] == [7.0, 3.0]
    assert len(posts(slack)) == 3  # two refused, then the message


async def test_a_channel_gone_ends_its_follows_with_one_log_line(
    library: Library, slack: FakeSlack, client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    for channel in ("C1", "C2"):
        await follows.add_follow(library, channel, query="speculative decoding", now=MONDAY_10)
    await library.add_papers(speculative(2))
    slack.failures["chat.postMessage"] = "is_archived"
    caplog.set_level(logging.INFO, logger="papercite.slack")
    clock = Clock(TUESDAY_9)
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep)
    assert sorted(run.ended) == ["C1", "C2"]
    assert await follows.follows(library) == []
    lines = [r.getMessage() for r in caplog.records if "follows end" in r.getMessage()]
    assert sorted(lines) == [
        "channel C1 answered is_archived: its 1 follows end",
        "channel C2 answered is_archived: its 1 follows end",
    ]


async def test_another_refusal_leaves_the_digest_for_the_next_round(
    library: Library, slack: FakeSlack, client: AsyncWebClient
) -> None:
    await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(speculative(2))
    slack.failures["chat.postMessage"] = "invalid_auth"
    clock = Clock(TUESDAY_9)
    assert (await send_digests(library, client, clock=clock, sleep=clock.sleep)).failed == ["C1"]
    del slack.failures["chat.postMessage"]
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep)
    assert run.sent == ["C1"] and len(section_texts(posts(slack)[-1])) == 2


async def test_what_a_digest_shows_is_escaped(
    library: Library, slack: FakeSlack, client: AsyncWebClient
) -> None:
    await follows.add_follow(library, "C1", query="speculative decoding <!channel>", now=MONDAY_10)
    await library.add_papers(speculative(1, "Speculative decoding <!channel> & <@U123|boss>"))
    clock = Clock(TUESDAY_9)
    await send_digests(library, client, clock=clock, sleep=clock.sleep)
    (message,) = posts(slack)
    everything = str(message["blocks"]) + message["text"]
    assert "<!channel>" not in everything and "<@U123" not in everything
    assert "&lt;!channel&gt; &amp; &lt;@U123|boss&gt;" in section_texts(message)[0]


async def test_a_dry_run_prints_and_neither_posts_nor_remembers(
    library: Library, slack: FakeSlack, client: AsyncWebClient
) -> None:
    await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(speculative(2))
    out = io.StringIO()
    clock = Clock(MONDAY_10)
    run = await send_digests(
        library, client, clock=clock, sleep=clock.sleep, every=True, dry_run=True, out=out
    )
    assert run.sent == ["C1"] and posts(slack) == []
    assert out.getvalue().splitlines()[:2] == ["channel C1:", "  follow 1: speculative decoding"]
    assert len(out.getvalue().splitlines()) == 4
    # Nothing was remembered: the real run sends the same papers.
    run = await send_digests(library, client, clock=clock, sleep=clock.sleep, every=True)
    assert run.sent == ["C1"] and len(section_texts(posts(slack)[0])) == 2


async def test_the_digest_loop_sends_at_the_time_and_once(
    library: Library, slack: FakeSlack, client: AsyncWebClient
) -> None:
    await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(speculative(2))
    clock = Clock(TUESDAY_9 - dt.timedelta(minutes=3))
    naps = 0

    async def sleep(seconds: float) -> None:
        nonlocal naps
        naps += 1
        await clock.sleep(seconds)
        if naps == 10:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await digests_forever(library, client, clock=clock, sleep=sleep)
    # Ten minutes of rounds, one a minute: the digest went out at 09:00, once.
    (message,) = posts(slack)
    assert len(section_texts(message)) == 2
    # The round's lease was let go: another process may take the next one at once.
    assert await follows.take_lease(library, "digest", "another", clock.now, 60)
