"""What the fuzz tests found, kept as plain tests: each reader names the record it cannot read, and
a lone surrogate (JSON can spell one, an editor can send one) neither stops an ingest nor a search."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.formats import parse_text
from core.formats.jsonformats import arxiv_record_to_paper, csl_item_to_paper, jsonl_record_to_paper
from core.formats.openalex import work_to_paper
from core.index import MemoryIndex
from core.library import Library
from core.records import Paper, ParseFailure
from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("convert", "record"),
    [
        (csl_item_to_paper, {"title": "T", "issued": {"date-parts": [5]}}),
        (csl_item_to_paper, {"title": "T", "issued": {"date-parts": {"a": 1}}}),
        (csl_item_to_paper, {"title": "T", "author": [{"family": ["a"], "given": 3}]}),
        (csl_item_to_paper, {"title": "T", "author": None}),
        (arxiv_record_to_paper, {"title": "T", "id": "2101.00001", "authors_parsed": [[1, 2]]}),
        (arxiv_record_to_paper, {"title": "T", "id": "2101.00001", "categories": " "}),
        (jsonl_record_to_paper, {"title": "T", "authors": [1, None, {"a": 1}, "Doe, J."]}),
        (work_to_paper, {"title": "T", "authorships": 5, "locations": 5, "keywords": 5}),
    ],
)
def test_a_field_of_an_odd_shape_is_passed_over(convert: object, record: dict[str, object]) -> None:
    paper = convert(record, "x.json", 3)  # type: ignore[operator]
    assert isinstance(paper, Paper) and paper.title == "T"


@pytest.mark.parametrize(
    ("text", "fmt", "reason"),
    [
        ("[" * 100_000, "csl-json", "nested too deeply"),
        ('{"a": ' + "[" * 100_000, "json-lines", "nested too deeply"),
        ("not json", "csl-json", "not a JSON array"),
    ],
)
def test_json_that_cannot_be_read_is_a_named_failure(text: str, fmt: str, reason: str) -> None:
    (failure,) = parse_text(text, "x", fmt)
    assert isinstance(failure, ParseFailure) and reason in failure.reason


def test_an_ingest_with_lone_surrogates_goes_through(home: Path, tmp_path: Path) -> None:
    lines = tmp_path / "papers.jsonl"
    lines.write_text(
        '{"title": "Lone \\ud800 surrogate", "abstract": "x \\udfff y"}\n'
        '{"title": "A pair \\ud83d\\ude00 is fine"}\n',
        encoding="utf-8",
    )
    csl = tmp_path / "zotero.json"
    csl.write_text('[{"id": "k1", "title": "CSL \\udc00 item"}]', encoding="utf-8")
    result = run_cli(home, "ingest", "--json", str(lines), str(csl))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 3
    shown = json.loads(run_cli(home, "show", "k1", "--json").stdout)
    assert shown["title"] == "CSL \ufffd item"


async def test_the_library_takes_lone_surrogates_from_a_face(library: Library) -> None:
    report = await library.add_papers([Paper(key="", title="Typed \ud800 in a form", abstract="loops")])
    assert len(report.added) == 1
    assert (await library.get(report.added[0])).title == "Typed \ufffd in a form"
    hits = await library.search("looped transformers \udfff")
    assert hits[0].key == "relay"
    assert MemoryIndex([Paper(key="b", title="Buffer \ud800 entry")]).size == 1


def test_a_pipe_named_outright_is_a_named_failure_not_a_wait_forever(home: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "refs.bib"
    os.mkfifo(fifo)
    good = tmp_path / "good.bib"
    good.write_text("@article{piped2030, title={Beside a Pipe}, year={2030}}\n")
    result = run_cli(home, "ingest", str(fifo), str(good), "/dev/zero")
    assert result.returncode == 0  # the good file went in
    assert f"{fifo}: not a regular file (a pipe, socket or device)" in result.stderr
    assert "/dev/zero: not a regular file" in result.stderr
    assert "added 1, updated 0, unchanged 0, failed 2" in result.stdout + result.stderr
