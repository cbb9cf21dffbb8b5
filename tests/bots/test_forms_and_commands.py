from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.blocks import ADD_FIELDS
from bots.commands import Request, parse_request
from bots.forms import form_metadata, papers_from_form, submitted_values


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("", Request("help")),
        ("  help ", Request("help")),
        ("cite relay", Request("cite", "relay")),
        ("bibtex relay", Request("cite", "relay")),
        ("cite", Request("help")),
        ("show triforce", Request("show", "triforce")),
        ("stats", Request("stats")),
        ("add", Request("add")),
        ("add noise to diffusion", Request("search", "add noise to diffusion")),
        ("<@U0BOT> looped transformers", Request("search", "looped transformers")),
        ("speculative decoding", Request("search", "speculative decoding")),
    ],
)
def test_parse_request(text: str, request_: Request) -> None:
    assert parse_request(text) == request_


def test_form_fields_make_a_paper() -> None:
    papers, errors = papers_from_form(
        {
            "title": " Photonic  Annealers ",
            "authors": "Qubit, Quinn and Laser, Lee",
            "year": "2031",
            "link": "https://doi.org/10.5555/X.1",
            "abstract": "Folds\nproteins.",
        },
        "U1",
    )
    assert errors == {}
    (paper,) = papers
    assert paper.title == "Photonic Annealers" and paper.year == 2031
    assert paper.authors == ("Qubit, Quinn", "Laser, Lee") and paper.doi == "10.5555/x.1"
    assert paper.abstract == "Folds proteins." and paper.origin == "slack:U1"


def test_form_errors_are_per_field_and_store_nothing() -> None:
    papers, errors = papers_from_form({"title": "", "year": "next year", "link": "ftp://nope"}, "U1")
    assert papers == []
    assert set(errors) == {"title", "year", "link"}


def test_pasted_bibtex_wins_and_its_errors_name_the_line() -> None:
    papers, errors = papers_from_form({"bibtex": "@article{k1, title={A}, year={2020}}"}, "U1")
    assert errors == {} and papers[0].key == "k1"
    _, errors = papers_from_form({"bibtex": "@article{k1,\n title={A,\n}\n@article{k2, title={B}}"}, "U1")
    assert errors["bibtex"].startswith("line 1:")
    _, errors = papers_from_form({"bibtex": "just words"}, "U1")
    assert "No BibTeX entry found" in errors["bibtex"]


def test_submitted_values_reads_view_state() -> None:
    view = {
        "state": {
            "values": {
                "title": {"value": {"type": "plain_text_input", "value": " T "}},
                "year": {"value": {}},
            }
        }
    }
    assert submitted_values(view) == {"title": "T", "year": ""}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=200) | json_values)
def test_fuzz_parse_request_always_answers(text: object) -> None:
    request = parse_request(text)
    assert request.kind in {"help", "cite", "show", "stats", "add", "search"}
    if request.kind in {"cite", "show", "search"}:
        assert request.argument.strip()


@settings(max_examples=300, deadline=None)
@given(
    view=st.fixed_dictionaries(
        {},
        optional={
            "state": json_values
            | st.fixed_dictionaries(
                {
                    "values": st.dictionaries(
                        st.sampled_from(ADD_FIELDS), json_values | st.just({"value": {"value": "x"}})
                    )
                }
            ),
            "private_metadata": json_values | st.text(max_size=40),
        },
    )
)
def test_fuzz_form_state_reads_or_names_the_field(view: dict) -> None:
    values = submitted_values(view)
    assert all(isinstance(v, str) for v in values.values())
    papers, errors = papers_from_form(values, "U1")
    assert bool(papers) != bool(errors)
    assert set(errors) <= set(ADD_FIELDS)
    assert all(isinstance(v, str) for v in form_metadata(view).values())


def test_form_metadata_tolerates_anything() -> None:
    assert form_metadata({"private_metadata": '{"channel": "C1", "user": "U1"}'}) == {
        "channel": "C1",
        "user": "U1",
    }
    for broken in ("not json", "[1]", '{"channel": 5}', None):
        assert form_metadata({"private_metadata": broken}) == {}
