"""Fuzzing the query clean-up and the text helpers every face calls with what a user typed: each
returns text or terms (EmptyQuery is the one named failure a search may raise), never an exception,
and none takes super-linear time on long repetitive input (a hang would stop this test).

Bounded: a few hundred examples each, well under a minute in all.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.export import escape_text, export_doi, export_url, plain_text
from core.keys import base_key, clean_source_key
from core.latex import latex_to_text, text_to_latex
from core.query import CitingContext, context_terms, text_terms
from core.records import Paper, fold, normalize_arxiv_id, normalize_doi, surname
from core.text import clean_citing_text, query_terms

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_PIECES = [
    "\\cite{", "\\citep[see][p. 3]{", "\\cite*<x>{", "\\textcite{", "}", "{", "$", "$$", "\\(", "\\)",
    "\\[", "\\]", "`", "```", "[@", "[-@", "@{", "@", "; @", "]", "[", "(", ")", "%", "\\%", "\\\\",
    "\\begin{", "\\end{", "verbatim", "(Smith et al., 2020)", "(Doe 2019; Roe 2021a)", "[12]", "[1-3, 5]",
    "http://x.org/a", "www.", "mailto:a@b.c", "a@b.org", "<sup>", "</i>", "\n", "\n\n", "# ", "> ", "- ",
    "1. ", "*", "**", "_", "__", "\\'", '\\"', "\\symbol{", "\\symbol{64}", "\\symbol{9999999}", "\\c",
    "\\u", "\\v{", "\\emph{", "\\texttt{", "\\mathrm{", "~", "--", "---", "``", "''", "{cite}`", "{cite:p}`",
    "![", "](", "et al.", "\x00", "\x01", "\x02", "\x03", "\ufffd", "\u2028", "é", "東京", "\U0001f600",
    "\ud800", "a", "the", "speculative decoding", " ",
]  # fmt: skip
piece = st.sampled_from(_PIECES)
# Long runs of one piece, the input that makes a backtracking pattern take exponential time.
runs = st.tuples(piece, st.integers(1, 400)).map(lambda pair: pair[0] * pair[1])
hostile = st.lists(st.one_of(piece, runs, st.text(max_size=8)), max_size=30).map("".join)


def _terms_ok(terms: Counter[str] | dict[str, float]) -> None:
    assert all(isinstance(term, str) and term and weight > 0 for term, weight in terms.items())


@FUZZ
@given(hostile)
def test_query_cleanup_returns_terms(text: str) -> None:
    cleaned = clean_citing_text(text)
    assert isinstance(cleaned, str)
    _terms_ok(query_terms(text))
    _terms_ok(text_terms(text))


@FUZZ
@given(hostile, hostile, hostile, hostile)
def test_context_terms_of_any_context(before: str, after: str, paragraph: str, title: str) -> None:
    terms = context_terms(CitingContext(before, after, paragraph, title))
    _terms_ok(terms)
    assert len(terms) <= 1024


@FUZZ
@given(hostile, st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1", "ascii"]))
def test_latex_helpers_return_text(text: str, encoding: str) -> None:
    plain = latex_to_text(text)
    assert isinstance(plain, str) and plain == plain.strip()
    written = text_to_latex(plain.replace("\ud800", "?"), encoding)
    written.encode(encoding)  # what it writes, the encoding holds


@FUZZ
@given(hostile, hostile, st.lists(hostile, max_size=3), st.one_of(st.none(), st.integers(-5, 10**6)))
def test_record_helpers_and_export_return_values(
    title: str, other: str, authors: list[str], year: int | None
) -> None:
    paper = Paper(key="", title=title or "t", authors=tuple(authors), year=year, abstract=other)
    assert isinstance(base_key(paper), str)
    assert clean_source_key(other) == clean_source_key(clean_source_key(other))
    assert isinstance(fold(other), str) and isinstance(surname(other), str)
    assert isinstance(normalize_doi(other), str) and isinstance(normalize_arxiv_id(other), str)
    assert "\n" not in escape_text(other) and "@" not in escape_text(other)
    assert plain_text(other) == plain_text(plain_text(other))
    for written in (export_url(other), export_doi(other)):
        assert written.isascii() and not set(written) & set('{}\\"@ \n')
