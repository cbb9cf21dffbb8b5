"""Sending digests: one message per channel with its follows' new papers, **More** in its thread.

Posts are paced to Slack's chat.postMessage limit (about one message per second per channel) and a
429 waits as long as its Retry-After says. A channel the bot was removed from, or that was archived,
ends its follows with one log line. A digest is remembered (papers shown, time, newest arrival) only
once its message went out, so a failed post is tried again at the next round.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO

from slack_sdk.errors import SlackApiError

from bots import blocks
from bots.blocks import DigestPart
from bots.pages import Answer
from bots.slack_errors import CHANNEL_GONE, error_code
from core.digests import ChannelDigest, channel_digest, due_follows
from core.follows import end_channel, record_digest, release_lease, take_lease
from core.library import Library

log = logging.getLogger("papercite.slack")

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]

# chat.postMessage allows about one message per second per channel (short bursts aside).
SECONDS_PER_CHANNEL_MESSAGE = 1.0
# A 429 without a Retry-After (Slack always sends one) waits this long.
DEFAULT_RETRY_AFTER = 30.0
MAX_RATE_LIMITED = 5


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class ChannelGone(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Pacer:
    """Spaces posts to one channel SECONDS_PER_CHANNEL_MESSAGE apart, by the given clock and sleep."""

    def __init__(self, clock: Clock, sleep: Sleep, interval: float = SECONDS_PER_CHANNEL_MESSAGE) -> None:
        self._clock, self._sleep, self._interval = clock, sleep, interval
        self._last: dict[str, float] = {}

    async def wait(self, channel: str) -> None:
        last = self._last.get(channel)
        if last is not None:
            gap = self._clock().timestamp() - last
            if gap < self._interval:
                await self._sleep(self._interval - gap)
        self._last[channel] = self._clock().timestamp()


def _retry_after(error: SlackApiError) -> float:
    headers = getattr(error.response, "headers", None) or {}
    for name, value in dict(headers).items():
        if str(name).lower() == "retry-after":
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError):
                break
    return DEFAULT_RETRY_AFTER


async def post(
    client: Any, pacer: Pacer, sleep: Sleep, channel: str, answer: Answer, thread_ts: str | None = None
) -> str:
    """chat.postMessage, paced, waiting out 429s; the message's ts. ChannelGone for a lost channel."""
    arguments: dict[str, Any] = {"channel": channel, **answer.message(), "unfurl_links": False}
    if thread_ts:
        arguments["thread_ts"] = thread_ts
    for _ in range(MAX_RATE_LIMITED + 1):
        await pacer.wait(channel)
        try:
            response = await client.chat_postMessage(**arguments)
        except SlackApiError as error:
            code = error_code(error)
            if getattr(error.response, "status_code", 200) == 429 or code == "ratelimited":
                await sleep(_retry_after(error))
                continue
            if code in CHANNEL_GONE:
                raise ChannelGone(code) from None
            raise
        return str(response.get("ts") or "")
    raise SlackApiError(f"still rate limited after {MAX_RATE_LIMITED} waits", {"error": "ratelimited"})


def digest_parts(digest: ChannelDigest) -> list[DigestPart]:
    return [
        (part.follow.label, part.follow.number, part.hits, part.more, part.terms) for part in digest.parts
    ]


def digest_summary(digest: ChannelDigest) -> str:
    counts = ", ".join(f"{part.follow.label} ({len(part.hits) + len(part.more)})" for part in digest.parts)
    return f"New papers: {counts}"


def digest_text(digest: ChannelDigest) -> str:
    """What `papercite digest --dry-run` prints for a channel."""
    lines = [f"channel {digest.channel}:"]
    if digest.empty:
        lines.append("  nothing new above the relevance floor; no message")
    for part in digest.parts:
        lines.append(f"  follow {part.follow.number}: {part.follow.label}")
        for place, hit in enumerate([*part.hits, *part.more], start=1):
            where = "" if place <= len(part.hits) else " (thread)"
            lines.append(f"    {place}. {hit.paper.key}  {hit.paper.short_title(70)}{where}")
    return "\n".join(lines)


@dataclass
class DigestRun:
    sent: list[str]  # channels that got a message
    quiet: list[str]  # channels with nothing new
    ended: list[str]  # channels gone, their follows ended
    failed: list[str]  # channels whose post failed; tried again next round


async def send_digests(
    library: Library,
    client: Any,
    *,
    clock: Clock = utc_now,
    sleep: Sleep = asyncio.sleep,
    every: bool = False,
    dry_run: bool = False,
    out: TextIO | None = None,
) -> DigestRun:
    """Send the digests due now (every follow's, with `every`); `dry_run` prints them instead."""
    now = clock()
    run = DigestRun([], [], [], [])
    pacer = Pacer(clock, sleep)
    for channel, channel_follows in (await due_follows(library, now, every=every)).items():
        digest = await channel_digest(library, channel, channel_follows)
        if dry_run:
            if out is not None:
                print(digest_text(digest), file=out)
            (run.quiet if digest.empty else run.sent).append(channel)
            continue
        if digest.empty:
            await record_digest(library, channel, digest.follows, [], digest.head, now)
            run.quiet.append(channel)
            continue
        message, thread = blocks.digest_messages(digest_parts(digest))
        try:
            ts = await post(client, pacer, sleep, channel, Answer(message, digest_summary(digest)))
            # The message went out: the digest counts as sent, whatever becomes of its thread.
            await record_digest(library, channel, digest.follows, digest.keys, digest.head, now)
            run.sent.append(channel)
            for reply in thread:
                await post(client, pacer, sleep, channel, Answer(reply, "More new papers"), thread_ts=ts)
        except ChannelGone as gone:
            ended = await end_channel(library, channel)
            log.info("channel %s answered %s: its %d follows end", channel, gone.error, ended)
            run.ended.append(channel)
            continue
        except SlackApiError as error:
            if channel in run.sent:
                log.warning(
                    "the thread of %s's digest is incomplete (%s)", channel, error_code(error) or error
                )
            else:
                log.warning(
                    "the digest for %s was not sent (%s); it is tried again next round",
                    channel,
                    error_code(error) or error,
                )
                run.failed.append(channel)
    return run


DIGEST_LEASE = "digest"
# Digests are looked for once a minute: a digest set for 09:00 goes out before 09:01.
DIGEST_CHECK_SECONDS = 60.0
# A round holds the lease at most this long; a process killed mid-round frees it by then.
DIGEST_ROUND_SECONDS = 600.0


async def digests_forever(
    library: Library, client: Any, *, clock: Clock = utc_now, sleep: Sleep = asyncio.sleep
) -> None:
    """Send the digests due, once a minute, one process at a time across the store, until cancelled."""
    while True:
        # First a minute's wait: a team server's node builds its search index as it starts.
        await sleep(DIGEST_CHECK_SECONDS)
        holder = uuid.uuid4().hex
        try:
            if await take_lease(library, DIGEST_LEASE, holder, clock(), DIGEST_ROUND_SECONDS):
                try:
                    await send_digests(library, client, clock=clock, sleep=sleep)
                finally:
                    await release_lease(library, DIGEST_LEASE, holder)
        except Exception:
            # A busy store or one bad round must not end the schedule for good.
            log.exception("a digest round failed")
