"""The paper record every part of papercite shares, and the errors it names."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

_IDENTITY_FIELDS = frozenset({"title", "abstract", "title_derived", "authors"})
_TEXT_FIELDS = (
    "key",
    "title",
    "abstract",
    "authors",
    "venue",
    "doi",
    "url",
    "arxiv_id",
    "keywords",
    "entry_type",
    "extra",
    "origin",
    "format",
)


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper. `key` is empty until the store gives it one (unless the source had one).

    Slots, not a dictionary per paper: a language server holding a 100,000-entry bibliography
    keeps 100,000 of them (a dictionary cost about 1 KB of each one's 3.2 KB, measured 2026-12-07)."""

    key: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    doi: str = ""
    url: str = ""
    arxiv_id: str = ""
    keywords: tuple[str, ...] = ()
    entry_type: str = "article"
    title_derived: bool = False
    # Other BibTeX fields (pages, volume, publisher, …) kept so an export loses nothing.
    extra: tuple[tuple[str, str], ...] = ()
    # Where this version came from: "path:line" and the format name.
    origin: str = ""
    format: str = ""
    # Identities are asked for several times per record during an ingest: computed once each.
    _title_identity: str | None = field(default=None, init=False, repr=False, compare=False)
    _identity: str | None = field(default=None, init=False, repr=False, compare=False)

    def replace(self, **changes: object) -> Paper:
        """A copy with `changes`. It keeps the cached identities unless a field they come from
        changes. (Slot by slot: dataclasses.replace took a tenth of an ingest.)"""
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"Paper has no field {', '.join(sorted(unknown))}")
        new = object.__new__(Paper)
        for name in _SLOTS:
            _set(new, name, changes[name] if name in changes else getattr(self, name))
        if not _IDENTITY_FIELDS.isdisjoint(changes):
            _set(new, "_title_identity", None)
            _set(new, "_identity", None)
        return new

    @property
    def title_identity(self) -> str:
        """The normalised title; an untitled abstract is known by its opening words instead."""
        if self._title_identity is None:
            _set(
                self, "_title_identity", fold(self.abstract[:300] if self.title_derived else self.title) + "|"
            )
        assert self._title_identity is not None
        return self._title_identity

    @property
    def identity(self) -> str:
        """Normalised title + first author: the identity of a paper with neither DOI nor arXiv id.

        A record without authors has the bare title identity, which records with authors also match.
        """
        if self._identity is None:
            _set(self, "_identity", self.title_identity + fold(self.first_author_surname))
        assert self._identity is not None
        return self._identity

    @property
    def first_author_surname(self) -> str:
        return surname(self.authors[0]) if self.authors else ""

    @property
    def link(self) -> str:
        """The best web address for the paper: DOI, then URL, then arXiv."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.url:
            return self.url
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        return ""

    def short_title(self, limit: int = 60) -> str:
        return self.title if len(self.title) <= limit else self.title[: limit - 1].rstrip() + "…"

    def author_line(self, limit: int = 3) -> str:
        if not self.authors:
            return ""
        names = list(self.authors[:limit])
        return ", ".join(names) + (" et al." if len(self.authors) > limit else "")

    def search_text(self) -> str:
        """The text the index scores: real title, abstract and keywords."""
        parts = [] if self.title_derived else [self.title]
        parts.append(self.abstract)
        parts.extend(self.keywords)
        return "\n".join(p for p in parts if p)


_FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(Paper) if field.init)
_SLOTS = tuple(field.name for field in dataclasses.fields(Paper))
# A frozen paper's slots are written once, as it is made, and its identities when first asked for.
_set = object.__setattr__
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(value: Any) -> Any:
    """`value` (text, or lists, tuples and dicts of it) with each lone surrogate as U+FFFD.

    JSON can spell one (`"\\ud800"`) and an editor can send one; no file, SQLite or tantivy can hold it.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, list | tuple):
        return type(value)(without_surrogates(item) for item in value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return value


def paper_without_surrogates(paper: Paper) -> Paper:
    changes = {
        name: cleaned
        for name in _TEXT_FIELDS
        if (cleaned := without_surrogates(getattr(paper, name))) != getattr(paper, name)
    }
    return paper.replace(**changes) if changes else paper


@dataclass(frozen=True)
class ParseFailure:
    """A record a parser could not read; the rest of the file still goes through.

    Line 0 stands for the whole file (one that cannot be read, or in no format papercite knows).
    """

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class ParseWarning:
    """Something a reader got past while the records still went in (bytes an encoding could not
    read, shown as U+FFFD): `file:line: warning: …`, as compilers say it."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: warning: {self.reason}"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[ParseFailure] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # files in a folder that hold no bibliography
    warnings: list[ParseWarning] = field(default_factory=list)

    def absorb(self, part: IngestReport) -> None:
        """Add a batch's report to this one (call `settle` when all are in)."""
        self.added += part.added
        self.updated += part.updated
        self.unchanged += part.unchanged
        self.failed += part.failed
        self.skipped += part.skipped
        self.warnings += part.warnings

    def settle(self) -> None:
        """Count each paper once across batches: added beats updated beats unchanged."""
        added = set(self.added)
        self.updated = list(dict.fromkeys(k for k in self.updated if k not in added))
        updated = set(self.updated)
        self.unchanged = list(dict.fromkeys(k for k in self.unchanged if k not in added and k not in updated))

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, failed {len(self.failed)}"
            + (f", skipped {len(self.skipped)} other files" if self.skipped else "")
            + (f", {len(self.warnings)} warning{'s' * (len(self.warnings) != 1)}" if self.warnings else "")
        )


class PaperciteError(Exception):
    """Base of the errors papercite reports to users in plain words."""


class UnknownKey(PaperciteError):
    def __init__(self, key: str, suggestions: list[str] | None = None) -> None:
        self.key = key
        self.suggestions = suggestions or []
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"no paper with key {key!r}{hint}")


class EmptyQuery(PaperciteError):
    def __init__(self) -> None:
        super().__init__("the query has no searchable words")


class LimitOutOfRange(PaperciteError):
    """A number of results no face should ask for: negative, not a whole number, or past the most
    one search returns (tantivy would try to allocate room for all of them at once)."""

    def __init__(self, limit: object, most: int) -> None:
        self.limit = limit
        self.most = most
        super().__init__(f"a search returns from 0 to {most} papers; {limit!r} is not in that range")


class UnsupportedFormat(PaperciteError):
    pass


class StoreLocked(PaperciteError):
    pass


class StoreUnavailable(PaperciteError):
    """The store's database does not answer (PostgreSQL stopped, or unreachable)."""


# --- identity -----------------------------------------------------------------------------------

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ARXIV_PREFIX = re.compile(r"^(?:https?://arxiv\.org/(?:abs|pdf)/|arxiv:\s*)", re.IGNORECASE)
_ARXIV_VERSION = re.compile(r"v\d+$")


def normalize_doi(doi: str) -> str:
    """`10.1000/abc`: no resolver prefix, lower case, percent-escapes (from a copied link or an
    export, which encodes what BibTeX reads as structure) decoded."""
    doi = _DOI_PREFIX.sub("", doi.strip()).strip()
    if _PERCENT_ESCAPE.search(doi):
        doi = unquote(doi).strip()
    return doi.lower()


def normalize_arxiv_id(arxiv_id: str) -> str:
    bare = _ARXIV_PREFIX.sub("", arxiv_id.strip()).removesuffix(".pdf")
    return _ARXIV_VERSION.sub("", bare).lower()


_ALNUM = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only, words separated by single spaces.

    Cached: an ingest asks for the same titles' identities several times per record.
    """
    ascii_text = (
        text if text.isascii() else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    )
    return " ".join(_ALNUM.findall(ascii_text.lower()))


def surname(author: str) -> str:
    """`Boudin, Florian` and `Florian Boudin` both give `Boudin`."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    return parts[-1] if parts else ""
