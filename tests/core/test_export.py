"""BibTeX export that no field value can break out of.

"The same field values" is defined in core/export.py and checked here: read back with bibtexparser
and papercite's own BibTeX reader, a text field is `plain_text` of what was given (one line, white
space runs one space, control characters dropped), an author list or keyword list the same items,
a URL or DOI the value given once percent-decoded; a URL that is not http(s)/ftp, a DOI or arXiv id
that is not one, and a field name that is not an identifier are left out.
"""

from __future__ import annotations

from urllib.parse import unquote

import bibtexparser
import pytest
from bibtexparser.model import Entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.export import (
    UnexportableKey,
    bibtex_comment,
    export_arxiv_id,
    export_doi,
    export_url,
    plain_text,
    to_bibtex,
)
from core.formats.bibtex import _KEPT_FIELDS, _MAIN_FIELDS, entry_to_paper, parse_bibtex
from core.records import Paper, normalize_arxiv_id, normalize_doi

# The review's reproductions: a link that closes its field, and one that adds a @preamble and an entry.
INJECTED_NOTE = "https://x.example/a},note={INJECTED"
INJECTED_PREAMBLE = 'https://x.example/}}@preamble{"\\typeout{PWNED}\\input{/etc/hostname}"}@misc{pad,note={'

_HOSTILE = [
    "}", "{", "@", "\\", "--", "---", "``", "''", "<b>", "</i>", "%", "\n@preamble{", "},note={",
    " and ", "and", ",", ";", "others", "$", "~", "^", "&", "#", "_", "\\symbol{64}", "\\textbraceleft{}",
    "\x00", "\x01", "\x1b", "\x85", "\u2028", "\r\n", "\t", "\"", "=", "@misc{x,", "\\\\", "%7B", "%zz",
    "é", "東京", "\U0001f600", "\ufeff", " ",
]  # fmt: skip
hostile_text = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(_HOSTILE)), max_size=8).map("".join)
kept_names = sorted(_KEPT_FIELDS - _MAIN_FIELDS - {"howpublished"})
keys = st.from_regex(r"[A-Za-z0-9_:./+-]{1,24}", fullmatch=True)
entry_types = st.one_of(
    st.sampled_from(["article", "inproceedings", "incollection", "misc", "book", "Online"]), hostile_text
)
urls = st.one_of(
    st.builds(
        lambda scheme, rest: scheme + rest,
        st.sampled_from(["https://", "HTTP://x", "ftp://h/", "javascript:", ""]),
        hostile_text,
    )
)
dois = st.one_of(st.builds(lambda rest: "10.1234/" + rest, hostile_text), hostile_text)
arxiv_ids = st.one_of(
    st.sampled_from(["1706.03762", "2401.00001v2", "hep-th/9901001", "math.GT/0309136"]), hostile_text
)
extras = st.lists(st.tuples(st.one_of(st.sampled_from(kept_names), hostile_text), hostile_text), max_size=4)


def _read_back(text: str) -> Paper:
    """The one entry in `text`, after checking the file holds nothing else."""
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    assert len(library.blocks) == 1 and isinstance(library.blocks[0], Entry)
    # One `@` (the entry's), one field per line, braces balanced on every line.
    assert text.count("@") == 1 and text.endswith("\n}\n")
    for line in text.splitlines()[1:-1]:
        depth = 0
        for char in line:
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, line
        assert depth == 0, line
    paper = entry_to_paper(library.entries[0], "-")
    assert isinstance(paper, Paper)
    # papercite's own reader (its fast path when it can) reads the same.
    assert list(parse_bibtex(text, "-")) == [paper]
    return paper


def _expected_extra(paper: Paper) -> dict[str, str]:
    expected: dict[str, str] = {}
    if paper.entry_type.lower() not in ("article", "inproceedings", "incollection") and plain_text(
        paper.venue
    ):
        expected["howpublished"] = plain_text(paper.venue)
    for name, value in paper.extra:
        if name in _KEPT_FIELDS and name not in _MAIN_FIELDS and plain_text(value):
            expected.setdefault(name, plain_text(value))
    return expected


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=keys,
    entry_type=entry_types,
    title=hostile_text.filter(lambda t: plain_text(t) != ""),
    abstract=hostile_text,
    authors=st.lists(hostile_text, max_size=4),
    venue=hostile_text,
    year=st.one_of(st.none(), st.integers(1500, 2999)),
    doi=dois,
    url=urls,
    arxiv_id=arxiv_ids,
    keywords=st.lists(hostile_text, max_size=4),
    extra=extras,
)
def test_any_field_values_export_to_one_entry_with_the_same_values(
    key: str,
    entry_type: str,
    title: str,
    abstract: str,
    authors: list[str],
    venue: str,
    year: int | None,
    doi: str,
    url: str,
    arxiv_id: str,
    keywords: list[str],
    extra: list[tuple[str, str]],
) -> None:
    paper = Paper(
        key=key, title=title, abstract=abstract, authors=tuple(authors), year=year, venue=venue, doi=doi,
        url=url, arxiv_id=arxiv_id, keywords=tuple(keywords), entry_type=entry_type, extra=tuple(extra),
    )  # fmt: skip
    back = _read_back(to_bibtex(paper))
    assert back.key == key
    assert back.entry_type == (
        entry_type.lower() if entry_type.isascii() and entry_type.isalpha() else "misc"
    )
    assert back.title == plain_text(title)
    assert back.abstract == plain_text(abstract)
    names = [plain_text(a) for a in authors]
    assert back.authors == tuple(n for n in names if n and n.lower() != "others")
    assert back.year == year
    assert back.keywords == tuple(k for k in map(plain_text, keywords) if k)
    venue_field = back.entry_type in ("article", "inproceedings", "incollection")
    assert back.venue == (plain_text(venue) if venue_field else "")
    assert dict(back.extra) == _expected_extra(paper)
    assert back.doi == (normalize_doi(doi) if export_doi(doi) else "")
    assert unquote(back.url) == (unquote(url.strip()) if export_url(url) else "")
    assert back.arxiv_id == (normalize_arxiv_id(arxiv_id) if export_arxiv_id(arxiv_id) else "")


@pytest.mark.parametrize("url", [INJECTED_NOTE, INJECTED_PREAMBLE])
def test_the_reviews_links_stay_inside_their_field(url: str) -> None:
    text = to_bibtex(Paper(key="victim2024", title="A Paper", url=url, entry_type="misc"))
    back = _read_back(text)
    assert back.url.startswith("https://x.example/") and "{" not in back.url and "@" not in back.url
    assert unquote(back.url) == url
    fields = bibtexparser.parse_string(text).entries[0].fields_dict
    assert sorted(fields) == ["title", "url"]


def test_the_preamble_link_appended_to_a_bib_adds_one_entry_and_no_preamble(tmp_path: object) -> None:
    from pathlib import Path

    from core.bibfile import append_entries

    refs = Path(str(tmp_path)) / "refs.bib"
    refs.write_text("@article{mine, title={Mine}}\n", encoding="utf-8")
    append_entries(refs, [to_bibtex(Paper(key="pad2024", title="Pad", url=INJECTED_PREAMBLE))])
    library = bibtexparser.parse_string(refs.read_text(encoding="utf-8"))
    assert [e.key for e in library.entries] == ["mine", "pad2024"]
    assert len(library.blocks) == 2 and not library.failed_blocks


def test_text_is_escaped_so_latex_and_bibtex_read_it_as_text() -> None:
    text = to_bibtex(Paper(key="k", title="50% of {A} & B -- C", abstract="x @misc{y, \\input{z}} ~^ <i>"))
    assert r"{{50\% of \textbraceleft{}A\textbraceright{} \& B -{}- C}}" in text
    assert r"\symbol{64}misc\textbraceleft{}y, \textbackslash{}input" in text
    assert r"\textasciitilde{}\textasciicircum{} \textless{}i\textgreater{}" in text
    back = _read_back(text)
    assert back.title == "50% of {A} & B -- C" and back.abstract == "x @misc{y, \\input{z}} ~^ <i>"


def test_an_author_or_keyword_holding_a_separator_stays_one() -> None:
    paper = Paper(
        key="k", title="T", authors=("Barnes and Noble", "Doe, Jane"), keywords=("a, b", "c; d", "e")
    )
    text = to_bibtex(paper)
    assert "author = {{Barnes and Noble} and Doe, Jane}" in text
    back = _read_back(text)
    assert back.authors == paper.authors and back.keywords == paper.keywords


def test_urls_and_dois_are_validated_and_percent_encoded() -> None:
    assert export_url("javascript:alert(1)") == "" and export_url("not a url") == ""
    assert export_url(" https://a.example/x y?q=%41&r=%zz ") == "https://a.example/x%20y?q=%41&r=%25zz"
    assert export_url("https://a.example/ü") == "https://a.example/%C3%BC"
    assert export_doi("https://doi.org/10.1002/(SICI)1097<693::AID>3.0.CO;2-0") == (
        "10.1002/(sici)1097%3C693::aid%3E3.0.co;2-0"
    )
    assert export_doi("10.1000/a}b%c#d") == "10.1000/a%7Db%25c%23d"
    assert export_doi("arXiv:1706.03762") == "" and export_doi("10.12/x") == ""
    assert export_arxiv_id("1706.03762v5") == "1706.03762v5" and export_arxiv_id("1706.03762},x={") == ""


def test_a_lone_surrogate_is_written_as_a_replacement_character() -> None:
    text = to_bibtex(Paper(key="k", title="A \ud800 title", url="https://x.example/\udfff"))
    text.encode("utf-8")  # a file can hold it
    back = _read_back(text)
    assert back.title == "A \ufffd title" and unquote(back.url) == "https://x.example/\ufffd"


@pytest.mark.parametrize("key", ["", "a b", "a,b", "k}", "k@x", "k{", "m\u00fcller"])
def test_a_key_bibtex_cannot_hold_is_refused_by_name(key: str) -> None:
    with pytest.raises(UnexportableKey, match="cannot be written to BibTeX"):
        to_bibtex(Paper(key=key, title="T"))


def test_an_invalid_entry_type_becomes_misc() -> None:
    text = to_bibtex(Paper(key="k", title="T", entry_type="article{x,title={y}}@preamble"))
    assert text.startswith("@misc{k,\n") and _read_back(text).entry_type == "misc"


def test_a_short_entry_is_whole_and_balanced() -> None:
    paper = Paper(
        key="long2024",
        title="T " * 3000,
        abstract="{word} " * 2000,
        authors=tuple(f"A{i}, B" for i in range(500)),
    )
    for limit in (500, 1500, 2990):
        text = to_bibtex(paper, max_chars=limit)
        assert len(text) <= limit
        assert _read_back(text).key == "long2024"
    short = Paper(key="s", title="Short", abstract="{x} " * 500)
    clipped = to_bibtex(short, max_chars=1000)
    assert len(clipped) <= 1000 and _read_back(clipped).abstract.endswith("…")


def test_comment_lines_hold_no_entry() -> None:
    line = bibtex_comment("Title\n@misc{x, title={y}}")
    assert "\n" not in line and "@" not in line and line.startswith("% ")
