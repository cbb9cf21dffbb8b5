"""JSON-based formats: CSL-JSON (Zotero, Better BibTeX), the arXiv metadata snapshot, JSON Lines."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from core.formats.openalex import is_openalex_work
from core.formats.openalex import work_to_paper as openalex_work_to_paper
from core.latex import latex_to_text
from core.records import Paper, ParseFailure, normalize_arxiv_id, normalize_doi, without_surrogates

_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]+(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+/\d{7})", re.IGNORECASE)
_CSL_TYPES = {
    "article-journal": "article", "article": "article", "paper-conference": "inproceedings",
    "chapter": "incollection", "book": "book", "thesis": "phdthesis", "report": "techreport",
    "dataset": "misc", "software": "software", "webpage": "online", "manuscript": "unpublished",
}  # fmt: skip


def _text(value: Any) -> str:
    return latex_to_text(value) if isinstance(value, str) else ""


def _year(value: Any) -> int | None:
    match = _YEAR.search(str(value)) if value not in (None, "") else None
    return int(match.group(1)) if match else None


def _list(value: Any) -> list[Any]:
    """A field that should hold a list; anything else holds nothing."""
    return value if isinstance(value, list) else []


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v and isinstance(v, str | int | float)]
    if isinstance(value, str) and value.strip():
        return [part.strip() for part in re.split(r"[;,]" if ";" in value or "," in value else r"\n", value)]
    return []


# --- CSL-JSON -----------------------------------------------------------------------------------


def _csl_name(person: dict[str, Any]) -> str:
    if person.get("literal"):
        return _text(person["literal"])
    family = " ".join(filter(None, [_text(person.get("non-dropping-particle")), _text(person.get("family"))]))
    given = _text(person.get("given"))
    return f"{family}, {given}" if family and given else family


def _csl_year(item: dict[str, Any]) -> int | None:
    for field in ("issued", "published-print", "published-online", "created"):
        date = item.get(field)
        if isinstance(date, dict):
            parts = date.get("date-parts")
            if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] and parts[0][0]:
                return _year(parts[0][0])
            if date.get("raw") or date.get("literal"):
                return _year(date.get("raw") or date.get("literal"))
    return None


def csl_item_to_paper(item: dict[str, Any], path: str, line: int) -> Paper | ParseFailure:
    title = _text(item.get("title"))
    if not title:
        return ParseFailure(path, line, f"item {item.get('id', '?')!r} has no title")
    arxiv = _ARXIV_IN_TEXT.search(" ".join(str(item.get(f, "")) for f in ("note", "URL", "number")))
    return Paper(
        key=str(item.get("citation-key") or item.get("id") or "").strip(),
        title=title,
        abstract=_text(item.get("abstract")),
        authors=tuple(
            name for name in (_csl_name(p) for p in _list(item.get("author")) if isinstance(p, dict)) if name
        ),
        year=_csl_year(item),
        venue=_text(item.get("container-title") or item.get("event-title")),
        doi=normalize_doi(str(item.get("DOI", ""))),
        url=str(item.get("URL", "")),
        arxiv_id=normalize_arxiv_id(arxiv.group(1)) if arxiv else "",
        keywords=tuple(_as_list(item.get("keyword"))),
        entry_type=_CSL_TYPES.get(str(item.get("type", "")), "misc"),
        origin=f"{path}:{line}",
        format="csl-json",
    )


def _top_level_items(text: str) -> Iterator[tuple[int, Any]]:
    """(offset, value) for each element of a JSON array, so errors and records carry line numbers."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return
        value, end = decoder.raw_decode(text, position)
        yield position, value
        position = end


# JSON can spell a lone surrogate (`"\\ud800"`), which no store or index can hold (read as U+FFFD).
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# A record's fields can hold any JSON; the readers check the shapes they use (the fuzz tests in
# tests/core/test_fuzz_readers.py look for ones they miss), and a shape still missed fails that
# record alone, with its line, instead of the file.
_SHAPE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


def _unexpected_shape(path: str, line: int, error: Exception) -> ParseFailure:
    return ParseFailure(path, line, f"a field of an unexpected shape ({type(error).__name__}: {error})")


def parse_csl_json(text: str, path: str) -> Iterator[Paper | ParseFailure]:
    newlines = [i for i, c in enumerate(text) if c == "\n"]

    def line_of(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    if "[" not in text:
        yield ParseFailure(path, 1, "not a JSON array of items")
        return
    surrogates = _LONE_SURROGATE_ESCAPE.search(text) is not None
    try:
        for offset, item in _top_level_items(text):
            if surrogates:
                item = without_surrogates(item)
            if isinstance(item, dict):
                try:
                    paper = csl_item_to_paper(item, path, line_of(offset))
                except _SHAPE_ERRORS as error:
                    paper = _unexpected_shape(path, line_of(offset), error)
                yield paper
            else:
                yield ParseFailure(path, line_of(offset), "expected a JSON object for each item")
    except json.JSONDecodeError as error:
        yield ParseFailure(path, error.lineno, f"invalid JSON: {error.msg}; the items after it are skipped")
    except RecursionError:
        yield ParseFailure(path, 0, "invalid JSON: nested too deeply to read")


def looks_like_csl_json(head: str) -> bool:
    return head.lstrip().startswith("[")


# --- arXiv snapshot and plain JSON Lines -------------------------------------------------------


def _arxiv_year(record: dict[str, Any]) -> int | None:
    versions = record.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        year = _year(versions[0].get("created", ""))
        if year:
            return year
    new_style = re.match(r"^(\d\d)(\d\d)\.\d{4,5}", str(record.get("id", "")))
    if new_style:
        return 2000 + int(new_style.group(1))
    return _year(record.get("update_date"))


def _arxiv_authors(record: dict[str, Any]) -> tuple[str, ...]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list):
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                family, given = _text(parts[0]), _text(" ".join(p for p in parts[1:] if isinstance(p, str)))
                names.append(f"{family}, {given}" if given else family)
        return tuple(n for n in names if n)
    return tuple(latex_to_text(a) for a in _AND_OR_COMMA.split(str(record.get("authors", ""))) if a.strip())


_AND_OR_COMMA = re.compile(r",\s*|\s+and\s+")


def arxiv_record_to_paper(record: dict[str, Any], path: str, line: int) -> Paper | ParseFailure:
    title = _text(record.get("title"))
    arxiv_id = normalize_arxiv_id(str(record.get("id", "")))
    if not title or not arxiv_id:
        return ParseFailure(path, line, "arXiv record without an id or a title")
    return Paper(
        key="",
        title=title,
        abstract=_text(record.get("abstract")),
        authors=_arxiv_authors(record),
        year=_arxiv_year(record),
        venue=_text(record.get("journal-ref")),
        doi=normalize_doi(str(record.get("doi") or "")),
        arxiv_id=arxiv_id,
        entry_type="article" if record.get("journal-ref") else "misc",
        extra=(("primaryclass", str(record["categories"]).split()[0]),)
        if str(record.get("categories") or "").strip()
        else (),
        origin=f"{path}:{line}",
        format="arxiv",
    )


def jsonl_record_to_paper(record: dict[str, Any], path: str, line: int) -> Paper | ParseFailure:
    title = _text(record.get("title"))
    if not title:
        return ParseFailure(path, line, "record has no title")
    authors = record.get("authors") or record.get("author") or []
    return Paper(
        key=str(record.get("key") or record.get("id") or "").strip(),
        title=title,
        abstract=_text(record.get("abstract")),
        authors=tuple(
            name
            for name in (_text(a) for a in (authors if isinstance(authors, list) else _as_list(authors)))
            if name
        ),
        year=_year(record.get("year")),
        venue=_text(record.get("venue") or record.get("journal")),
        doi=normalize_doi(str(record.get("doi") or "")),
        url=str(record.get("url") or ""),
        arxiv_id=normalize_arxiv_id(str(record.get("arxiv_id") or record.get("arxiv") or "")),
        keywords=tuple(_as_list(record.get("keywords"))),
        origin=f"{path}:{line}",
        format="jsonl",
    )


def is_arxiv_record(record: dict[str, Any]) -> bool:
    return "id" in record and ("authors_parsed" in record or "versions" in record or "categories" in record)


def parse_json_lines(lines: Iterable[str], path: str, first_line: int = 1) -> Iterator[Paper | ParseFailure]:
    """The arXiv snapshot, OpenAlex works and plain {title, abstract, …} lines; each line decides
    for itself.

    `first_line` numbers the first of `lines` when they are a piece of a bigger file.
    """
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "\\u" in line and _LONE_SURROGATE_ESCAPE.search(line):
                record = without_surrogates(record)
        except json.JSONDecodeError as error:
            yield ParseFailure(path, number, f"invalid JSON: {error.msg} (column {error.colno})")
            continue
        except RecursionError:
            yield ParseFailure(path, number, "invalid JSON: nested too deeply to read")
            continue
        if not isinstance(record, dict):
            yield ParseFailure(path, number, "expected a JSON object")
            continue
        if is_arxiv_record(record):
            convert = arxiv_record_to_paper
        elif is_openalex_work(record):
            convert = openalex_work_to_paper
        else:
            convert = jsonl_record_to_paper
        try:
            paper = convert(record, path, number)
        except _SHAPE_ERRORS as error:
            paper = _unexpected_shape(path, number, error)
        yield paper


def looks_like_json_lines(head: str) -> bool:
    first = head.lstrip().split("\n", 1)[0]
    return first.startswith("{")
