"""Channels following topics, and what their digests remember: the one module that reads and writes
the tables of migration 0005 (follows, arrivals, channel_papers, digest_shown, leases).

Everything goes through the store's own API (`Store.rows`, `Writer.execute`) with `?` parameters
and plain types, so it runs wherever the store does. Times come from the caller's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.library import Library
from core.records import PaperciteError
from core.schedule import DEFAULT_AT_MINUTE, as_text
from core.store import Writer

# A channel's follows: more than this is a feed, not a digest (and would not fit one message).
MAX_FOLLOWS_PER_CHANNEL = 10
MAX_QUERY_CHARS = 300
# The papers a channel shared that make its `--library` query: the latest ones say most about now.
MAX_CHANNEL_PAPERS = 200

_FOLLOW_COLUMNS = (
    "channel, number, query, by_library, at_minute, weekly, time_zone, created_by, created_at, "
    "last_digest_at, last_arrival"
)


class FollowError(PaperciteError):
    pass


@dataclass(frozen=True)
class Follow:
    channel: str
    number: int
    query: str  # the topic's words; empty for a `--library` follow
    by_library: bool
    at_minute: int = DEFAULT_AT_MINUTE
    weekly: bool = False
    time_zone: str = "UTC"
    created_by: str = ""
    created_at: str = ""
    last_digest_at: str = ""
    last_arrival: int = 0

    @property
    def label(self) -> str:
        return "papers like this channel's" if self.by_library else self.query


def _follow(row: Sequence[object]) -> Follow:
    return Follow(
        channel=str(row[0]),
        number=int(str(row[1])),
        query=str(row[2]),
        by_library=bool(row[3]),
        at_minute=int(str(row[4])),
        weekly=bool(row[5]),
        time_zone=str(row[6]),
        created_by=str(row[7]),
        created_at=str(row[8]),
        last_digest_at=str(row[9]),
        last_arrival=int(str(row[10])),
    )


def _head(writer: Writer) -> int:
    rows = writer.rows("SELECT max(seq) FROM arrivals")
    return int(rows[0][0] or 0) if rows else 0


async def arrival_head(library: Library) -> int:
    """The number of the newest paper to enter the store (0 before any)."""
    return int(await library.store.scalar("SELECT max(seq) FROM arrivals") or 0)


async def add_follow(
    library: Library,
    channel: str,
    *,
    query: str = "",
    by_library: bool = False,
    at_minute: int = DEFAULT_AT_MINUTE,
    weekly: bool = False,
    time_zone: str = "UTC",
    user: str = "",
    now: dt.datetime,
) -> Follow:
    """A new follow for `channel`, numbered after its others; papers from now on count as new."""
    query = " ".join(query.split())
    if not channel:
        raise FollowError("Follows belong to a channel; run /paper follow in one.")
    if not by_library and not query:
        raise FollowError("Follow what? Write a topic, e.g. `/paper follow speculative decoding`.")
    if len(query) > MAX_QUERY_CHARS:
        raise FollowError(f"A topic is at most {MAX_QUERY_CHARS} characters; this one has {len(query)}.")
    stamp = as_text(now)

    def work(writer: Writer) -> Follow:
        existing = writer.rows("SELECT count(*), max(number) FROM follows WHERE channel = ?", (channel,))
        count, highest = (int(existing[0][0] or 0), int(existing[0][1] or 0)) if existing else (0, 0)
        if count >= MAX_FOLLOWS_PER_CHANNEL:
            raise FollowError(
                f"This channel already follows {count} topics, the most it can; `/paper unfollow N` ends one."
            )
        follow = Follow(
            channel=channel,
            number=highest + 1,
            query=query,
            by_library=by_library,
            at_minute=at_minute,
            weekly=weekly,
            time_zone=time_zone,
            created_by=user,
            created_at=stamp,
            last_digest_at=stamp,
            last_arrival=_head(writer),
        )
        writer.execute(
            f"INSERT INTO follows ({_FOLLOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                follow.channel,
                follow.number,
                follow.query,
                int(follow.by_library),
                follow.at_minute,
                int(follow.weekly),
                follow.time_zone,
                follow.created_by,
                follow.created_at,
                follow.last_digest_at,
                follow.last_arrival,
            ),
        )
        return follow

    return await library.store.write(work)


async def follows(library: Library, channel: str | None = None) -> list[Follow]:
    """A channel's follows (every channel's when None), by channel and number."""
    if channel is None:
        rows = await library.store.rows(f"SELECT {_FOLLOW_COLUMNS} FROM follows ORDER BY channel, number")
    else:
        rows = await library.store.rows(
            f"SELECT {_FOLLOW_COLUMNS} FROM follows WHERE channel = ? ORDER BY number", (channel,)
        )
    return [_follow(row) for row in rows]


async def remove_follow(library: Library, channel: str, number: int) -> Follow:
    """End follow `number` of `channel`; FollowError if it has none by that number."""
    for follow in await follows(library, channel):
        if follow.number == number:
            await library.store.write(
                lambda writer: writer.execute(
                    "DELETE FROM follows WHERE channel = ? AND number = ?", (channel, number)
                )
            )
            return follow
    raise FollowError(f"This channel has no follow number {number}; `/paper following` lists them.")


async def end_channel(library: Library, channel: str) -> int:
    """End every follow of a channel the bot can no longer post to; how many there were."""

    def work(writer: Writer) -> int:
        writer.execute("DELETE FROM digest_shown WHERE channel = ?", (channel,))
        return writer.execute("DELETE FROM follows WHERE channel = ?", (channel,))

    return await library.store.write(work)


async def new_keys(library: Library, follow: Follow, head: int) -> list[str]:
    """Papers that entered the store after the follow's last digest and up to `head`, that its
    channel has not been shown, oldest first (each once, and only those still in the store)."""
    rows = await library.store.rows(
        "SELECT arrivals.key, max(arrivals.seq) FROM arrivals "
        "JOIN papers ON papers.key = arrivals.key "
        "WHERE arrivals.seq > ? AND arrivals.seq <= ? AND NOT EXISTS "
        "(SELECT 1 FROM digest_shown WHERE digest_shown.channel = ? AND digest_shown.key = arrivals.key) "
        "GROUP BY arrivals.key ORDER BY max(arrivals.seq)",
        (follow.last_arrival, head, follow.channel),
    )
    return [str(row[0]) for row in rows]


async def record_digest(
    library: Library,
    channel: str,
    follows_sent: Iterable[Follow],
    shown: Iterable[str],
    head: int,
    now: dt.datetime,
) -> None:
    """After a channel's digest went out (or had nothing to say): its papers are not shown there
    again, and its follows count papers as new from `head` on. One transaction: a digest is
    remembered whole or not at all."""
    stamp = as_text(now)
    numbers = [follow.number for follow in follows_sent if follow.channel == channel]
    keys = sorted(set(shown))

    def work(writer: Writer) -> None:
        for number in numbers:
            writer.execute(
                "UPDATE follows SET last_digest_at = ?, last_arrival = ? WHERE channel = ? AND number = ?",
                (stamp, head, channel, number),
            )
        for key in keys:
            writer.execute(
                "INSERT INTO digest_shown (channel, key, shown_at) VALUES (?, ?, ?) "
                "ON CONFLICT (channel, key) DO NOTHING",
                (channel, key, stamp),
            )

    await library.store.write(work)


async def remember_channel_papers(library: Library, channel: str, keys: Iterable[str], how: str) -> None:
    """Papers a channel shared, added or posted links to: what `/paper follow --library` ranks by."""
    rows = [(channel, key, how) for key in dict.fromkeys(keys) if key]
    if not channel or not rows:
        return

    def work(writer: Writer) -> None:
        for row in rows:
            writer.execute(
                "INSERT INTO channel_papers (channel, key, how) VALUES (?, ?, ?) "
                "ON CONFLICT (channel, key) DO NOTHING",
                row,
            )

    await library.store.write(work)


async def channel_papers(library: Library, channel: str) -> list[str]:
    rows = await library.store.rows(
        "SELECT channel_papers.key FROM channel_papers JOIN papers ON papers.key = channel_papers.key "
        "WHERE channel = ? ORDER BY channel_papers.key LIMIT ?",
        (channel, MAX_CHANNEL_PAPERS),
    )
    return [str(row[0]) for row in rows]


# --- leases: one harvest (or digest round) at a time across processes and nodes ------------------


async def take_lease(library: Library, name: str, holder: str, now: dt.datetime, seconds: float) -> bool:
    """Hold `name` until now + seconds if nobody else holds it (or their hold ran out)."""
    stamp, until = as_text(now), as_text(now + dt.timedelta(seconds=seconds))

    def work(writer: Writer) -> bool:
        rows = writer.rows("SELECT holder, until FROM leases WHERE name = ?", (name,))
        if rows and rows[0][0] != holder and str(rows[0][1]) > stamp:
            return False
        writer.execute(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until",
            (name, holder, until),
        )
        return True

    return await library.store.write(work)


async def release_lease(library: Library, name: str, holder: str) -> None:
    await library.store.write(
        lambda writer: writer.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
    )
