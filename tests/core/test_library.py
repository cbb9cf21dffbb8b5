from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.index import SCHEMA_VERSION, PaperIndex
from core.library import Library
from core.records import EmptyQuery, Paper, UnknownKey

DATA = Path(__file__).parent / "data"


# Every library test runs over the home's SQLite file and over a PostgreSQL database.
pytestmark = pytest.mark.usefixtures("backend")


async def test_fresh_home_answers_from_the_seed_corpus(library: Library) -> None:
    stats = await library.stats()
    assert stats["papers"] == 179 and stats["indexed"] == 179
    hits = await library.search("hierarchical speculative decoding with a sparse KV cache as draft", 3)
    assert hits[0].key == "triforce"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score > hits[1].score > 0


async def test_reopening_does_not_seed_twice(home: Path) -> None:
    async with await Library.open(home) as first:
        await first.remove(["triforce"])
    async with await Library.open(home) as again:
        assert (await again.stats())["papers"] == 178


async def test_ingest_reports_added_and_failed_with_file_and_line(library: Library) -> None:
    report = await library.ingest([DATA / "broken.bib"])
    assert sorted(report.added) == ["boudin2021acm", "mueller2019", "vaswani2017attention"]
    assert [(Path(f.path).name, f.line) for f in report.failed] == [("broken.bib", 12)]
    paper = await library.get("boudin2021acm")
    assert paper.authors == ("Boudin, Florian",)
    assert (await library.search("manually annotated citation recommendation collection", 1))[0].key == (
        "boudin2021acm"
    )


async def test_reingesting_a_file_changes_nothing(library: Library) -> None:
    await library.ingest([DATA])
    before = await library.stats()
    report = await library.ingest([DATA])
    assert report.added == [] and report.updated == []
    # Every record read is one already there: the five new papers and two seed papers they enriched.
    assert len(report.unchanged) == before["papers"] - 179 + 2
    assert {"triforce", "retrievalaugmented", "boudin2021acm"} <= set(report.unchanged)
    assert await library.stats() == before


async def test_same_doi_updates_one_record_and_keeps_its_key(library: Library, tmp_path: Path) -> None:
    await library.ingest([DATA / "broken.bib"])
    newer = tmp_path / "newer.bib"
    newer.write_text(
        "@article{other_key,\n title={ACM-CR: a manually annotated test collection},\n"
        " doi={https://doi.org/10.1109/JCDL52503.2021.00062},\n pages={1--10}\n}\n"
    )
    report = await library.ingest([newer])
    assert report.updated == ["boudin2021acm"] and report.added == []
    paper = await library.get("boudin2021acm")
    assert paper.title == "ACM-CR: a manually annotated test collection"
    assert paper.authors == ("Boudin, Florian",)  # a blank never erases
    assert ("pages", "1–10") in paper.extra


async def test_a_record_that_stops_matching_within_its_batch_gets_a_fresh_key(library: Library) -> None:
    stored = Paper(key="", title="Graph Networks", authors=("Lee, Ann",), year=2021, doi="10.1/g")
    assert (await library.add_papers([stored])).added == ["lee2021graph"]
    # The first record gives the stored paper an arXiv id; the second, with another, is then a new paper.
    first = stored.replace(arxiv_id="2101.00001")
    second = stored.replace(arxiv_id="2101.00002")
    report = await library.add_papers([first, second])
    assert report.updated == ["lee2021graph"] and report.added == ["lee2021grapha"]
    assert (await library.get("lee2021grapha")).arxiv_id == "2101.00002"


async def test_arxiv_record_of_a_seed_paper_enriches_it(library: Library) -> None:
    report = await library.ingest([DATA / "arxiv.jsonl"])
    assert report.updated == ["triforce"]
    assert len(report.added) == 1
    triforce = await library.get("triforce")
    assert triforce.arxiv_id == "2404.11912" and triforce.year == 2024
    assert triforce.authors[0] == "Sun, Hanshi"


async def test_same_title_and_first_author_is_the_same_paper(library: Library, tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text('{"title": "Deep Things", "authors": ["Doe, Jane"], "year": 2020}\n')
    two = tmp_path / "two.jsonl"
    two.write_text(
        '{"title": "Deep  things!", "authors": ["Jane Doe"], "abstract": "Now with an abstract."}\n'
        '{"title": "Deep Things", "authors": ["Roe, Richard"]}\n'
    )
    first = await library.ingest([one])
    second = await library.ingest([two])
    assert first.added == ["doe2020deep"]
    assert second.updated == ["doe2020deep"] and second.added == ["deepthings"]
    assert (await library.get("doe2020deep")).abstract == "Now with an abstract."


async def test_clashing_source_keys_get_suffixes(library: Library, tmp_path: Path) -> None:
    a = tmp_path / "a.bib"
    a.write_text("@article{smith2020, title={First paper}, author={Smith, A.}}\n")
    b = tmp_path / "b.bib"
    b.write_text("@article{smith2020, title={Another paper}, author={Smith, B.}}\n")
    await library.ingest([a])
    report = await library.ingest([b])
    assert report.added == ["smith2020a"]


async def test_search_filters_by_year_and_author(library: Library) -> None:
    await library.ingest([DATA])
    query = "recommendation collection annotated café"
    assert {h.key for h in await library.search(query, 10, year_from=2020)} >= {"boudin2021acm"}
    assert "mueller2019" not in {h.key for h in await library.search(query, 10, year_from=2020)}
    by_author = await library.search(query, 10, author="müller")
    assert [h.key for h in by_author] == ["mueller2019"]
    assert await library.search(query, 10, year_to=2018) == []


async def test_empty_and_stopword_queries_raise(library: Library) -> None:
    for query in ["", "   ", "the of and is", "[12] \\cite{x} https://example.org"]:
        with pytest.raises(EmptyQuery):
            await library.search(query)


async def test_unknown_key_suggests_close_ones(library: Library) -> None:
    with pytest.raises(UnknownKey) as error:
        await library.get("trifroce")
    assert error.value.suggestions[0] == "triforce"
    assert "did you mean triforce" in str(error.value)


async def test_missing_index_is_rebuilt_on_open(home: Path) -> None:
    async with await Library.open(home) as library:
        index_path = library.index.path
    shutil.rmtree(index_path)
    async with await Library.open(home) as reopened:
        assert reopened.index.num_docs == 179
        assert (await reopened.search("looped transformer reasoning chains", 1))[0].key == "relay"


async def test_index_behind_the_store_catches_up(home: Path) -> None:
    """As after a kill between the store's commit and the index's: the change log is replayed."""
    async with await Library.open(home) as library:
        state_file = library.index.path / "papercite-index.json"
        seq_before = json.loads(state_file.read_text())["seq"]
        await library.ingest([DATA / "broken.bib"])
    state_file.write_text(json.dumps({"schema": SCHEMA_VERSION, "seq": seq_before}))
    async with await Library.open(home) as reopened:
        assert reopened.index.num_docs == 182
        assert reopened.index.is_current(await reopened.store.head_seq())


async def test_a_write_the_index_missed_is_replayed_from_the_change_log(
    home: Path, backend: str | None
) -> None:
    """A kill after the store's commit and before the index's: the changes are still logged."""
    paper = Paper(key="ghost2024paper", title="Replayed sparse attention kernels", year=2024)
    async with await Library.open(home) as library:
        await library.store.write(lambda writer: writer.insert([paper]))
        await library.store.write(lambda writer: writer.remove(["relay"]))
        assert library.index.num_docs == 179
    async with await Library.open(home) as reopened:
        assert reopened.index.num_docs == 179
        assert [hit.key for hit in await reopened.search("replayed sparse attention kernels", 1)] == [
            paper.key
        ]
        assert "relay" not in [hit.key for hit in await reopened.search("looped transformer reasoning", 5)]
        if backend is None:
            assert await reopened.store.oldest_change() is None  # applied, then trimmed
        else:  # the log is every node's: one node's trim keeps what others may not have applied
            assert await reopened.store.oldest_change() == 1


async def test_index_of_another_schema_version_is_rebuilt(home: Path) -> None:
    async with await Library.open(home) as library:
        (library.index.path / "papercite-index.json").write_text('{"schema": 1, "seq": 0}')
        (library.index.path / "0123.idx").write_bytes(b"a segment of the single-index layout")
    async with await Library.open(home) as reopened:
        assert reopened.index.num_docs == 179
        assert not (reopened.index.path / "0123.idx").exists()
        assert (await reopened.search("looped transformer reasoning chains", 1))[0].key == "relay"


async def test_papers_added_by_another_process_are_seen(home: Path) -> None:
    async with await Library.open(home) as reader, await Library.open(home) as writer:
        assert await reader.search("manually annotated citation recommendation", 1)
        await writer.ingest([DATA / "broken.bib"])
        reader._checked_at = 0  # skip the half-second throttle
        hits = await reader.search("manually annotated citation recommendation", 1)
        assert hits[0].key == "boudin2021acm"


async def test_reindex_rebuilds_everything(library: Library) -> None:
    assert await library.reindex() == 179
    assert PaperIndex(library.index.path, records=library.index.records).num_docs == 179


async def test_papers_outside_the_index_are_scored_like_those_inside(library: Library) -> None:
    from core.index import MemoryIndex
    from core.query import text_terms

    terms = text_terms("sparse KV cache for hierarchical speculative decoding")
    hits = await library.search(terms, 3)
    outside = library.search_outside(terms, MemoryIndex(hit.paper for hit in hits), 3)
    # The same papers, scored as if they were not indexed, score about the same (their mean length
    # stands in for the index's, so close neighbours may swap): the best stays the best.
    assert max(outside, key=lambda key: outside[key]) == hits[0].key
    for hit in hits:
        assert 0.8 * hit.score <= outside[hit.key] <= 1.1 * hit.score
    assert library.search_outside(terms, MemoryIndex([]), 3) == {}
    assert list(library.search_outside(terms, MemoryIndex(hit.paper for hit in hits), 1)) == [hits[0].key]
