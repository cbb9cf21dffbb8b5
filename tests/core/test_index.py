"""The sharded index ranks as one index would."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from core.index import (
    _BARE_SCHEMA,
    POSTINGS_BUDGET,
    SHARDS,
    PaperIndex,
    Statistics,
    _document,
    _Shard,
    _shard_of,
    _statistics,
    most_informative,
)
from core.records import Paper

WORDS = [
    "retrieval",
    "sparse",
    "dense",
    "graph",
    "decoding",
    "cache",
    "kernel",
    "token",
    "memory",
    "attention",
]


def papers(count: int) -> list[Paper]:
    """Abstracts of exactly six words, so that every document has the average length and BM25's
    length normalisation is the same in every shard."""
    rng = random.Random(5)
    return [
        Paper(key=f"p{n}", title="", abstract=" ".join(rng.choices(WORDS, k=6)), title_derived=True)
        for n in range(count)
    ]


@pytest.fixture
def index(tmp_path: Path) -> PaperIndex:
    built = PaperIndex(tmp_path / "index")
    writing = built.writing()
    writing.upsert(papers(300), new=True)
    writing.commit(1)
    return built


def test_papers_spread_over_every_shard(index: PaperIndex) -> None:
    assert SHARDS > 1 and index.num_docs == 300
    assert {_shard_of(p.key) for p in papers(300)} == set(range(SHARDS))
    assert index.doc_freq("retriev") == sum("retrieval" in p.abstract for p in papers(300))


def test_sharded_ranking_is_the_single_index_ranking(index: PaperIndex) -> None:
    whole = _Shard(None, _BARE_SCHEMA)
    writer = whole.index.writer(32 * 1024 * 1024, 1)
    for paper in papers(300):
        writer.add_document(_document(paper, record=False))
    writer.commit()
    writer.wait_merging_threads()
    whole.index.reload()
    searcher = whole.index.searcher()
    for terms in ({"sparse": 1.0, "kernel": 2.0}, {"decod": 1.0, "cach": 0.5, "graph": 0.25}):
        expected = whole.search(searcher, terms, 300, _statistics([searcher], terms))
        got = index.search(terms, 300)
        assert [round(score, 4) for _, score in got] == [round(score, 4) for _, score in expected]
        assert {key for key, _ in got} == {key for key, _ in expected}
        assert {_shard_of(key) for key, _ in got[:40]} == set(range(SHARDS))


def test_excluded_keys_are_dropped_and_the_list_refilled(index: PaperIndex) -> None:
    terms = {"memori": 1.0, "attent": 1.0}
    top = index.search(terms, 10)
    skipped = [key for key, _ in top[:3]]
    assert index.search(terms, 10, exclude=skipped) == index.search(terms, 13)[3:]


def test_a_search_keeps_itsmost_informative_terms_within_the_postings_budget() -> None:
    budget = POSTINGS_BUDGET
    collection = Statistics(
        documents=10 * budget,
        doc_freq={
            "rare": 10,
            "usual": budget // 2,
            "common": budget // 2 + 1,
            "typo": 1,
            "everywhere": budget * 9,
        },
    )
    terms = {"rare": 1.0, "usual": 1.0, "common": 1.0, "typo": 0.01, "everywhere": 3.0}
    # Rarest first by weight × IDF; "common" would overflow the budget, the rarer "typo" still fits.
    assert list(most_informative(terms, 10, collection)) == ["rare", "usual", "typo"]
    assert list(most_informative(terms, 2, collection)) == ["rare", "usual"]
    # The most informative term always goes in, however common.
    assert most_informative({"everywhere": 1.0}, 10, collection) == {"everywhere": 1.0}


def test_a_large_collection_leaves_out_words_in_over_half_its_documents() -> None:
    collection = Statistics(documents=100_000, doc_freq={"graph": 900, "paper": 60_000})
    assert most_informative({"graph": 1.0, "paper": 5.0}, 10, collection) == {"graph": 1.0}
    small = Statistics(documents=1000, doc_freq={"graph": 9, "paper": 600})
    assert set(most_informative({"graph": 1.0, "paper": 5.0}, 10, small)) == {"graph", "paper"}


def test_the_index_gives_back_each_record_as_it_was_indexed(tmp_path: Path) -> None:
    full = Paper(
        key="full2024",
        title="Every Field \u00e9t\u00e9 Kept",
        abstract="An abstract with \u201cquotes\u201d and a \\\\ backslash.",
        authors=("Ada Lovelace", "Grace Hopper"),
        year=2024,
        venue="Venue",
        doi="10.1/x",
        url="https://example.org/x",
        arxiv_id="2401.00001",
        keywords=("retrieval", "citations"),
        entry_type="inproceedings",
        extra=(("pages", "1--9"), ("publisher", "P")),
    )
    bare = Paper(key="bare", title="", abstract="Only an abstract here.", title_derived=True)
    index = PaperIndex(tmp_path / "index", records=True)
    writing = index.writing()
    writing.upsert([full, bare, *papers(40)], new=True)
    writing.commit(1)
    assert index.papers(["full2024", "bare", "p7", "absent"]) == {
        "full2024": full,
        "bare": bare,
        "p7": papers(40)[7],
    }


def test_an_index_of_the_other_kind_is_made_anew_to_be_rebuilt(tmp_path: Path) -> None:
    # A folder's index (no records) under a home now over a shared store, which needs them.
    bare = PaperIndex(tmp_path / "index")
    writing = bare.writing()
    writing.upsert(papers(3), new=True)
    writing.commit(1)
    assert bare.state() is not None and bare.papers(["p0"]) == {}
    with_records = PaperIndex(tmp_path / "index", records=True)
    assert with_records.num_docs == 0 and with_records.state() is None  # so the library rebuilds it
    writing = with_records.writing()
    writing.upsert(papers(3), new=True)
    writing.commit(1)
    assert sorted(with_records.papers(["p0", "p1", "p2", "p3"])) == ["p0", "p1", "p2"]


def test_keys_with_a_prefix_are_found_whatever_characters_they_hold(tmp_path: Path) -> None:
    keys = ["tri2024", "tri.x[1]", "tri(a)*", "trib", "Tri", "über\\a", "x"]
    index = PaperIndex(tmp_path / "index")
    writing = index.writing()
    writing.upsert([Paper(key=key, title=f"Paper {key}") for key in keys], new=True)
    writing.commit(1)
    assert index.keys_with_prefix("tri") == {"tri2024", "tri.x[1]", "tri(a)*", "trib"}
    assert index.keys_with_prefix("tri.x[") == {"tri.x[1]"}
    assert index.keys_with_prefix("tri(a)") == {"tri(a)*"}
    assert index.keys_with_prefix("über\\") == {"über\\a"}
    assert index.keys_with_prefix("tri", 2) == {"tri(a)*", "tri.x[1]"}
    assert index.keys_with_prefix("") == set(keys)
