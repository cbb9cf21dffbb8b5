"""Fuzzing the readers: whatever a file holds, each reader gives records, failures naming a line,
or warnings — never an exception — and a format it does not know is UnsupportedFormat.

Bounded: a few hundred examples each, the whole file in well under a minute.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.decoding import decode_bytes
from core.formats import iter_file_records, parse_text
from core.records import Paper, ParseFailure, ParseWarning, UnsupportedFormat

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- BibTeX: text built from the pieces BibTeX is made of, in any order ---------------------------

_BIBTEX_PIECES = [
    "@article{", "@misc(", "@string{", "@preamble{", "@comment{", "@", "key,", "k2,", "title", "author",
    "year", "doi", "url", "eprint", "archiveprefix = {arXiv}", "keywords", "editor", "journal", " = ",
    "=", "{", "}", "(", ")", '"', "#", ",", "\n", " and ", "others", "\\", "\\'e", '\\"{u}', "$x$",
    "--", "2021", "%", "~", "{{", "}}", "\r\n", "\t", "10.1000/x", "\x00", "é", "\ufffd",
]  # fmt: skip
bibtex_text = st.lists(st.one_of(st.sampled_from(_BIBTEX_PIECES), st.text(max_size=5)), max_size=60).map(
    "".join
)

# --- JSON: values of any shape under the names the readers look for --------------------------------

_NAMES = [
    "title", "abstract", "author", "authors", "authors_parsed", "year", "doi", "DOI", "url", "URL", "id",
    "key", "citation-key", "issued", "date-parts", "raw", "literal", "family", "given", "versions",
    "created", "categories", "journal-ref", "container-title", "keyword", "keywords", "type", "note",
    "number", "venue", "arxiv", "arxiv_id", "update_date", "non-dropping-particle", "display_name",
    "authorships", "abstract_inverted_index", "publication_year", "locations", "primary_location",
    "landing_page_url", "pdf_url", "source", "host_venue", "ids", "concepts", "keywords", "event-title",
]  # fmt: skip
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_NAMES), inner, max_size=6)
    ),
    max_leaves=25,
)


def _shaped(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with any of these fields, each either its usual shape or any JSON at all."""
    return st.fixed_dictionaries(
        {}, optional={name: st.one_of(shape, json_values) for name, shape in fields.items()}
    )


text = st.text(max_size=12)
person = _shaped(family=text, given=text, literal=text, **{"non-dropping-particle": text})
date = _shaped(raw=text, literal=text, **{"date-parts": st.lists(st.lists(st.one_of(st.integers(), text)))})
location = _shaped(landing_page_url=text, pdf_url=text, source=_shaped(display_name=text))
records = st.one_of(
    st.dictionaries(st.sampled_from(_NAMES), json_values, max_size=10),
    _shaped(  # CSL-JSON
        title=text, id=text, author=st.lists(person, max_size=3), issued=date, created=date,
        keyword=st.one_of(text, st.lists(text)), type=text, DOI=text, URL=text, note=text,
        **{"container-title": text, "citation-key": text},
    ),
    _shaped(  # the arXiv snapshot
        id=text, title=text, abstract=text, categories=text, doi=text, update_date=text,
        authors=text, authors_parsed=st.lists(st.lists(text, max_size=3), max_size=3),
        versions=st.lists(_shaped(created=text), max_size=2), **{"journal-ref": text},
    ),
    _shaped(  # OpenAlex works
        title=text, display_name=text, doi=text, publication_year=st.integers(), type=text,
        authorships=st.lists(_shaped(author=_shaped(display_name=text)), max_size=3),
        abstract_inverted_index=st.dictionaries(text, st.lists(st.integers(-5, 50), max_size=3), max_size=5),
        primary_location=location, locations=st.lists(location, max_size=2),
        ids=_shaped(doi=text, arxiv=text), keywords=st.lists(_shaped(display_name=text), max_size=2),
    ),
)  # fmt: skip
openalex_ids = st.sampled_from(["https://openalex.org/W123", "W1", "2101.00001", "hep-th/9901001"])


def _check(items: list[Any]) -> None:
    for item in items:
        assert isinstance(item, Paper | ParseFailure | ParseWarning), item
        if isinstance(item, Paper):
            assert item.title.strip()
        else:
            assert item.reason and item.line >= 0
            # The readers' last resort for a shape they do not check: finding one is a bug here.
            assert "unexpected shape" not in item.reason, item


@FUZZ
@given(bibtex_text)
def test_bibtex_reader(text: str) -> None:
    _check(list(parse_text(text, "fuzz.bib", "bibtex")))


@FUZZ
@given(st.lists(st.one_of(records, json_values), max_size=5), st.sampled_from(["", "[", "]", ",", "x"]))
def test_csl_json_reader(items: list[Any], noise: str) -> None:
    text = json.dumps(items)
    for variant in (text, text[: len(text) // 2], noise + text, text + noise, noise):
        _check(list(parse_text(variant, "fuzz.json", "csl-json")))


@FUZZ
@given(st.lists(st.one_of(records, json_values, st.text(max_size=20)), max_size=6), openalex_ids)
def test_json_lines_reader(lines: list[Any], openalex: str) -> None:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    _check(list(parse_text(text, "fuzz.jsonl", "json-lines")))
    # The same records as arXiv and OpenAlex rows, so those readers see every shape too.
    dicts = [line for line in lines if isinstance(line, dict)]
    arxiv = "\n".join(
        json.dumps({**d, "id": d.get("id", "2101.00001"), "versions": d.get("versions", [])}) for d in dicts
    )
    works = "\n".join(json.dumps({**d, "id": openalex}) for d in dicts)
    _check(list(parse_text(arxiv, "fuzz.jsonl", "json-lines")))
    _check(list(parse_text(works, "fuzz.jsonl", "json-lines")))


@FUZZ
@given(st.text(max_size=200))
def test_format_detection_names_what_it_does_not_know(text: str) -> None:
    try:
        items = list(parse_text(text, "fuzz.txt"))
    except UnsupportedFormat as error:
        assert "fuzz.txt" in str(error)
        return
    _check(items)


@FUZZ
@given(
    st.binary(max_size=300),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x1f\x8b", b"% Encoding: latin-1\n"]),
)
def test_any_bytes_in_a_file_give_records_or_named_failures(data: bytes, prefix: bytes) -> None:
    decoded = decode_bytes(prefix + data)
    assert isinstance(decoded.text, str) and decoded.bad_count >= len(decoded.bad)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.bib"
        for body in (prefix + data, b"@misc{k, title={" + data + b"}}\n", b'{"title": "' + data + b'"}\n'):
            path.write_bytes(body)
            _check(list(iter_file_records(path)))
