"""`papercite add` and the library's add_identifiers against local fakes of Crossref, arXiv and
OpenAlex answering in their real formats, unhappy paths included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from core.sources import add_identifiers
from core.sources.http import CACHE_FILE, SourcesConfig
from tests.conftest import run_cli
from tests.fakes.sources import Delay, FakeSources, Huge, Malformed, Status, Truncated


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSources]:
    with FakeSources.with_samples() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        # Quick but real pacing and backoff; the three-second arXiv rule has its own test.
        monkeypatch.setenv("PAPERCITE_ARXIV_INTERVAL", "0.05")
        monkeypatch.setenv("PAPERCITE_HTTP_BACKOFF", "0.05")
        monkeypatch.setenv("PAPERCITE_HTTP_TIMEOUT", "5")
        monkeypatch.delenv("PAPERCITE_MAILTO", raising=False)
        yield server


def add(home: Path, *ids: str) -> tuple[int, dict[str, list[dict[str, str]]], str]:
    result = run_cli(home, "add", "--json", *ids)
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_doi_and_an_arxiv_id_are_added_with_their_abstracts(fake: FakeSources, home: Path) -> None:
    code, out, err = add(home, "10.1145/3404835.3463238", "arXiv:2404.11912")
    assert code == 0, err
    assert out["errors"] == []
    by_asked = {p["asked"]: p for p in out["papers"]}
    pyserini = by_asked["10.1145/3404835.3463238"]
    assert pyserini["title"].startswith("Pyserini: A Python Toolkit")
    # JATS became text: no markup, the "Abstract" heading dropped, entities decoded.
    assert pyserini["abstract"].startswith("A toolkit for reproducible retrieval research")
    assert "&" in pyserini["abstract"] and "<" not in pyserini["abstract"]
    assert pyserini["doi"] == "10.1145/3404835.3463238" and pyserini["year"] == 2021
    assert pyserini["authors"][0] == "Lin, Jimmy" and pyserini["status"] == "added"
    triforce = by_asked["arXiv:2404.11912"]
    # The seed corpus already held TriForce (no authors): the one record gains them.
    assert triforce["status"] == "updated" and triforce["key"] == "triforce"
    assert "speculative decoding" in triforce["abstract"] and triforce["authors"][0] == "Hanshi Sun"
    shown = run_cli(home, "show", pyserini["key"], "--bibtex")
    assert "@inproceedings{" in shown.stdout and "pages = {2356-2362}" in shown.stdout
    found = run_cli(home, "search", "--json", "reproducible retrieval toolkit with dense representations")
    assert json.loads(found.stdout)[0]["key"] == pyserini["key"]


def test_an_arxiv_doi_and_its_arxiv_link_are_one_paper(fake: FakeSources, home: Path) -> None:
    code, out, _ = add(
        home, "https://doi.org/10.48550/arXiv.2404.11912", "https://arxiv.org/pdf/2404.11912v3", "2404.11912"
    )
    assert code == 0 and len(out["papers"]) == 1
    assert len(fake.served("arxiv")) == 1  # asked once, and nothing of Crossref
    assert fake.served("crossref") == []


def test_each_failing_identifier_is_named_and_the_others_still_go_in(fake: FakeSources, home: Path) -> None:
    code, out, _ = add(
        home,
        "10.9999/missing",
        "arXiv:2401.99999",
        "10.1000/nowhere",
        "not-an-id",
        "10.1000/no-abstract",
        "W3000000002",
    )
    assert code == 1
    kinds = {e["id"]: e["kind"] for e in out["errors"]}
    assert kinds == {
        "10.9999/missing": "not-found",
        "arXiv:2401.99999": "not-found",
        "10.1000/nowhere": "no-abstract",
        "not-an-id": "invalid",
    }
    # Crossref had no abstract for this one; OpenAlex's inverted index gave it.
    titles = {p["asked"]: p for p in out["papers"]}
    assert titles["10.1000/no-abstract"]["abstract"].startswith("Only OpenAlex has this abstract")
    # An OpenAlex work whose preprint sits on arXiv carries its arXiv id.
    assert titles["W3000000002"]["arxiv_id"] == "2301.00001"
    stats = json.loads(run_cli(home, "stats", "--json").stdout)
    assert stats["papers"] == 179 + 2


def test_the_cli_says_why_in_plain_words(fake: FakeSources, home: Path) -> None:
    result = run_cli(home, "add", "10.9999/missing", "10.1000/nowhere", "arXiv:2404.11912")
    assert result.returncode == 1
    assert (
        "papercite: 10.9999/missing: neither Crossref nor OpenAlex knows doi:10.9999/missing" in result.stderr
    )
    assert (
        "10.1000/nowhere: 'A Paper Without Any Abstract' was found, but no source has its abstract"
        in result.stderr
    )
    assert result.stdout.startswith("updated   triforce")


def test_a_paper_without_abstract_can_be_kept_when_asked(fake: FakeSources, home: Path) -> None:
    result = run_cli(home, "add", "--keep-without-abstract", "10.1000/nowhere")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("added")


@pytest.mark.parametrize(
    ("service", "identifier", "fault"),
    [
        ("crossref", "10.1145/3404835.3463238", Status(503, retry_after="1")),
        ("crossref", "10.1145/3404835.3463238", Status(429, retry_after="0")),
        ("arxiv", "arXiv:2404.11912", Status(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")),
        ("arxiv", "arXiv:2404.11912", Truncated(0.4)),
        ("openalex", "W3000000002", Status(500)),
        ("openalex", "W3000000002", Malformed()),
    ],
)
def test_busy_servers_and_broken_answers_are_retried(
    fake: FakeSources, home: Path, service: str, identifier: str, fault: Status | Truncated | Malformed
) -> None:
    fake.fail_next(service, fault)
    code, out, err = add(home, identifier)
    assert code == 0, err
    assert out["papers"][0]["abstract"]
    assert len(fake.served(service)) == 2  # the fault, then the answer


@pytest.mark.parametrize("declared", [True, False])
def test_a_gigantic_answer_is_refused_not_held_in_memory(
    fake: FakeSources, home: Path, monkeypatch: pytest.MonkeyPatch, declared: bool
) -> None:
    monkeypatch.setenv("PAPERCITE_HTTP_MAX_MB", "1")
    fake.fail_next("crossref", Huge(64 * 1024 * 1024, declared=declared))
    code, out, _ = add(home, "10.1145/3404835.3463238")
    assert code == 1
    [error] = out["errors"]
    assert error["kind"] == "bad-response" and "Crossref sent more than 1 MB" in error["reason"]
    assert len(fake.served("crossref")) == 1  # refused, not asked again for the same


def test_a_server_that_keeps_failing_is_reported_after_the_retries(
    fake: FakeSources, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCITE_HTTP_RETRIES", "2")
    fake.fail_next("crossref", Malformed(), Truncated(0.9), Status(502))
    code, out, _ = add(home, "10.1145/3404835.3463238", "arXiv:2404.11912")
    assert code == 1
    [error] = out["errors"]
    assert error["kind"] == "network" and "after 3 attempts: Crossref answered 502" in error["reason"]
    assert [p["key"] for p in out["papers"]] == ["triforce"]


def test_a_long_retry_after_is_reported_not_waited_for(fake: FakeSources, home: Path) -> None:
    fake.fail_next("crossref", Status(429, retry_after="3600"))
    code, out, _ = add(home, "10.1145/3404835.3463238")
    assert code == 1
    assert "asks to wait 3600 s" in out["errors"][0]["reason"]
    assert len(fake.served("crossref")) == 1


def test_a_server_that_does_not_answer_times_out(
    fake: FakeSources, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCITE_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("PAPERCITE_HTTP_RETRIES", "1")
    fake.fail_next("crossref", Delay(3), Delay(3))
    code, out, _ = add(home, "10.1145/3404835.3463238", "arXiv:2404.11912")
    assert code == 1
    assert "no answer within 0.5 s" in out["errors"][0]["reason"]
    assert len(out["papers"]) == 1


def test_adding_again_works_offline_from_the_cache(fake: FakeSources, home: Path) -> None:
    code, _, _ = add(home, "10.1145/3404835.3463238", "arXiv:2404.11912")
    assert code == 0
    assert (home / CACHE_FILE).exists()
    fake.stop()  # the services are gone
    code, out, err = add(home, "10.1145/3404835.3463238", "arXiv:2404.11912")
    assert code == 0, err
    assert {p["status"] for p in out["papers"]} == {"unchanged"}


def test_requests_carry_the_contact_address(
    fake: FakeSources, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCITE_MAILTO", "papers@example.org")
    monkeypatch.setenv("PAPERCITE_OPENALEX_API_KEY", "k-123")
    add(home, "10.1000/no-abstract")
    [crossref] = fake.served("crossref")
    assert crossref.user_agent.startswith("papercite/") and "mailto:papers@example.org" in crossref.user_agent
    assert crossref.query == {"mailto": "papers@example.org"}
    [openalex] = fake.served("openalex")
    assert openalex.query == {"mailto": "papers@example.org", "api_key": "k-123"}


def test_arxiv_is_asked_at_most_once_per_interval_across_runs(
    fake: FakeSources, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCITE_ARXIV_INTERVAL", "1")
    assert add(home, "arXiv:2404.11912")[0] == 0
    assert add(home, "hep-th/9901001")[0] == 0  # a second process, right after the first
    first, second = fake.served("arxiv")
    assert second.at - first.at >= 1.0


async def test_the_library_call_returns_stored_papers_and_errors(fake: FakeSources, home: Path) -> None:
    library = await Library.open(home)
    try:
        result = await add_identifiers(
            library, ["arXiv:hep-th/9901001", "bogus", "10.1000/nowhere"], config=SourcesConfig.from_env()
        )
        [paper] = result.papers
        assert paper.key and paper.arxiv_id == "hep-th/9901001" and paper.doi == "10.1000/old.style"
        assert result.status[paper.key] == "added" and result.asked[paper.key] == "arXiv:hep-th/9901001"
        assert [(e.text, e.kind) for e in result.errors] == [
            ("bogus", "invalid"),
            ("10.1000/nowhere", "no-abstract"),
        ]
        assert (
            result.errors[1].paper is not None
            and result.errors[1].paper.title == "A Paper Without Any Abstract"
        )
        assert (await library.get(paper.key)).abstract.startswith("An abstract about strings")
    finally:
        await library.close()


def test_a_doi_can_neither_climb_out_of_works_nor_add_to_the_query(fake: FakeSources, home: Path) -> None:
    """A link like https://doi.org/10.1234/../../admin (posted in Slack, say) made papercite ask the
    configured Crossref for /admin; a DOI holding `?` reached OpenAlex as a query of its own."""
    code, report, _ = add(home, "https://doi.org/10.1234/../../admin", "doi:10.9999/x?filter=evil")
    assert code == 1 and report["papers"] == []
    [invalid] = [e for e in report["errors"] if e["kind"] == "invalid"]
    assert invalid["id"] == "https://doi.org/10.1234/../../admin"
    assert all("admin" not in r.path for r in fake.requests)
    asked = fake.served("openalex")
    assert asked and all("filter" not in r.query for r in asked)
    assert asked[0].path.endswith("/works/doi:10.9999/x?filter=evil")
