"""The JSON form of papers, hits and ingest reports between `papercite serve` and its clients.

Lossless for every field a record keeps (unlike `Hit.to_json`, the CLI's shorter shape), so a
paper read over the network is the same `Paper` as one read from a folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.records import IngestReport, Paper, ParseFailure, ParseWarning
from core.search import Hit


class WireError(ValueError):
    """A JSON body that is not a paper, a hit or a report; the message names the field."""


def paper_to_json(paper: Paper) -> dict[str, Any]:
    record: dict[str, Any] = {"key": paper.key, "title": paper.title}
    optional: dict[str, Any] = {
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "year": paper.year,
        "venue": paper.venue,
        "doi": paper.doi,
        "url": paper.url,
        "arxiv_id": paper.arxiv_id,
        "keywords": list(paper.keywords),
        "title_derived": paper.title_derived,
        "extra": [list(pair) for pair in paper.extra],
        "origin": paper.origin,
        "format": paper.format,
    }
    record.update({name: value for name, value in optional.items() if value})
    if paper.entry_type != "article":
        record["entry_type"] = paper.entry_type
    return record


def _text(raw: dict[str, Any], name: str, default: str = "") -> str:
    value = raw.get(name, default)
    if not isinstance(value, str):
        raise WireError(f"paper field {name!r} must be a string")
    return value


def _texts(raw: dict[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WireError(f"paper field {name!r} must be a list of strings")
    return tuple(value)


def paper_from_json(raw: object) -> Paper:
    if not isinstance(raw, dict):
        raise WireError("a paper must be a JSON object")
    year = raw.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or abs(year) > 9999):
        raise WireError("paper field 'year' must be a whole number from -9999 to 9999")
    extra = raw.get("extra", [])
    if not isinstance(extra, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair) for pair in extra
    ):
        raise WireError("paper field 'extra' must be a list of [name, value] pairs")
    title = _text(raw, "title")
    if not title.strip():
        raise WireError("a paper needs a 'title'")
    return Paper(
        key=_text(raw, "key"),
        title=title,
        abstract=_text(raw, "abstract"),
        authors=_texts(raw, "authors"),
        year=year,
        venue=_text(raw, "venue"),
        doi=_text(raw, "doi"),
        url=_text(raw, "url"),
        arxiv_id=_text(raw, "arxiv_id"),
        keywords=_texts(raw, "keywords"),
        entry_type=_text(raw, "entry_type", "article"),
        title_derived=bool(raw.get("title_derived", False)),
        extra=tuple((name, value) for name, value in extra),
        origin=_text(raw, "origin"),
        format=_text(raw, "format"),
    )


def hit_to_json(hit: Hit) -> dict[str, Any]:
    return {"paper": paper_to_json(hit.paper), "score": hit.score, "rank": hit.rank}


def hit_from_json(raw: dict[str, Any]) -> Hit:
    return Hit(paper_from_json(raw["paper"]), float(raw["score"]), int(raw["rank"]))


def report_to_json(report: IngestReport) -> dict[str, Any]:
    return {
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": [{"path": f.path, "line": f.line, "reason": f.reason} for f in report.failed],
        "skipped": [str(path) for path in report.skipped],
        "warnings": [{"path": w.path, "line": w.line, "reason": w.reason} for w in report.warnings],
    }


def report_from_json(raw: dict[str, Any]) -> IngestReport:
    return IngestReport(
        added=list(raw["added"]),
        updated=list(raw["updated"]),
        unchanged=list(raw["unchanged"]),
        failed=[ParseFailure(f["path"], int(f["line"]), f["reason"]) for f in raw["failed"]],
        skipped=[Path(path) for path in raw["skipped"]],
        warnings=[ParseWarning(w["path"], int(w["line"]), w["reason"]) for w in raw.get("warnings", [])],
    )
