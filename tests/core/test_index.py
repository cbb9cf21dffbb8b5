"""The sharded index ranks as one index would."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from core.index import SHARDS, PaperIndex, _document, _Shard, _shard_of, _statistics
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
    whole = _Shard(None)
    writer = whole.index.writer(32 * 1024 * 1024, 1)
    for paper in papers(300):
        writer.add_document(_document(paper))
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
