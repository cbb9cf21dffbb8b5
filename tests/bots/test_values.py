"""Button values read back: a value this bot wrote, or BadActionValue; never anything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots import blocks
from bots.values import (
    MAX_RESULTS_SHOWN,
    BadActionValue,
    PageValue,
    PaperValue,
    action_value,
    page_value,
    paper_value,
)
from core.query import text_terms
from core.records import Paper
from core.search import Hit


def button_values(message: list[dict]) -> dict[str, str]:
    return {
        element["action_id"]: element["value"]
        for block in message
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_what_the_buttons_write_reads_back() -> None:
    terms = text_terms("speculative decoding")
    hit = Hit(Paper(key="triforce", title="TriForce"), 1.0, 1)
    values = button_values(blocks.results_message([hit], terms, "speculative decoding", 5, has_more=True))
    assert paper_value(values["share"]) == PaperValue("triforce", {t: round(w, 3) for t, w in terms.items()})
    assert paper_value(values["bibtex"]) == PaperValue("triforce")
    page = page_value(values["next_page"])
    assert (page.query, page.offset) == ("speculative decoding", 10)


def test_next_stops_at_the_last_page_shown() -> None:
    hit = Hit(Paper(key="k", title="T"), 1.0, 1)
    last = MAX_RESULTS_SHOWN - 5
    assert "next_page" in button_values(
        blocks.results_message([hit], {"t": 1.0}, "q", last - 5, has_more=True)
    )
    assert "next_page" not in button_values(
        blocks.results_message([hit], {"t": 1.0}, "q", last, has_more=True)
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (json.dumps({"q": "x", "o": 10**12}), "pages go up to result 100"),
        (json.dumps({"q": "x", "o": -5}), "pages go up to result 100"),
        (json.dumps({"q": "x", "o": "5"}), "the page is not a number"),
        (json.dumps({"q": "x", "o": 5.0}), "the page is not a number"),
        (json.dumps({"q": "x", "o": True}), "the page is not a number"),
        (json.dumps({"o": 5}), "no query"),
        (json.dumps({"q": "x", "o": 5, "t": {"x": "NaN"}}), "a term's weight is not a number"),
        ('{"q": "x", "o": 5, "t": {"x": NaN}}', "a term's weight is not a number"),
        (json.dumps({"q": "x", "o": 5, "t": ["x"]}), "terms are not an object"),
        (json.dumps({"q": 7, "o": 5}), "no query"),
        ("not json", "value is not JSON"),
        ("[1, 2]", "value is not an object"),
        ("[" * 100_000, "value too long"),
        (None, "no value"),
    ],
)
def test_bad_page_values_are_named(raw: object, reason: str) -> None:
    with pytest.raises(BadActionValue) as caught:
        page_value(raw)
    assert caught.value.reason == reason
    assert "Please run /paper again" in str(caught.value)


@pytest.mark.parametrize("raw", ["{}", '{"k": ""}', '{"k": 5}', '{"k": "x", "t": {"": 1}}', "[" * 1500])
def test_bad_paper_values_are_refused(raw: str) -> None:
    with pytest.raises(BadActionValue):
        paper_value(raw)


def test_action_value_finds_the_pressed_button() -> None:
    assert action_value({"actions": [{"value": "v"}]}) == "v"
    for body in ({}, {"actions": []}, {"actions": "x"}, {"actions": [5]}, {"actions": [{}]}):
        assert action_value(body) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
raw_values = st.one_of(
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {},
        optional={
            "k": json_values | st.text(max_size=30),
            "q": json_values | st.text(max_size=30),
            "o": json_values | st.integers(),
            "t": json_values | st.dictionaries(st.text(max_size=8), st.floats() | st.integers(), max_size=5),
        },
    ).map(json.dumps),
    json_values,
)


@settings(max_examples=400, deadline=None)
@given(raw=raw_values)
def test_fuzz_values_decode_or_are_named_failures(raw: object) -> None:
    for decode in (paper_value, page_value):
        try:
            value = decode(raw)
        except BadActionValue as error:
            assert error.reason
            continue
        if isinstance(value, PageValue):
            assert 0 <= value.offset <= MAX_RESULTS_SHOWN - 5
            assert value.query.strip() or value.terms
        else:
            assert isinstance(value.key, str) and value.key.strip()
        assert all(isinstance(w, float) for w in value.terms.values())


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.sampled_from(["actions", "user", "x"]), json_values, max_size=3))
def test_fuzz_action_value_never_raises(body: dict) -> None:
    action_value(body)
