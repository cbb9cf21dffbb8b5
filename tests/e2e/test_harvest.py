"""Harvests against local fakes of arXiv's OAI-PMH and OpenAlex: killed with SIGKILL at any point
and run again, nothing is lost or stored twice; a second run takes only what is new."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.fakes.sources import (
    FakeSources,
    Malformed,
    OaiRecord,
    Status,
    serving_harvests,
    synthetic_oai_records,
    synthetic_openalex_works,
)

SEEDS = 179


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSources]:
    yield from serving_harvests(monkeypatch)


def papers(home: Path) -> int:
    return int(json.loads(run_cli(home, "stats", "--json").stdout)["papers"])


def harvest(home: Path, *args: str) -> dict[str, object]:
    result = run_cli(home, "harvest", *args, "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def start_harvest(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PAPERCITE_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", "harvest", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(process: subprocess.Popen[str], fake: FakeSources, requests: int) -> None:
    deadline = time.monotonic() + 120
    while len(fake.served("oai")) < requests:
        assert process.poll() is None, f"the harvest ended before it could be killed: {process.communicate()}"
        assert time.monotonic() < deadline, "the harvest made no progress"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_a_harvest_killed_twice_resumes_with_exact_counts(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(3000, per_day=400)
    fake.oai_page_size = 100
    assert papers(home) == SEEDS  # the home exists before the first kill
    stored = [SEEDS]
    for requests in (6, 17):
        kill_after(start_harvest(home, "arxiv", "--set", "cs"), fake, requests)
        count = papers(home)
        # Whole pages only: a page and its resumption token are one transaction.
        assert (count - SEEDS) % 100 == 0 and count >= stored[-1]
        stored.append(count)
    assert stored[-1] > SEEDS, "the kills came before any page was stored"
    before = len(fake.served("oai"))
    report = harvest(home, "arxiv", "--set", "cs")
    # It went on from the token stored with the last page, not from the start.
    assert report["resumed"] is True and "resumptionToken" in fake.served("oai")[before].query
    assert report["added"] == 3000 - (stored[-1] - SEEDS) and report["updated"] == 0
    assert report["complete"] is True
    assert papers(home) == SEEDS + 3000
    hits = json.loads(
        run_cli(home, "search", "--json", "-k", "3", "synthetic experiment 2999 resumable harvesting").stdout
    )
    assert hits[0]["title"] == "Robust study number 2999 of harvesting"


def test_a_second_run_asks_only_for_what_changed_since(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(250, per_day=100)  # 2024-01-01 … 2024-01-03
    first = harvest(home, "arxiv", "--set", "cs")
    assert (first["added"], first["complete"]) == (250, True)
    fake.oai.append(
        OaiRecord("2401.99999", "2024-01-09", "cs", "A Paper Announced Later", "New words arrive.",
                  [("Late", "Lou")], "cs.CL", "2024-01-09")
    )  # fmt: skip
    second = harvest(home, "arxiv", "--set", "cs")
    assert fake.served("oai")[-1].query["from"] == "2024-01-03"
    assert second["since"] == "2024-01-03"
    # The last day of the first run is read again (from is inclusive) and changes nothing.
    assert (second["added"], second["unchanged"]) == (1, 50)
    assert papers(home) == SEEDS + 251


def test_busy_answers_and_expired_tokens_lose_nothing(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(600, per_day=600)
    fake.oai_page_size = 100
    fake.fail_next("oai", Status(200), Status(503, retry_after="1"))  # an empty answer, then a 503
    kill_after(start_harvest(home, "arxiv", "--set", "cs"), fake, 4)
    fake.expire_tokens()
    report = harvest(home, "arxiv", "--set", "cs")
    assert report["complete"] is True
    assert papers(home) == SEEDS + 600
    assert any(r.query.get("metadataPrefix") == "arXiv" for r in fake.served("oai")[4:])  # started over


def test_a_category_keeps_cross_listed_papers_only(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(300)
    report = harvest(home, "arxiv", "--set", "cs", "--category", "cs.CL")
    assert (report["records"], report["skipped"], report["added"]) == (100, 200, 100)


def test_an_empty_harvest_says_so(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(10)
    report = harvest(home, "arxiv", "--set", "math")
    assert (report["records"], report["complete"]) == (0, True)


def test_openalex_cursor_paging_resumes_and_skips_works_without_abstract(
    fake: FakeSources, home: Path
) -> None:
    fake.openalex = synthetic_openalex_works(250)
    with_abstract = sum(1 for w in fake.openalex.values() if w["abstract_inverted_index"])
    first = harvest(home, "openalex", "--filter", "publication_year:2023", "--max", "120")
    assert first["records"] + first["skipped"] == 120 and first["complete"] is False
    second = harvest(home, "openalex", "--filter", "publication_year:2023")
    assert second["resumed"] is True and second["complete"] is True
    assert first["added"] + second["added"] == with_abstract
    assert papers(home) == SEEDS + with_abstract
    cursors = [r.query["cursor"] for r in fake.served("openalex")]
    assert cursors[0] == "*" and cursors.count("*") == 1
    assert all(r.query["per_page"] in ("100", "20") for r in fake.served("openalex"))


def test_a_bad_openalex_filter_is_reported_with_the_reason(fake: FakeSources, home: Path) -> None:
    result = run_cli(home, "harvest", "openalex", "--filter", "author_name:x")
    assert result.returncode == 1
    assert "OpenAlex answered 400" in result.stderr and "author_name is not a valid field" in result.stderr


def test_ctrl_c_keeps_the_pages_stored_and_says_so(fake: FakeSources, home: Path) -> None:
    fake.oai = synthetic_oai_records(2000, per_day=400)
    fake.oai_page_size = 100
    assert papers(home) == SEEDS
    process = start_harvest(home, "arxiv", "--set", "cs")
    deadline = time.monotonic() + 120
    while len(fake.served("oai")) < 6:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted; the pages stored so far are kept: run it again to go on" in err
    kept = papers(home) - SEEDS
    assert kept % 100 == 0 and kept > 0
    assert harvest(home, "arxiv", "--set", "cs")["added"] == 2000 - kept


def test_an_openalex_page_with_odd_ids_and_results_is_harvested_without_a_crash(
    fake: FakeSources, home: Path
) -> None:
    works = list(synthetic_openalex_works(4).values())
    works[0]["id"], works[1]["id"] = None, 5
    page = {"meta": {"count": "many", "next_cursor": None}, "results": [*works, "not a work", None, 7]}
    fake.fail_next("openalex", Malformed(json.dumps(page)))
    report = harvest(home, "openalex", "--filter", "publication_year:2023")
    with_abstract = sum(1 for w in works if w["abstract_inverted_index"])
    assert (report["records"], report["skipped"], report["complete"]) == (
        with_abstract,
        7 - with_abstract,
        True,
    )
    assert papers(home) == SEEDS + with_abstract
