from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.records import IngestReport, Paper, ParseFailure
from core.search import Hit
from core.wire import (
    WireError,
    hit_from_json,
    hit_to_json,
    paper_from_json,
    paper_to_json,
    report_from_json,
    report_to_json,
)

text = st.text(max_size=40)
papers = st.builds(
    Paper,
    key=text,
    title=text.filter(str.strip),
    abstract=text,
    authors=st.tuples(text, text),
    year=st.none() | st.integers(-3000, 3000),
    venue=text,
    doi=text,
    url=text,
    arxiv_id=text,
    keywords=st.tuples(text),
    entry_type=st.sampled_from(["article", "inproceedings", "misc"]),
    title_derived=st.booleans(),
    extra=st.tuples(st.tuples(text, text)),
    origin=text,
    format=text,
)


@settings(max_examples=200, deadline=None)
@given(papers, st.floats(allow_nan=False, allow_infinity=False), st.integers(1, 200))
def test_papers_and_hits_cross_the_wire_unchanged(paper: Paper, score: float, rank: int) -> None:
    assert paper_from_json(json.loads(json.dumps(paper_to_json(paper)))) == paper
    hit = Hit(paper, score, rank)
    assert hit_from_json(json.loads(json.dumps(hit_to_json(hit)))) == hit


def test_reports_cross_the_wire_unchanged() -> None:
    report = IngestReport(["a"], ["b"], ["c"], [ParseFailure("refs.bib", 12, "broken")], [])
    assert report_from_json(json.loads(json.dumps(report_to_json(report)))) == report


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "JSON object"),
        ({"title": " "}, "needs a 'title'"),
        ({"title": "T", "year": "2020"}, "'year'"),
        ({"title": "T", "authors": "Ada"}, "'authors'"),
        ({"title": "T", "extra": [["pages"]]}, "'extra'"),
    ],
)
def test_a_bad_paper_names_its_field(raw: object, message: str) -> None:
    with pytest.raises(WireError, match=message):
        paper_from_json(raw)
