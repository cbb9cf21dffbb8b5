"""Crossref's `/works/{doi}`: metadata for a DOI, its abstract in JATS XML."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

from core.identifiers import split_arxiv_doi
from core.latex import latex_to_text
from core.records import Paper
from core.sources.http import BadResponse, json_answer

_TYPES = {
    "journal-article": "article", "proceedings-article": "inproceedings", "book-chapter": "incollection",
    "book": "book", "monograph": "book", "edited-book": "book", "posted-content": "misc",
    "dissertation": "phdthesis", "report": "techreport", "dataset": "misc", "reference-entry": "incollection",
}  # fmt: skip
_JATS_NAMESPACES = (
    'xmlns:jats="http://www.ncbi.nlm.nih.gov/JATS1" xmlns:mml="http://www.w3.org/1998/Math/MathML" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"'
)
_TAG = re.compile(r"<[^>]+>")
_HEADING = re.compile(r"<(?:jats:)?title>\s*(?:abstract|summary)\s*</(?:jats:)?title>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def work_url(base: str, doi: str) -> str:
    # DOIs hold `/`, `<`, `;` …: quote everything but the slashes, as Crossref expects.
    return f"{base.rstrip('/')}/works/{quote(doi, safe='/')}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def jats_to_text(markup: str) -> str:
    """Plain text of a JATS abstract: its paragraphs, one per line, without an `Abstract` heading."""
    markup = _HEADING.sub("", markup.strip())
    try:
        root = ET.fromstring(f"<root {_JATS_NAMESPACES}>{markup}</root>")
    except ET.ParseError:
        # Entities HTML knows and XML does not (&nbsp;), undeclared prefixes: read it as tag soup.
        pieces = re.split(r"</(?:jats:)?p>", markup)
        soup = [_SPACE.sub(" ", html.unescape(_TAG.sub(" ", piece))).strip() for piece in pieces]
        return "\n".join(line for line in soup if line)
    blocks = [element for element in root.iter() if _local(element.tag) == "p"] or [root]
    lines = [_SPACE.sub(" ", "".join(block.itertext())).strip() for block in blocks]
    return "\n".join(line for line in lines if line)


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def _string(value: Any) -> str:
    """A field that should hold text; any other JSON type holds nothing."""
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(person: dict[str, Any]) -> str:
    family, given = _string(person.get("family")), _string(person.get("given"))
    if family:
        return f"{family}, {given}" if given else family
    return _string(person.get("name"))


def _year(message: dict[str, Any]) -> int | None:
    for field in ("issued", "published", "published-print", "published-online", "created"):
        date = message.get(field)
        parts = date.get("date-parts") if isinstance(date, dict) else None
        first = parts[0] if isinstance(parts, list) and parts else None
        year = first[0] if isinstance(first, list) and first else None
        if isinstance(year, int) and not isinstance(year, bool) and abs(year) <= 9999:
            return year
    return None


def parse_work(body: bytes) -> dict[str, Any]:
    """The `message` of a `/works/{doi}` answer; BadResponse if it is not one."""
    answer = json_answer(body, "Crossref")
    if not isinstance(answer, dict) or not isinstance(answer.get("message"), dict):
        raise BadResponse("Crossref's answer has no work in it")
    return answer["message"]


def work_to_paper(message: dict[str, Any], origin: str) -> Paper:
    title = latex_to_text(" ".join(_first(message.get("title")).split()))
    subtitle = _first(message.get("subtitle"))
    if subtitle and title and not title.endswith((":", "?", "!")):
        title = f"{title}: {latex_to_text(subtitle)}"
    doi, arxiv_id = split_arxiv_doi(str(message.get("DOI") or ""))
    extra = [
        (name, str(message[field]))
        for name, field in (
            ("pages", "page"),
            ("volume", "volume"),
            ("number", "issue"),
            ("publisher", "publisher"),
        )
        if message.get(field)
    ]
    return Paper(
        key="",
        title=title,
        abstract=jats_to_text(str(message.get("abstract") or "")),
        authors=tuple(
            n for n in (_name(p) for p in _list(message.get("author")) if isinstance(p, dict)) if n
        ),
        year=_year(message),
        venue=latex_to_text(_first(message.get("container-title"))),
        doi=doi,
        arxiv_id=arxiv_id,
        entry_type=_TYPES.get(str(message.get("type") or ""), "misc"),
        extra=tuple(extra),
        origin=origin,
        format="crossref",
    )
