"""Follows and digests over a real store and index: numbering, what counts as new, no repeats,
the relevance floor, `--library` queries, leases."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from core import follows
from core.digests import (
    LIBRARY_FLOOR,
    LONG_TOPIC_FLOOR,
    SHORT_TOPIC_FLOOR,
    ChannelDigest,
    channel_digest,
    due_follows,
    floor_for,
    is_due,
)
from core.library import Library
from core.records import Paper

MONDAY_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)


# Follows, digests and leases run over the home's SQLite file and over a PostgreSQL database.
pytestmark = pytest.mark.usefixtures("backend")


def paper(title: str, abstract: str, origin: str) -> Paper:
    return Paper(
        key="",
        title=title,
        abstract=abstract,
        authors=("Doe, Jane",),
        year=2026,
        origin=origin,
        format="test",
    )


def noise(count: int, start: int = 0) -> list[Paper]:
    return [
        paper(
            f"Harvested study {i}",
            f"We study resumable harvesting of metadata, batch {i}."
            + (" Decoding of neural signals is a side note." if i % 4 == 0 else ""),
            f"noise:{i}",
        )
        for i in range(start, start + count)
    ]


SPECULATIVE = [
    paper(
        f"Draft trees for speculative decoding {name}",
        f"Speculative decoding accelerates LLM inference: a small draft model proposes tokens that the "
        f"target model verifies in parallel. {name} grows the draft tree adaptively.",
        f"spec:{name}",
    )
    for name in ("Alpha", "Beta", "Gamma")
]
RETRIEVAL = [
    paper(
        f"Dense passage retrieval with hard negatives {name}",
        f"Dense retrieval encodes queries and passages for open-domain question answering; {name} "
        "mines hard negatives to train the retriever and re-ranks passages with BM25 fusion.",
        f"ret:{name}",
    )
    for name in ("One", "Two", "Three")
]


async def test_follows_are_numbered_per_channel_listed_and_ended(library: Library) -> None:
    first = await follows.add_follow(library, "C1", query="  speculative   decoding ", now=MONDAY_10)
    second = await follows.add_follow(library, "C1", by_library=True, now=MONDAY_10)
    other = await follows.add_follow(library, "C2", query="retrieval", now=MONDAY_10)
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.query == "speculative decoding"
    assert [f.label for f in await follows.follows(library, "C1")] == [
        "speculative decoding",
        "papers like this channel's",
    ]
    await follows.remove_follow(library, "C1", 1)
    assert [f.number for f in await follows.follows(library, "C1")] == [2]
    with pytest.raises(follows.FollowError, match="no follow number 1"):
        await follows.remove_follow(library, "C1", 1)
    # A new follow never takes a number still shown in the channel's history.
    assert (await follows.add_follow(library, "C1", query="x y", now=MONDAY_10)).number == 3


async def test_bad_follows_are_refused_with_their_reason(library: Library) -> None:
    with pytest.raises(follows.FollowError, match="Follow what"):
        await follows.add_follow(library, "C1", query="   ", now=MONDAY_10)
    with pytest.raises(follows.FollowError, match="at most 300"):
        await follows.add_follow(library, "C1", query="word " * 100, now=MONDAY_10)
    for number in range(follows.MAX_FOLLOWS_PER_CHANNEL):
        await follows.add_follow(library, "C1", query=f"topic {number}", now=MONDAY_10)
    with pytest.raises(follows.FollowError, match="already follows 10"):
        await follows.add_follow(library, "C1", query="one more", now=MONDAY_10)
    assert len(await follows.follows(library, "C1")) == follows.MAX_FOLLOWS_PER_CHANNEL


async def test_a_digest_brings_new_papers_on_the_topic_first_and_never_again(library: Library) -> None:
    follow = await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(noise(100) + SPECULATIVE + noise(97, start=100))
    digest = await channel_digest(library, "C1", [follow])
    keys = [hit.paper.key for part in digest.parts for hit in part.hits]
    titles = [hit.paper.title for part in digest.parts for hit in part.hits]
    # The three new papers on the topic, and no noise: a side mention of "decoding" is under the floor.
    assert sorted(titles) == sorted(p.title for p in SPECULATIVE)
    assert digest.parts[0].more == []
    # The seed corpus's own speculative-decoding papers (TriForce…) are old: not in the digest.
    assert not any(key == "triforce" for key in keys)
    await follows.record_digest(library, "C1", [follow], digest.keys, digest.head, MONDAY_10)
    (again,) = await follows.follows(library, "C1")
    assert again.last_arrival == digest.head > follow.last_arrival
    assert await channel_digest(library, "C1", [again]) == ChannelDigest("C1", [again], [], digest.head)


async def test_a_paper_shown_in_a_channel_is_not_shown_there_again(library: Library) -> None:
    first = await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    await library.add_papers(SPECULATIVE[:1])
    digest = await channel_digest(library, "C1", [first])
    assert len(digest.keys) == 1
    await follows.record_digest(library, "C1", [first], digest.keys, digest.head, MONDAY_10)
    # A second follow on a close topic starts later, but the paper comes back (removed and added
    # again, say): the channel has seen it.
    second = await follows.add_follow(library, "C1", query="draft model decoding", now=MONDAY_10)
    await library.remove(digest.keys)
    await library.add_papers(SPECULATIVE[:2])
    later = await channel_digest(library, "C1", [second])
    assert [hit.paper.title for part in later.parts for hit in part.hits] == [SPECULATIVE[1].title]
    # Another channel has not seen it.
    elsewhere = await follows.add_follow(library, "C2", query="speculative decoding", now=MONDAY_10)
    elsewhere = dataclasses.replace(elsewhere, last_arrival=first.last_arrival)
    assert len((await channel_digest(library, "C2", [elsewhere])).keys) == 2


async def test_library_follow_ranks_by_what_the_channel_shared(library: Library) -> None:
    await library.add_papers(RETRIEVAL[:2])
    shared = await library.search("dense passage retrieval hard negatives", 2)
    assert {hit.paper.title for hit in shared} == {p.title for p in RETRIEVAL[:2]}
    await follows.remember_channel_papers(library, "C9", [hit.paper.key for hit in shared], "shared")
    follow = await follows.add_follow(library, "C9", by_library=True, now=MONDAY_10)
    await library.add_papers(noise(50) + SPECULATIVE + RETRIEVAL[2:])
    digest = await channel_digest(library, "C9", [follow])
    titles = [hit.paper.title for part in digest.parts for hit in part.hits]
    assert titles == [RETRIEVAL[2].title]  # not the decoding papers, not the channel's own


async def test_due_follows_follow_their_schedule(library: Library) -> None:
    follow = await follows.add_follow(library, "C1", query="speculative decoding", now=MONDAY_10)
    assert not is_due(follow, MONDAY_10 + dt.timedelta(hours=22))  # Tuesday 08:00
    assert is_due(follow, MONDAY_10 + dt.timedelta(hours=23))  # Tuesday 09:00
    weekly = await follows.add_follow(
        library, "C2", query="x y", weekly=True, at_minute=14 * 60, now=MONDAY_10
    )
    assert not is_due(weekly, MONDAY_10 + dt.timedelta(hours=3, minutes=59))
    assert is_due(weekly, MONDAY_10 + dt.timedelta(hours=4))  # Monday 14:00
    await follows.record_digest(library, "C2", [weekly], [], 0, MONDAY_10 + dt.timedelta(hours=4))
    (weekly,) = await follows.follows(library, "C2")
    assert not is_due(weekly, MONDAY_10 + dt.timedelta(days=6, hours=12))  # Sunday night
    assert is_due(weekly, MONDAY_10 + dt.timedelta(days=7, hours=4))  # next Monday 14:00
    assert list(await due_follows(library, MONDAY_10 + dt.timedelta(hours=1))) == []
    assert list(await due_follows(library, MONDAY_10, every=True)) == ["C1", "C2"]


async def test_a_channel_gone_ends_its_follows(library: Library) -> None:
    await follows.add_follow(library, "C1", query="a b", now=MONDAY_10)
    await follows.add_follow(library, "C1", query="c d", now=MONDAY_10)
    await follows.add_follow(library, "C2", query="e f", now=MONDAY_10)
    assert await follows.end_channel(library, "C1") == 2
    assert [f.channel for f in await follows.follows(library)] == ["C2"]


async def test_one_lease_holder_at_a_time_until_it_runs_out(library: Library) -> None:
    assert await follows.take_lease(library, "harvest", "node-a", MONDAY_10, 60)
    assert not await follows.take_lease(
        library, "harvest", "node-b", MONDAY_10 + dt.timedelta(seconds=59), 60
    )
    assert await follows.take_lease(library, "harvest", "node-b", MONDAY_10 + dt.timedelta(seconds=61), 60)
    await follows.release_lease(library, "harvest", "node-a")  # not a's any more: b keeps it
    assert not await follows.take_lease(
        library, "harvest", "node-c", MONDAY_10 + dt.timedelta(seconds=62), 60
    )
    await follows.release_lease(library, "harvest", "node-b")
    assert await follows.take_lease(library, "harvest", "node-c", MONDAY_10 + dt.timedelta(seconds=62), 60)


async def test_a_long_topic_has_a_lower_floor_than_a_short_one(library: Library) -> None:
    assert floor_for(True, {"a": 1.0}) == LIBRARY_FLOOR
    assert floor_for(False, {"specul": 1.0, "decod": 1.0}) == SHORT_TOPIC_FLOOR
    assert floor_for(False, dict.fromkeys("abcd", 1.0)) == LONG_TOPIC_FLOOR < SHORT_TOPIC_FLOOR
    long_topic = "adaptive draft trees verified in parallel for faster language model serving"
    follow = await follows.add_follow(library, "C1", query=long_topic, now=MONDAY_10)
    await library.add_papers(SPECULATIVE[:1] + noise(20))
    digest = await channel_digest(library, "C1", [follow])
    # It shares only some of the topic's words, as papers on a long topic do, and still comes.
    assert [hit.paper.title for part in digest.parts for hit in part.hits] == [SPECULATIVE[0].title]
