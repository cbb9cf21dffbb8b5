"""A paper as a CSL-JSON item: the bibliography format of pandoc, Quarto, Zotero and citeproc."""

from __future__ import annotations

from typing import Any

from core.records import Paper

# BibTeX entry types (as papercite keeps them) → CSL types; the reader maps them back.
_TYPES = {
    "article": "article-journal", "inproceedings": "paper-conference", "conference": "paper-conference",
    "incollection": "chapter", "inbook": "chapter", "book": "book", "phdthesis": "thesis",
    "mastersthesis": "thesis", "techreport": "report", "online": "webpage", "unpublished": "manuscript",
    "software": "software", "dataset": "dataset",
}  # fmt: skip
# BibTeX fields papercite keeps as extras → their CSL variables.
_EXTRAS = {"pages": "page", "volume": "volume", "number": "issue", "publisher": "publisher"}


def to_csl(paper: Paper) -> dict[str, Any]:
    """The paper's CSL-JSON item, keyed by its cite key (`id` and `citation-key`)."""
    # (an arXiv paper filed as misc is a preprint: CSL's "article")
    kind = _TYPES.get(paper.entry_type, "article" if paper.arxiv_id else "document")
    item: dict[str, Any] = {"id": paper.key, "citation-key": paper.key, "type": kind, "title": paper.title}
    if paper.authors:
        item["author"] = [csl_name(name) for name in paper.authors]
    if paper.year is not None:
        item["issued"] = {"date-parts": [[paper.year]]}
    if paper.venue:
        item["container-title"] = paper.venue
    extras = dict(paper.extra)
    for field, variable in _EXTRAS.items():
        if extras.get(field):
            item[variable] = extras[field]
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.url:
        item["URL"] = paper.url
    elif paper.arxiv_id:
        item["URL"] = f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.arxiv_id:
        item["number"] = f"arXiv:{paper.arxiv_id}"
    if paper.keywords:
        item["keyword"] = ", ".join(paper.keywords)
    if paper.abstract:
        item["abstract"] = paper.abstract
    return item


def csl_name(name: str) -> dict[str, str]:
    """`Family, Given` as CSL's family and given names; a name without a comma (an organisation,
    a single name) as a literal, which citeproc prints as it is."""
    family, comma, given = name.partition(",")
    if comma and family.strip() and given.strip():
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": name.strip()}
