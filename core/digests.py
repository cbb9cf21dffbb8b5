"""What a channel's digest holds: for each follow, the best papers new since its last digest.

A follow's query is its topic's words, or for `--library` the papers the channel shared, added or
posted links to, as one weighted query (each paper's words counted once, so the words many of them
share weigh most). The new papers are ranked by the library's own search (whatever it fuses), and a
paper is kept only if it scores at least a share (`floor_for`) of the best score
any paper in the library reaches for that query: a floor relative to the query, since BM25 scores of
a two-word topic and of a two-hundred-word library query are on different scales.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.follows import Follow, arrival_head, channel_papers, follows, new_keys
from core.library import Library
from core.query import text_terms, weighted_terms
from core.records import Paper
from core.schedule import from_text, last_slot
from core.search import Hit

# Papers per follow in the digest message; the next ones above the floor go into its thread.
PER_FOLLOW = 5
MORE_PER_FOLLOW = 10
# A new paper is shown if it scores at least a share of the best score in the whole library for the
# follow's query. Measured on ACM-CR (benchmarks/digest_floor.py: a team's held-out cited paper among
# 200 arrivals; docs/benchmarks.md). A short topic (an author keyword, 1–3 words): 0.5 keeps recall@5
# at 0.427 (0.460 with no floor) while the other arrivals shown drop from 4.40 to 3.06 of 5, and a
# paper that mentions one word of a two-word topic in passing stays out. A longer topic (a title) is
# rarely matched whole: 0.5 would keep 0.167 of 0.622, 0.2 keeps 0.583 (others 4.38 → 3.61). A
# `--library` query has hundreds of terms: 0.4 keeps 0.776 of 0.792 (0.708 at 0.5; others 4.21 → 3.75).
SHORT_TOPIC_FLOOR = 0.5
LONG_TOPIC_FLOOR = 0.2
LIBRARY_FLOOR = 0.4
SHORT_TOPIC_TERMS = 3


def floor_for(by_library: bool, terms: Mapping[str, float]) -> float:
    if by_library:
        return LIBRARY_FLOOR
    return SHORT_TOPIC_FLOOR if len(terms) <= SHORT_TOPIC_TERMS else LONG_TOPIC_FLOOR


@dataclass(frozen=True)
class FollowDigest:
    follow: Follow
    terms: dict[str, float]
    hits: list[Hit]  # best first, at most PER_FOLLOW
    more: list[Hit] = field(default_factory=list)  # the next ones above the floor


@dataclass(frozen=True)
class ChannelDigest:
    channel: str
    follows: list[Follow]  # every follow digested now, including those with nothing new
    parts: list[FollowDigest]  # those with something to show, in follow order
    head: int  # the newest arrival this digest looked at

    @property
    def empty(self) -> bool:
        return not self.parts

    @property
    def keys(self) -> list[str]:
        return [hit.paper.key for part in self.parts for hit in (*part.hits, *part.more)]


def is_due(follow: Follow, now: dt.datetime) -> bool:
    """Whether a digest time of the follow has passed since its last digest."""
    slot = last_slot(now, follow.at_minute, weekly=follow.weekly, zone=follow.time_zone)
    return slot > from_text(follow.last_digest_at)


async def due_follows(library: Library, now: dt.datetime, *, every: bool = False) -> dict[str, list[Follow]]:
    """The follows whose digest is due (every follow, with `every`), by channel."""
    due: dict[str, list[Follow]] = {}
    for follow in await follows(library):
        if every or is_due(follow, now):
            due.setdefault(follow.channel, []).append(follow)
    return due


def library_terms(papers: Iterable[Paper]) -> dict[str, float]:
    """One weighted query from many papers: each paper's words once, summed over the papers."""
    texts = [(paper.search_text(), 1.0) for paper in papers]
    return weighted_terms(texts, once=frozenset(range(len(texts))))


async def follow_terms(library: Library, follow: Follow) -> tuple[dict[str, float], list[str]]:
    """The follow's query, and the papers it must not bring back (the channel's own)."""
    if not follow.by_library:
        return text_terms(follow.query), []
    own = await channel_papers(library, follow.channel)
    papers = await library.get_many(own)
    return library_terms(papers[key] for key in own if key in papers), own


async def rank_new(
    library: Library,
    terms: dict[str, float],
    candidates: Sequence[str],
    *,
    exclude: Sequence[str] = (),
    floor: float = SHORT_TOPIC_FLOOR,
    limit: int = PER_FOLLOW + MORE_PER_FOLLOW,
) -> list[Hit]:
    """The candidates above the floor, best first (at most `limit`)."""
    if not terms or not candidates:
        return []
    best = await library.search(terms, 1, exclude=exclude)
    if not best or best[0].score <= 0:
        return []
    hits = await library.search(terms, limit, exclude=exclude, only=candidates)
    return [hit for hit in hits if hit.score >= floor * best[0].score]


async def channel_digest(library: Library, channel: str, channel_follows: Sequence[Follow]) -> ChannelDigest:
    """A channel's digest now: a paper appears once, under the first follow that ranks it."""
    head = await arrival_head(library)
    taken: set[str] = set()
    parts: list[FollowDigest] = []
    for follow in channel_follows:
        terms, own = await follow_terms(library, follow)
        candidates = [key for key in await new_keys(library, follow, head) if key not in taken]
        ranked = await rank_new(
            library, terms, candidates, exclude=own, floor=floor_for(follow.by_library, terms)
        )
        if ranked:
            taken.update(hit.paper.key for hit in ranked)
            parts.append(FollowDigest(follow, terms, ranked[:PER_FOLLOW], ranked[PER_FOLLOW:]))
    return ChannelDigest(channel, list(channel_follows), parts, head)
