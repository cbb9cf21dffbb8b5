"""Papers as BibTeX entries that parse back to the same fields."""

from __future__ import annotations

import re

from core.records import Paper

# LaTeX's special characters, escaped so a value reads back as the same text.
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
_NAME_ORDER = ("author", "title", "journal", "booktitle", "year", "doi", "url", "eprint", "archiveprefix")


def escape(value: str) -> str:
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], value)


def _venue_field(paper: Paper) -> str:
    return {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle"}.get(
        paper.entry_type, "howpublished"
    )


def bibtex_fields(paper: Paper) -> list[tuple[str, str]]:
    """(name, escaped value) pairs in a conventional order."""
    fields: dict[str, str] = {}
    if paper.authors:
        fields["author"] = " and ".join(escape(a) for a in paper.authors)
    # Double braces keep the title's capitals (BERT, LLMs) from being lower-cased by styles.
    fields["title"] = "{" + escape(paper.title) + "}"
    if paper.venue:
        fields[_venue_field(paper)] = escape(paper.venue)
    if paper.year:
        fields["year"] = str(paper.year)
    if paper.doi:
        fields["doi"] = escape(paper.doi)
    if paper.url:
        fields["url"] = paper.url
    if paper.arxiv_id:
        fields["eprint"] = paper.arxiv_id
        fields["archiveprefix"] = "arXiv"
    for name, value in paper.extra:
        fields.setdefault(name, escape(value))
    if paper.keywords:
        fields["keywords"] = escape(", ".join(paper.keywords))
    if paper.abstract:
        fields["abstract"] = escape(paper.abstract)
    ordered = [name for name in _NAME_ORDER if name in fields]
    ordered += [name for name in fields if name not in _NAME_ORDER]
    return [(name, fields[name]) for name in ordered]


def to_bibtex(paper: Paper) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in bibtex_fields(paper))
    return f"@{paper.entry_type}{{{paper.key},\n{body}\n}}\n"
