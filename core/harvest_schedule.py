"""Harvests on a schedule (`--harvest arxiv:cs.CL --harvest-every 6h`): one at a time across every
process on the store, so follows see yesterday's papers without a cron job.

The schedule is a lease in the store: a round takes `harvest` until now + the interval under a name
of its own, so whichever process comes first harvests and the others find it held until the next
round is due (they look again every minute). Each harvest is the incremental one `papercite
harvest` runs, with its pacing and resume marks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from core.follows import take_lease
from core.library import Library
from core.records import PaperciteError
from core.schedule import BadSchedule
from core.sources.harvest import HarvestReport, harvest_arxiv, harvest_openalex

log = logging.getLogger("papercite.harvest")

LEASE = "harvest"
# How often a process looks whether a round is due (and whether another process took it).
CHECK_SECONDS = 60.0

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class HarvestSpec:
    source: str  # arxiv or openalex
    set_spec: str = ""
    category: str = ""
    filter_text: str = ""

    def __str__(self) -> str:
        if self.source == "openalex":
            return f"openalex:{self.filter_text}"
        return f"arxiv:{self.category or self.set_spec}"


@dataclass(frozen=True)
class Background:
    """What a serving process runs beside its requests: scheduled harvests (and, with Slack set
    up, the digests)."""

    harvests: tuple[HarvestSpec, ...] = ()
    harvest_every: float = 6 * 3600.0


def parse_harvest_spec(text: str) -> HarvestSpec:
    """`arxiv:cs.CL` (the set `cs`, papers listed in cs.CL), `arxiv:cs` (a whole set),
    `arxiv:physics:hep-th`, or `openalex:FILTER`."""
    source, _, rest = text.strip().partition(":")
    rest = rest.strip()
    if source == "arxiv" and rest and " " not in rest:
        head, dot, _ = rest.partition(".")
        return (
            HarvestSpec("arxiv", set_spec=head, category=rest) if dot else HarvestSpec("arxiv", set_spec=rest)
        )
    if source == "openalex" and rest:
        return HarvestSpec("openalex", filter_text=rest)
    raise BadSchedule(
        f"{text!r} is not a harvest; write arxiv:SET or arxiv:CATEGORY (arxiv:cs.CL) or openalex:FILTER"
    )


async def harvest_once(library: Library, spec: HarvestSpec) -> HarvestReport:
    if spec.source == "openalex":
        return await harvest_openalex(library, filter_text=spec.filter_text)
    return await harvest_arxiv(library, set_spec=spec.set_spec, category=spec.category)


async def harvest_round(
    library: Library, specs: Sequence[HarvestSpec], every: float, now: dt.datetime
) -> dict[str, HarvestReport | str] | None:
    """Run every harvest if this round is ours (None if another process has it): a report per
    harvest, or the one line saying why it failed (the others still run)."""
    if not await take_lease(library, LEASE, uuid.uuid4().hex, now, every):
        return None
    outcome: dict[str, HarvestReport | str] = {}
    for spec in specs:
        try:
            report = await harvest_once(library, spec)
        except PaperciteError as error:
            log.warning("harvest %s failed: %s; it is tried again next round", spec, error)
            outcome[str(spec)] = str(error)
            continue
        log.info("harvest %s: %s", spec, report.summary())
        outcome[str(spec)] = report
    return outcome


async def harvest_forever(
    library: Library,
    specs: Sequence[HarvestSpec],
    every: float,
    *,
    clock: Clock,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Rounds of harvests `every` seconds apart across all processes, until cancelled."""
    while True:
        try:
            await harvest_round(library, specs, every, clock())
        except Exception:
            # A store that is busy or a bug in one round must not end the schedule for good.
            log.exception("a harvest round failed")
        await sleep(min(every, CHECK_SECONDS))
