from __future__ import annotations

from pathlib import Path

import pytest

from core.formats import detect_format, parse_file
from core.formats.bibtex import split_names
from core.formats.seeds import derived_title, method_name
from core.library import seed_files
from core.records import Paper, ParseFailure, UnsupportedFormat

DATA = Path(__file__).parent / "data"


def papers_and_failures(path: Path) -> tuple[list[Paper], list[ParseFailure]]:
    items = list(parse_file(path))
    return [i for i in items if isinstance(i, Paper)], [i for i in items if isinstance(i, ParseFailure)]


def test_seed_files_give_184_records_of_179_papers() -> None:
    files = seed_files()
    assert [detect_format(f) for f in files] == ["seed-abstracts", "seed-abstracts", "seed-page", "seed-page"]
    records = [p for f in files for p in papers_and_failures(f)[0]]
    failures = [x for f in files for x in papers_and_failures(f)[1]]
    assert failures == []
    assert len(records) == 184
    assert len({p.abstract for p in records}) == 179
    untitled = [p for p in records if p.title_derived]
    assert len(untitled) == 20
    assert {"RELAY", "OrthoSoftmax", "FIRP", "MPLSandbox"} <= {p.title for p in untitled}


def test_page_dump_pairs_titles_with_abstracts_and_skips_chrome() -> None:
    records, _ = papers_and_failures(seed_files()[2])
    first = records[0]
    assert first.title.startswith("Lookahead: An Inference Acceleration Framework")
    assert first.abstract.startswith("As Large Language Models (LLMs) have made significant advancements")
    assert not any(p.title in {"Subscribe", "new", "Mar 14"} for p in records)
    assert first.origin.endswith(":11")


def test_method_names_and_derived_titles() -> None:
    assert method_name("To better leverage them, we propose RELAY (REasoning through Loop).") == "RELAY"
    assert method_name("We introduce a novel method called OrthoSoftmax, which applies") == "OrthoSoftmax"
    assert method_name("Our framework, named lookahead, introduces a multi-branch strategy.") == "lookahead"
    assert method_name("We propose a new method called forgetting curve to measure memory.") == ""
    assert method_name("In this paper we propose LLMs that reason.") == ""
    assert derived_title("Residual networks are great. They are.") == "Residual networks are great"


def test_bibtex_reports_the_broken_entry_and_keeps_the_others() -> None:
    records, failures = papers_and_failures(DATA / "broken.bib")
    assert [p.key for p in records] == ["boudin2021acm", "mueller2019", "vaswani2017attention"]
    assert len(failures) == 1
    assert failures[0].line == 12 and failures[0].path.endswith("broken.bib")
    assert "closing" in failures[0].reason or "Unexpected" in failures[0].reason


def test_bibtex_fields_are_plain_unicode() -> None:
    records, _ = papers_and_failures(DATA / "broken.bib")
    acm, cafe, attention = records
    assert acm.title == "ACM-CR: A Manually Annotated Test Collection for Citation Recommendation"
    assert acm.doi == "10.1109/jcdl52503.2021.00062" and acm.year == 2021
    assert acm.keywords == ("citation recommendation", "test collection")
    assert acm.venue == "Proceedings of the ACM/IEEE Joint Conference on Digital Libraries"
    assert cafe.title == "Café Recommendations with BERT — and More"
    assert cafe.authors == ("Müller, Jérôme", "Østergaard, Søren")
    assert cafe.abstract == "We study naïve recommenders & their 50% failure rate."
    assert cafe.venue == "Journal of & Tests"
    assert attention.arxiv_id == "1706.03762"


def test_values_repeated_across_entries_are_held_once(tmp_path: Path) -> None:
    entry = (
        "@InProceedings{{k{n},\n  title = {{Paper {n}}},\n  author = {{M{{\\\"u}}ller, J{{\\'o}}zef and Chen, Wei}},\n"
        "  booktitle = {{Proceedings of the {{A}}nnual {{M}}eeting}},\n  month = jul,\n"
        "  publisher = {{Association for Computational Linguistics}},\n  pages = {{{n}--{n}9}}\n}}\n"
    )
    bib = tmp_path / "refs.bib"
    bib.write_text("".join(entry.format(n=n) for n in range(2)), encoding="utf-8")
    first, second = list(parse_file(bib))
    assert isinstance(first, Paper) and isinstance(second, Paper)
    assert first.authors == second.authors == ("Müller, Józef", "Chen, Wei")
    assert all(a is b for a, b in zip(first.authors, second.authors, strict=True))
    assert first.venue is second.venue and first.entry_type is second.entry_type
    shared = {name: value for name, value in first.extra}
    assert (
        shared["publisher"] is dict(second.extra)["publisher"]
        and shared["month"] is dict(second.extra)["month"]
    )
    assert shared["pages"] == "0–09" and dict(second.extra)["pages"] == "1–19"


def test_split_names_keeps_braced_corporate_names() -> None:
    assert split_names("{Barnes and Noble} and Doe, J.") == ["Barnes and Noble", "Doe, J."]


def test_csl_json_from_zotero() -> None:
    records, failures = papers_and_failures(DATA / "zotero.json")
    assert detect_format(DATA / "zotero.json") == "csl-json"
    lewis, brown = records
    assert lewis.key == "lewis2020retrieval" and lewis.year == 2020
    assert lewis.authors == ("Lewis, Patrick", "Perez, Ethan")
    assert lewis.arxiv_id == "2005.11401" and lewis.entry_type == "inproceedings"
    assert lewis.keywords == ("retrieval", "generation")
    assert brown.doi == "10.48550/arxiv.2005.14165"
    assert [(f.line, "no title" in f.reason) for f in failures] == [(13, True)]


def test_arxiv_snapshot_lines(tmp_path: Path) -> None:
    records, failures = papers_and_failures(DATA / "arxiv.jsonl")
    assert detect_format(DATA / "arxiv.jsonl") == "json-lines"
    diphoton, triforce = records
    assert diphoton.arxiv_id == "0704.0001" and diphoton.year == 2007
    assert diphoton.authors[0] == "Balázs, C."
    assert diphoton.doi == "10.1103/physrevd.76.013009"
    assert diphoton.title.startswith(
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC"
    )
    assert (
        triforce.title
        == "TriForce: Lossless Acceleration of Long Sequence Generation with Hierarchical Speculative Decoding"
    )
    assert [(f.line, f.reason.startswith("invalid JSON")) for f in failures] == [(3, True)]


def test_plain_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(
        '{"title": "A Paper", "abstract": "About things.", "authors": ["Doe, Jane"], "year": "2022"}\n'
        '{"abstract": "no title here"}\n'
    )
    records, failures = papers_and_failures(path)
    assert records[0].title == "A Paper" and records[0].year == 2022 and records[0].authors == ("Doe, Jane",)
    assert failures[0].line == 2


def test_unknown_format_names_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Just some notes\nwith nothing bibliographic.\n")
    with pytest.raises(UnsupportedFormat) as error:
        detect_format(path)
    assert "BibTeX" in str(error.value) and "CSL-JSON" in str(error.value) and "notes.txt" in str(error.value)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.bib"
    path.write_text("  \n")
    with pytest.raises(UnsupportedFormat, match="empty"):
        detect_format(path)


def _sample_of_acm_cr() -> list[Path]:
    from tests.conftest import ACMCR_SAMPLE

    files = sorted((ACMCR_SAMPLE / "acm-dl").rglob("*.bib"))
    assert len(files) > 50
    return files


@pytest.mark.parametrize("path", [DATA / "broken.bib", *_sample_of_acm_cr()], ids=lambda p: p.name)
def test_the_fast_bibtex_path_gives_what_bibtexparser_gives(path: Path) -> None:
    from core.formats import read_text
    from core.formats.bibtex import parse_bibtex, parse_bibtex_fully

    text = read_text(path)

    def ordered(items: list[Paper | ParseFailure]) -> list[object]:
        return sorted(
            items, key=lambda item: item.origin if isinstance(item, Paper) else f"{item.path}:{item.line}"
        )

    assert ordered(list(parse_bibtex(text, "f.bib"))) == ordered(list(parse_bibtex_fully(text, "f.bib")))


def test_files_the_fast_path_leaves_to_bibtexparser() -> None:
    from core.formats.bibtex import _fast_parse

    assert _fast_parse('@string{j = "Journal"}\n@article{a, journal = j, title = {T}}', "f") is None
    assert _fast_parse('@article{a, title = "A" # " B"}', "f") is None
    assert _fast_parse("@article{a, title = {T}, title = {U}}", "f") is None
    plain = _fast_parse("@comment{x}\n@article{a,\n  title = {T {X}},\n  year = 2020\n}\n", "f")
    assert plain is not None and [p.title for p in plain if isinstance(p, Paper)] == ["T X"]
