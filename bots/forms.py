"""The /paper add form: submitted values → papers, or an error per field. Pure, so tested directly."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bots.links import identifiers_in_command
from core.formats.bibtex import parse_bibtex
from core.records import Paper, ParseFailure, normalize_doi

_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s<>|]+$")
_AUTHOR_SEPARATORS = re.compile(r"\n|;|\s+and\s+")


def submitted_values(view: Mapping[str, Any]) -> dict[str, str]:
    """{block id: text} from a view_submission's state."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return {}
    submitted = {}
    for block, fields in values.items():
        element = fields.get("value") if isinstance(fields, dict) else None
        text = element.get("value") if isinstance(element, dict) else None
        submitted[block] = text.strip() if isinstance(text, str) else ""
    return submitted


def form_metadata(view: Mapping[str, Any]) -> dict[str, str]:
    """The channel and user the form was opened from (written by /paper add); {} when unreadable."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, TypeError, RecursionError):
        return {}
    if not isinstance(metadata, dict):
        return {}
    return {name: value for name, value in metadata.items() if isinstance(value, str)}


def papers_from_bibtex(text: str, origin: str) -> tuple[list[Paper], dict[str, str]]:
    papers, problems = [], []
    for item in parse_bibtex(text, "pasted"):
        if isinstance(item, ParseFailure):
            problems.append(f"line {item.line}: {item.reason}")
        else:
            papers.append(item.replace(origin=origin, format="slack"))
    if problems:
        return [], {"bibtex": "; ".join(problems)[:150]}
    if not papers:
        return [], {"bibtex": "No BibTeX entry found: it should start like @article{key, …}"}
    return papers, {}


def identifiers_from_form(values: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The form's "DOI or arXiv link", which fills in the rest: (identifiers, errors by block)."""
    text = values.get("identifier", "")
    if not text:
        return [], {}
    identifiers = identifiers_in_command(text)
    if not identifiers:
        return [], {
            "identifier": "Give a DOI (10.1145/…), an arXiv id or link (arXiv:2404.11912), or a doi.org link"
        }
    return identifiers, {}


def papers_from_form(values: Mapping[str, str], user_id: str) -> tuple[list[Paper], dict[str, str]]:
    """The papers to add, or (nothing, errors keyed by the block they belong to)."""
    origin = f"slack:{user_id}"
    if values.get("bibtex"):
        return papers_from_bibtex(values["bibtex"], origin)

    errors: dict[str, str] = {}
    title = " ".join(values.get("title", "").split())
    if not title:
        errors["title"] = "A title is needed (or paste a BibTeX entry below)"
    year = None
    if values.get("year"):
        if re.fullmatch(r"1[5-9]\d\d|20\d\d|2100", values["year"]):
            year = int(values["year"])
        else:
            errors["year"] = "A year is four digits, like 2024"
    doi = url = ""
    link = values.get("link", "")
    if link:
        doi_match = _DOI.match(link)
        if doi_match:
            doi = normalize_doi(doi_match.group(1))
        elif _URL.match(link):
            url = link
        else:
            errors["link"] = "Give a DOI (10.1234/abc) or a web address starting with https://"
    if errors:
        return [], errors
    authors = tuple(a.strip() for a in _AUTHOR_SEPARATORS.split(values.get("authors", "")) if a.strip())
    paper = Paper(
        key="",
        title=title,
        abstract=" ".join(values.get("abstract", "").split()),
        authors=authors,
        year=year,
        doi=doi,
        url=url,
        origin=origin,
        format="slack",
    )
    return [paper], {}
