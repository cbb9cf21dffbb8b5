"""DOIs, arXiv ids and OpenAlex work ids as people write them: bare, prefixed, or as links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["doi", "arxiv", "openalex"]

# DataCite registers arXiv's own DOIs (10.48550/arXiv.ID): the same paper as the arXiv id.
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
# New style (since 2007): YYMM.NNNN or YYMM.NNNNN; old style: archive(.SUBJECT)/YYMMNNN.
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_ID = rf"(?:{_ARXIV_NEW}|{_ARXIV_OLD})"
_VERSION = r"(?:v\d+)?"
# A DOI's suffix may hold almost anything; in running text it stops at whitespace, quotes and
# brackets, and trailing punctuation is the sentence's, not the DOI's.
_DOI = r"10\.\d{4,9}/[^\s\"'<>{}\[\]|\\^`]+"
_TRAILING = ".,;:!?)"

_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (
        "arxiv",
        re.compile(
            rf"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/({_ARXIV_ID}){_VERSION}(?:\.pdf)?",
            re.IGNORECASE,
        ),
    ),
    ("doi", re.compile(rf"(?:https?://)?(?:dx\.)?doi\.org/({_DOI})", re.IGNORECASE)),
    (
        "openalex",
        re.compile(r"(?:https?://)?(?:api\.)?openalex\.org/(?:works/)?(W\d+)\b", re.IGNORECASE),
    ),
    ("arxiv", re.compile(rf"\barxiv:\s?({_ARXIV_ID}){_VERSION}\b", re.IGNORECASE)),
    ("doi", re.compile(rf"\bdoi:\s?({_DOI})", re.IGNORECASE)),
    ("openalex", re.compile(r"\bopenalex:\s?(W\d+)\b", re.IGNORECASE)),
    ("doi", re.compile(rf"(?<![\w/.])({_DOI})")),
)
# Only when the whole argument is the id: `2404.11912`, `hep-th/9901001v2`, `W2741809807`.
_BARE_ARXIV = re.compile(rf"^({_ARXIV_ID}){_VERSION}$", re.IGNORECASE)
_BARE_OPENALEX = re.compile(r"^(W\d{4,})$", re.IGNORECASE)
# A whole argument that is a DOI is all DOI, even characters running text stops at (SICI's `<>`).
_WHOLE_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s?)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Identifier:
    """A paper's identifier: `value` is normalised (DOI lower-case, arXiv id without version,
    OpenAlex id upper-case), `text` is how it was written."""

    kind: Kind
    value: str
    text: str

    def __str__(self) -> str:
        prefix = {"doi": "doi:", "arxiv": "arXiv:", "openalex": "openalex:"}[self.kind]
        return prefix + self.value


@dataclass(frozen=True)
class Found:
    """An identifier in a text, with the span it covers (`text[start:end]`)."""

    identifier: Identifier
    start: int
    end: int


def _normalise(kind: Kind, raw: str, text: str) -> Identifier:
    if kind == "doi":
        doi = raw.rstrip(_TRAILING).lower()
        arxiv = _ARXIV_DOI.match(doi)
        if arxiv and re.fullmatch(_ARXIV_ID + _VERSION, arxiv.group(1), re.IGNORECASE):
            return _normalise("arxiv", arxiv.group(1), text)
        return Identifier("doi", doi, text)
    if kind == "arxiv":
        value = re.sub(r"v\d+$", "", raw)
        # Old-style archives are lower-case, their subject classes upper-case (math.GT/0309136).
        if "/" in value:
            archive, number = value.split("/", 1)
            name, _, subject = archive.partition(".")
            value = f"{name.lower()}{'.' + subject.upper() if subject else ''}/{number}"
        return Identifier("arxiv", value, text)
    return Identifier("openalex", raw.upper(), text)


def _usable_doi(doi: str) -> bool:
    """No registered DOI has a `.` or `..` path segment, and in a lookup's address one climbs out of
    the service's /works/ (`https://doi.org/10.1234/../../admin` posted in Slack made the bot ask
    for the mirror's /admin)."""
    return not any(part in (".", "..") for part in doi.rstrip(_TRAILING).split("/"))


def find_identifiers(text: str) -> list[Found]:
    """Every DOI, arXiv id or link, and OpenAlex id in running text (a Slack message, a draft),
    in order, each once. Bare numbers like `2404.11912` are not taken: in prose they are too
    often something else; write `arXiv:2404.11912` or a link."""
    spans: list[Found] = []
    # Characters a link already claimed; kept as bytes rather than compared span by span, which
    # took 0.7 s for a 40,000-character Slack message of DOIs (every span against every other).
    claimed = bytearray(len(text))
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            raw = match.group(1)
            if kind == "doi":
                stripped = raw.rstrip(_TRAILING)
                # A closing bracket belongs to the DOI only if the DOI opened one: 10.1002/(SICI)…
                while stripped.endswith(")") and stripped.count("(") < stripped.count(")"):
                    stripped = stripped[:-1].rstrip(_TRAILING)
                end -= len(raw) - len(stripped)
                raw = stripped
                if not _usable_doi(raw):
                    continue
            if any(claimed[start:end]):
                continue  # a link already claimed these characters
            claimed[start:end] = b"\x01" * (end - start)
            spans.append(Found(_normalise(kind, raw, text[start:end]), start, end))
    spans.sort(key=lambda found: found.start)
    seen: set[Identifier] = set()
    unique = []
    for found in spans:
        key = Identifier(found.identifier.kind, found.identifier.value, "")
        if key not in seen:
            seen.add(key)
            unique.append(found)
    return unique


class InvalidIdentifier(ValueError):
    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(
            f"{text!r} is not a DOI, an arXiv id or link, or an OpenAlex work id "
            "(e.g. 10.1145/3404835.3463238, arXiv:2404.11912, https://arxiv.org/abs/2404.11912v2, W2741809807)"
        )


def parse_identifier(text: str) -> Identifier:
    """The identifier a whole argument stands for (`papercite add ID`); bare arXiv ids are
    taken here. Raises InvalidIdentifier."""
    stripped = text.strip().strip("<>")
    bare = _BARE_ARXIV.match(stripped)
    if bare:
        return _normalise("arxiv", bare.group(1), text)
    bare = _BARE_OPENALEX.match(stripped)
    if bare:
        return _normalise("openalex", bare.group(1), text)
    whole = _WHOLE_DOI.match(stripped)
    if whole and _usable_doi(whole.group(1)):
        return _normalise("doi", whole.group(1), text)
    found = find_identifiers(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end >= len(stripped.rstrip(_TRAILING)):
        return Identifier(found[0].identifier.kind, found[0].identifier.value, text)
    raise InvalidIdentifier(text)


def split_arxiv_doi(doi: str) -> tuple[str, str]:
    """(DOI, arXiv id) for a DOI as a source gives it: arXiv's own DOIs (10.48550/arXiv.ID) name
    the arXiv paper, and are kept as its arXiv id only, so that the journal DOI it may gain later
    does not make it a second paper."""
    doi = doi.strip()
    if not doi:
        return "", ""
    try:
        found = parse_identifier(doi)
    except InvalidIdentifier:
        return doi.lower(), ""
    if found.kind == "arxiv":
        return "", found.value
    return (found.value, "") if found.kind == "doi" else (doi.lower(), "")
