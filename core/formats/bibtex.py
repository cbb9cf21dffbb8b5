"""BibTeX and BibLaTeX files, read with bibtexparser 2.x."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from core.latex import latex_to_text
from core.records import Paper, ParseFailure, normalize_arxiv_id, normalize_doi

_MAIN_FIELDS = {
    "title", "abstract", "author", "editor", "year", "date", "journal", "journaltitle",
    "booktitle", "doi", "url", "eprint", "archiveprefix", "eprinttype", "keywords",
}  # fmt: skip
# Fields worth carrying to an export; the rest (file paths, timestamps, …) are noise.
_KEPT_FIELDS = {
    "pages", "volume", "number", "publisher", "address", "isbn", "issn", "month", "series",
    "edition", "note", "location", "numpages", "articleno", "organization", "school",
    "institution", "howpublished", "primaryclass", "editor",
}  # fmt: skip
# bibtexparser logs each broken block; we report them ourselves, with file and line.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def split_names(value: str) -> list[str]:
    """Split a BibTeX name list on `and` at brace depth 0 (so `{Barnes and Noble}` stays whole)."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", value, re.IGNORECASE):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            names.append(value[start : match.start()])
            start = match.end()
    names.append(value[start:])
    return [n for n in (latex_to_text(name) for name in names) if n and n.lower() != "others"]


def split_keywords(value: str) -> tuple[str, ...]:
    separator = ";" if ";" in value else ","
    return tuple(k for k in (latex_to_text(part) for part in value.split(separator)) if k)


def entry_to_paper(entry: Entry, path: str) -> Paper | ParseFailure:
    fields = {f.key.lower(): str(f.value) for f in entry.fields}
    line = (entry.start_line or 0) + 1
    title = latex_to_text(fields.get("title", ""))
    if not title:
        return ParseFailure(path, line, f"entry {entry.key!r} has no title")
    year_match = _YEAR.search(fields.get("year", "") or fields.get("date", ""))
    arxiv_id = ""
    if fields.get("archiveprefix", fields.get("eprinttype", "")).lower() == "arxiv":
        arxiv_id = normalize_arxiv_id(fields.get("eprint", ""))
    venue = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle") or ""
    return Paper(
        key=entry.key.strip(),
        title=title,
        abstract=latex_to_text(fields.get("abstract", "")),
        authors=tuple(split_names(fields.get("author", "") or fields.get("editor", ""))),
        year=int(year_match.group(1)) if year_match else None,
        venue=latex_to_text(venue),
        doi=normalize_doi(latex_to_text(fields.get("doi", ""))),
        url=fields.get("url", "").strip(),
        arxiv_id=arxiv_id,
        keywords=split_keywords(fields.get("keywords", "")),
        entry_type=entry.entry_type.lower(),
        extra=tuple(
            (name, latex_to_text(value))
            for name, value in fields.items()
            if name in _KEPT_FIELDS and name not in _MAIN_FIELDS and value.strip()
        ),
        origin=f"{path}:{line}",
        format="bibtex",
    )


def _failure_reason(block: ParsingFailedBlock) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"duplicate key {block.key!r}; the first entry with it is kept"
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    return " ".join(reason.split()) or "syntax error"


def parse_bibtex(text: str, path: str) -> Iterator[Paper | ParseFailure]:
    library = bibtexparser.parse_string(text)
    for entry in library.entries:
        yield entry_to_paper(entry, path)
    for block in library.failed_blocks:
        yield ParseFailure(path, (block.start_line or 0) + 1, _failure_reason(block))


def looks_like_bibtex(head: str) -> bool:
    return re.search(r"^\s*@[A-Za-z]+\s*[{(]", head, re.MULTILINE) is not None
