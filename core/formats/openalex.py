"""OpenAlex works: the API's `/works` answers and the snapshot's JSON Lines share one shape."""

from __future__ import annotations

import re
from typing import Any

from core.identifiers import find_identifiers, split_arxiv_doi
from core.latex import latex_to_text
from core.records import Paper, ParseFailure

_TYPES = {
    "article": "article", "preprint": "misc", "book-chapter": "incollection", "book": "book",
    "dissertation": "phdthesis", "report": "techreport", "dataset": "misc", "review": "article",
}  # fmt: skip
_OPENALEX_ID = re.compile(r"^https?://openalex\.org/(W\d+)$", re.IGNORECASE)


def abstract_from_inverted_index(index: Any) -> str:
    """OpenAlex keeps abstracts as {word: [positions]}; put the words back in order."""
    if not isinstance(index, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        if isinstance(positions, list):
            for position in positions:
                if isinstance(position, int) and 0 <= position < 100_000:
                    placed[position] = str(word)
    return " ".join(placed[p] for p in sorted(placed))


def is_openalex_work(record: dict[str, Any]) -> bool:
    return isinstance(record.get("id"), str) and bool(_OPENALEX_ID.match(record["id"]))


def openalex_id(record: dict[str, Any]) -> str:
    match = _OPENALEX_ID.match(str(record.get("id", "")))
    return match.group(1).upper() if match else ""


def _items(value: Any) -> list[Any]:
    """A field that should hold a list; anything else holds nothing."""
    return value if isinstance(value, list) else []


def _arxiv_in_locations(record: dict[str, Any]) -> str:
    for location in _items(record.get("locations")):
        if isinstance(location, dict):
            for field in ("landing_page_url", "pdf_url"):
                for found in find_identifiers(str(location.get(field) or "")):
                    if found.identifier.kind == "arxiv":
                        return found.identifier.value
    return ""


def work_to_paper(record: dict[str, Any], path: str, line: int) -> Paper | ParseFailure:
    """A Paper from an OpenAlex work object (`origin` is `path:line`)."""
    title = latex_to_text(str(record.get("title") or record.get("display_name") or ""))
    if not title:
        return ParseFailure(path, line, f"OpenAlex work {openalex_id(record) or '?'} has no title")
    doi, arxiv_id = split_arxiv_doi(re.sub(r"^https?://doi\.org/", "", str(record.get("doi") or "")))
    authors = []
    for authorship in _items(record.get("authorships")):
        if isinstance(authorship, dict):
            author = authorship.get("author") or {}
            name = (author.get("display_name") if isinstance(author, dict) else None) or authorship.get(
                "raw_author_name"
            )
            if name:
                authors.append(str(name))
    location = record.get("primary_location") or {}
    source = location.get("source") if isinstance(location, dict) else None
    venue = str(source.get("display_name") or "") if isinstance(source, dict) else ""
    year = record.get("publication_year")
    keywords = [
        str(k.get("display_name"))
        for k in _items(record.get("keywords"))
        if isinstance(k, dict) and k.get("display_name")
    ]
    arxiv_id = arxiv_id or _arxiv_in_locations(record)
    if venue.lower().startswith("arxiv"):
        venue = ""
    return Paper(
        key="",
        title=title,
        abstract=abstract_from_inverted_index(record.get("abstract_inverted_index")),
        authors=tuple(authors),
        year=year if isinstance(year, int) and 1000 < year < 3000 else None,
        venue=venue,
        doi=doi,
        arxiv_id=arxiv_id,
        keywords=tuple(keywords),
        entry_type=_TYPES.get(str(record.get("type") or ""), "misc"),
        origin=f"{path}:{line}",
        format="openalex",
    )
