"""arXiv's two interfaces: the API's Atom feed (`/api/query?id_list=`) for single papers, and
OAI-PMH `ListRecords` in the `arXiv` metadata format for harvests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from core.identifiers import InvalidIdentifier, parse_identifier, split_arxiv_doi
from core.latex import latex_to_text
from core.records import Paper
from core.sources.http import BadResponse

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV_ATOM = "{http://arxiv.org/schemas/atom}"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV_OAI = "{http://arxiv.org/OAI/arXiv/}"


def _clean(text: str | None) -> str:
    return latex_to_text(" ".join((text or "").split()))


class _NoDoctype(ET.TreeBuilder):
    """Neither arXiv API declares a DTD; refusing one leaves entity expansion (billion laughs) and
    external entities to no version of Expat. Expat says when it meets one, in whatever encoding
    the answer is (a byte search missed a UTF-16 answer's)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise BadResponse(
            f"{self.service} sent an answer with a document type declaration, which it never does"
        )


def _xml(body: bytes, service: str) -> ET.Element:
    parser = ET.XMLParser(target=_NoDoctype(service))
    try:
        parser.feed(body)
        return parser.close()
    except ET.ParseError as error:
        snippet = body[:60].decode("utf-8", "replace").strip()
        raise BadResponse(f"{service} sent a malformed answer ({error}; it began {snippet!r})") from None


def _year(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isascii() and date[:4].isdigit() else None


def _entry_type(journal_ref: str) -> str:
    return "article" if journal_ref else "misc"


# --- the API's Atom feed ------------------------------------------------------------------------


@dataclass(frozen=True)
class AtomResult:
    papers: list[Paper]
    errors: list[str]  # arXiv answers a bad id with an entry titled "Error", status 200


def parse_atom(body: bytes) -> AtomResult:
    root = _xml(body, "arXiv")
    if root.tag != f"{ATOM}feed":
        raise BadResponse("arXiv's answer is not an Atom feed")
    papers, errors = [], []
    for entry in root.findall(f"{ATOM}entry"):
        entry_id = entry.findtext(f"{ATOM}id", "")
        title = _clean(entry.findtext(f"{ATOM}title"))
        if "/api/errors" in entry_id or title == "Error":
            errors.append(_clean(entry.findtext(f"{ATOM}summary")) or "arXiv reported an error")
            continue
        try:
            arxiv_id = parse_identifier(entry_id).value
        except InvalidIdentifier:
            raise BadResponse(f"arXiv sent an entry with an unreadable id {entry_id!r}") from None
        journal_ref = _clean(entry.findtext(f"{ARXIV_ATOM}journal_ref"))
        primary = entry.find(f"{ARXIV_ATOM}primary_category")
        doi, _ = split_arxiv_doi(entry.findtext(f"{ARXIV_ATOM}doi", ""))
        papers.append(
            Paper(
                key="",
                title=title,
                abstract=_clean(entry.findtext(f"{ATOM}summary")),
                authors=tuple(
                    name
                    for name in (_clean(a.findtext(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author"))
                    if name
                ),
                year=_year(entry.findtext(f"{ATOM}published", "")),
                venue=journal_ref,
                doi=doi,
                arxiv_id=arxiv_id,
                entry_type=_entry_type(journal_ref),
                extra=(("primaryclass", primary.get("term", "")),)
                if primary is not None and primary.get("term")
                else (),
                origin=f"arXiv:{arxiv_id}",
                format="arxiv",
            )
        )
    return AtomResult(papers, errors)


# --- OAI-PMH ListRecords, metadataPrefix=arXiv --------------------------------------------------


@dataclass
class OaiPage:
    papers: list[Paper] = field(default_factory=list)
    datestamps: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)  # arXiv id -> all its categories
    deleted: int = 0
    token: str = ""  # empty: the list is complete
    complete_size: int | None = None
    cursor: int | None = None
    error: tuple[str, str] | None = None  # (code, message) of an OAI-PMH error


def _oai_record(record: ET.Element) -> Paper | None:
    meta = record.find(f"{OAI}metadata/{ARXIV_OAI}arXiv")
    if meta is None:
        return None
    arxiv_id = (meta.findtext(f"{ARXIV_OAI}id") or "").strip()
    title = _clean(meta.findtext(f"{ARXIV_OAI}title"))
    if not arxiv_id or not title:
        return None
    authors = []
    for author in meta.findall(f"{ARXIV_OAI}authors/{ARXIV_OAI}author"):
        family = _clean(author.findtext(f"{ARXIV_OAI}keyname"))
        given = _clean(author.findtext(f"{ARXIV_OAI}forenames"))
        suffix = _clean(author.findtext(f"{ARXIV_OAI}suffix"))
        if family:
            authors.append(", ".join(part for part in (family, suffix, given) if part))
    journal_ref = _clean(meta.findtext(f"{ARXIV_OAI}journal-ref"))
    categories = (meta.findtext(f"{ARXIV_OAI}categories") or "").split()
    doi, _ = split_arxiv_doi((meta.findtext(f"{ARXIV_OAI}doi") or "").split(" ")[0])
    normalized = parse_identifier(arxiv_id).value if arxiv_id else arxiv_id
    return Paper(
        key="",
        title=title,
        abstract=_clean(meta.findtext(f"{ARXIV_OAI}abstract")),
        authors=tuple(authors),
        year=_year(meta.findtext(f"{ARXIV_OAI}created", "")),
        venue=journal_ref,
        doi=doi,
        arxiv_id=normalized,
        entry_type=_entry_type(journal_ref),
        extra=(("primaryclass", categories[0]),) if categories else (),
        origin=f"arXiv:{normalized}",
        format="arxiv",
    )


def _count(text: str | None) -> int | None:
    # isdigit() alone lets through digits int() refuses, such as "²".
    return int(text) if text and text.isascii() and text.isdigit() else None


def parse_list_records(body: bytes) -> OaiPage:
    """One page of `ListRecords`; BadResponse if it is not OAI-PMH (or was cut off)."""
    root = _xml(body, "arXiv OAI-PMH")
    if root.tag != f"{OAI}OAI-PMH":
        raise BadResponse("arXiv's OAI-PMH answer is not an OAI-PMH document")
    page = OaiPage()
    error = root.find(f"{OAI}error")
    if error is not None:
        page.error = (error.get("code", ""), " ".join((error.text or "").split()))
        return page
    records = root.find(f"{OAI}ListRecords")
    if records is None:
        raise BadResponse("arXiv's OAI-PMH answer has neither records nor an error")
    for record in records.findall(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        if header is not None:
            page.datestamps.append((header.findtext(f"{OAI}datestamp") or "").strip())
            if header.get("status") == "deleted":
                page.deleted += 1
                continue
        try:
            paper = _oai_record(record)
        except InvalidIdentifier:
            paper = None
        if paper is not None:
            page.papers.append(paper)
            categories = record.findtext(f"{OAI}metadata/{ARXIV_OAI}arXiv/{ARXIV_OAI}categories") or ""
            page.categories[paper.arxiv_id] = categories.split()
    token = records.find(f"{OAI}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip()
        size, cursor = token.get("completeListSize"), token.get("cursor")
        page.complete_size = _count(size)
        page.cursor = _count(cursor)
    return page
