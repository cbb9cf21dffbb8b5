"""Scheduled harvests against the local fake of arXiv's OAI-PMH: specs, one round at a time across
two processes' libraries on one store, and the loop driven by a clock the test moves."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.harvest_schedule import HarvestSpec, harvest_forever, harvest_round, parse_harvest_spec
from core.library import Library
from core.schedule import BadSchedule
from core.sources.harvest import HarvestReport
from tests.fakes.sources import FakeSources, Malformed, serving_harvests, synthetic_oai_records

NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.timezone.utc)
SEEDS = 179


# Scheduled harvests run over the home's SQLite file and over a PostgreSQL database.
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSources]:
    yield from serving_harvests(monkeypatch)


def test_harvest_specs() -> None:
    assert parse_harvest_spec("arxiv:cs.CL") == HarvestSpec("arxiv", set_spec="cs", category="cs.CL")
    assert parse_harvest_spec("arxiv:cs") == HarvestSpec("arxiv", set_spec="cs")
    assert parse_harvest_spec("arxiv:physics:hep-th") == HarvestSpec("arxiv", set_spec="physics:hep-th")
    assert parse_harvest_spec("openalex:concepts.id:C41008148") == HarvestSpec(
        "openalex", filter_text="concepts.id:C41008148"
    )
    assert str(parse_harvest_spec("arxiv:cs.IR")) == "arxiv:cs.IR"
    for bad in ("arxiv:", "cs.CL", "crossref:x", "arxiv:cs CL", ""):
        with pytest.raises(BadSchedule, match="is not a harvest"):
            parse_harvest_spec(bad)


async def test_one_round_at_a_time_across_processes(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(300)
    first, second = await Library.open(home), await Library.open(home)
    try:
        spec = [parse_harvest_spec("arxiv:cs")]
        rounds = await asyncio.gather(
            harvest_round(first, spec, 3600, NOW), harvest_round(second, spec, 3600, NOW)
        )
        (ran,) = [outcome for outcome in rounds if outcome is not None]
        report = ran["arxiv:cs"]
        assert isinstance(report, HarvestReport) and report.added == 300
        assert len(fake.served("oai")) == 3  # one harvest's pages, not two
        assert await first.count() == SEEDS + 300
        # Before the interval is over nobody harvests; after it, whoever comes first does.
        assert await harvest_round(second, spec, 3600, NOW + dt.timedelta(minutes=59)) is None
        fake.oai += synthetic_oai_records(320)[300:]
        later = await harvest_round(second, spec, 3600, NOW + dt.timedelta(minutes=61))
        assert later is not None
        assert isinstance(later["arxiv:cs"], HarvestReport) and later["arxiv:cs"].added == 20
    finally:
        await first.close()
        await second.close()


async def test_a_failing_harvest_is_one_line_and_the_others_still_run(
    fake: FakeSources, library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    fake.oai = synthetic_oai_records(10)
    fake.fail_next("openalex", *[Malformed()] * 5)
    specs = [parse_harvest_spec("openalex:publication_year:2024"), parse_harvest_spec("arxiv:cs")]
    outcome = await harvest_round(library, specs, 3600, NOW)
    assert outcome is not None
    assert isinstance(outcome["openalex:publication_year:2024"], str)
    assert isinstance(outcome["arxiv:cs"], HarvestReport) and outcome["arxiv:cs"].added == 10
    (line,) = [r for r in caplog.records if "harvest openalex" in r.getMessage()]
    assert line.getMessage().startswith("harvest openalex:publication_year:2024 failed: ")
    assert line.exc_info is None


async def test_the_loop_harvests_every_interval(fake: FakeSources, library: Library) -> None:
    fake.oai = synthetic_oai_records(50)
    now = [NOW]
    naps: list[float] = []

    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += dt.timedelta(seconds=seconds)
        if len(naps) == 3:
            fake.oai += synthetic_oai_records(60)[50:]
        if len(naps) == 130:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await harvest_forever(
            library, [parse_harvest_spec("arxiv:cs")], 7200, clock=lambda: now[0], sleep=sleep
        )
    assert set(naps) == {60.0}
    # Rounds at 0 and 2 h (the 7200 s lease), 130 minutes in all: two harvests.
    assert await library.count() == SEEDS + 60
    assert len(fake.served("oai")) == 2
