"""The services' answers read into papers: pure parsers, on bodies in the services' formats."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.formats.openalex import abstract_from_inverted_index
from core.sources.arxiv import _year, parse_atom, parse_list_records
from core.sources.crossref import jats_to_text, parse_work, work_to_paper
from core.sources.http import BadResponse, retry_after_seconds


def test_jats_abstracts_become_paragraphs_of_text() -> None:
    markup = (
        "<jats:title>Abstract</jats:title><jats:sec><jats:p>Dense <jats:italic>and</jats:italic> sparse "
        "retrieval &amp; more.</jats:p><jats:p>Second\n   paragraph with <mml:math><mml:mi>x</mml:mi></mml:math>.</jats:p></jats:sec>"
    )
    assert jats_to_text(markup) == "Dense and sparse retrieval & more.\nSecond paragraph with x."


def test_jats_with_html_entities_is_read_as_tag_soup() -> None:
    assert (
        jats_to_text("<jats:p>One&nbsp;two <b>three</jats:p><jats:p>four</jats:p>") == "One two three\nfour"
    )


def test_plain_text_abstracts_pass_through() -> None:
    assert jats_to_text("Just words.") == "Just words."


def test_openalex_inverted_index_is_put_back_in_order() -> None:
    index = {"world": [1], "hello": [0, 2], "bad": ["x"]}
    assert abstract_from_inverted_index(index) == "hello world hello"
    assert abstract_from_inverted_index(None) == ""


def test_retry_after_is_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    # Digits that are not ASCII (int() refuses some, such as "²") are not a number of seconds.
    assert retry_after_seconds("\u00b2") is None and retry_after_seconds("\u0663") is None


def test_a_truncated_crossref_answer_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match="malformed"):
        parse_work(b'{"status": "ok", "message": {"DOI": "10.1')


def test_arxiv_error_entries_are_errors_not_papers() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>arXiv Query</title>
<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title>
<summary>incorrect id format for 1234</summary></entry></feed>"""
    result = parse_atom(body)
    assert result.papers == [] and result.errors == ["incorrect id format for 1234"]


def test_arxiv_rate_message_is_not_a_feed() -> None:
    with pytest.raises(BadResponse, match="Rate exceeded"):
        parse_atom(b"Rate exceeded.")


def test_an_oai_page_reads_records_deletions_and_the_token() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01T00:00:00Z</responseDate>
<request verb="ListRecords">http://export.arxiv.org/oai2</request><ListRecords>
<record><header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp>
<setSpec>physics:hep-ph</setSpec></header><metadata>
<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>0704.0001</id><created>2007-04-02</created>
<authors><author><keyname>Bal\xc3\xa1zs</keyname><forenames>C.</forenames></author><author><keyname>Berger</keyname>
<forenames>E. L.</forenames></author></authors><title>Calculation of prompt diphoton
  production</title><categories>hep-ph</categories><journal-ref>Phys.Rev.D76:013009,2007</journal-ref>
<doi>10.1103/PhysRevD.76.013009</doi><abstract>  A fully differential calculation.
</abstract></arXiv></metadata></record>
<record><header status="deleted"><identifier>oai:arXiv.org:0704.0002</identifier><datestamp>2008-11-14</datestamp></header></record>
<resumptionToken cursor="0" completeListSize="2500">6960524|1001</resumptionToken></ListRecords></OAI-PMH>"""
    page = parse_list_records(body)
    [paper] = page.papers
    assert paper.arxiv_id == "0704.0001" and paper.title == "Calculation of prompt diphoton production"
    assert paper.authors == ("Balázs, C.", "Berger, E. L.") and paper.year == 2007
    assert paper.doi == "10.1103/physrevd.76.013009" and paper.entry_type == "article"
    assert page.deleted == 1 and page.datestamps == ["2008-11-13", "2008-11-14"]
    assert (page.token, page.complete_size, page.cursor) == ("6960524|1001", 2500, 0)


def test_oai_errors_are_read() -> None:
    body = b"""<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="noRecordsMatch">empty</error></OAI-PMH>"""
    assert parse_list_records(body).error == ("noRecordsMatch", "empty")


# Any JSON value, with Crossref's own field names likely as keys.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "title",
                    "subtitle",
                    "author",
                    "family",
                    "given",
                    "name",
                    "issued",
                    "published",
                    "date-parts",
                    "DOI",
                    "abstract",
                    "container-title",
                    "type",
                    "page",
                    "volume",
                ]
            )
            | st.text(max_size=4),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_JSON)
def test_a_crossref_work_of_any_shape_becomes_a_paper_or_bad_response(message: object) -> None:
    try:
        work = parse_work(json.dumps({"status": "ok", "message": message}).encode())
    except BadResponse:
        return
    paper = work_to_paper(work, "doi:x")
    assert isinstance(paper.title, str) and all(isinstance(a, str) for a in paper.authors)
    assert paper.year is None or isinstance(paper.year, int)


def test_crossref_fields_of_the_wrong_type_are_passed_over() -> None:
    message = {"title": ["Typed"], "author": True, "issued": 1225, "published": {"date-parts": "2020"},
               "created": {"date-parts": [[2021, 3]]}}  # fmt: skip
    paper = work_to_paper(message, "doi:x")
    assert (paper.title, paper.authors, paper.year) == ("Typed", (), 2021)
    people = [{"family": {"x": 1}, "name": "Team"}, {"family": "Lin", "given": 5}, "Nobody"]
    assert work_to_paper({"title": "T", "author": people}, "doi:x").authors == ("Team", "Lin")


def test_an_arxiv_date_of_other_digits_has_no_year() -> None:
    assert _year("\u00b2\u00b2\u00b2\u00b2-01-01") is None and _year("2024-01-01") == 2024


def test_oai_token_counts_that_are_not_ascii_digits_are_unknown() -> None:
    body = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        '<resumptionToken cursor="\u00b2" completeListSize="\u0663">next</resumptionToken></ListRecords></OAI-PMH>'
    ).encode()
    page = parse_list_records(body)
    assert (page.token, page.cursor, page.complete_size) == ("next", None, None)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>',
        b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>',
    ],
    ids=["entity-expansion", "external-entity"],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_an_answer_declaring_entities_is_refused_before_parsing(body: bytes, encoding: str) -> None:
    """In UTF-16 (with its byte-order mark) a declared entity once went through and was expanded."""
    body = body.decode().encode(encoding)
    with pytest.raises(BadResponse, match="document type declaration"):
        parse_atom(body)
    with pytest.raises(BadResponse, match="document type declaration"):
        parse_list_records(body)


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"message": ' + b"9" * 5000 + b"}"], ids=["deeply-nested", "5000-digits"]
)
def test_json_that_python_refuses_is_a_malformed_answer(body: bytes) -> None:
    """Nesting past the recursion limit and numbers past 4300 digits raised RecursionError and
    ValueError out of `papercite add` (a traceback, and the other identifiers were not added)."""
    from core.sources import _parse_openalex_work
    from core.sources.crossref import parse_work
    from core.sources.harvest import _parse_works_page

    for parse in (parse_work, _parse_openalex_work, _parse_works_page):
        with pytest.raises(BadResponse, match="malformed answer"):
            parse(body)
