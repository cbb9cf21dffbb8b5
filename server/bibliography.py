"""A document's own bibliography: the files it names, the entries it defines inline, what they hold.

Names come from the document's text (cached per version); files are found and read on each use,
from the editor's buffer when the file is open there and from disk otherwise, so an edit in either
place is seen at once.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from core.bibfile import defined_keys
from core.documents.declared import Declared, InlineEntry, Named, keys_by_identity
from core.formats import parse_text, read_text
from core.index import MemoryIndex
from core.interface import PaperLibrary
from core.records import Paper, ParseFailure, UnsupportedFormat
from server.confinement import real_path

_CSL_ID = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
BIBLIOGRAPHY_SUFFIXES = (".bib", ".json", ".yaml", ".yml")
# A .bib of 100,000 entries with abstracts is about 150 MB; past this a named file is not read.
MAX_BIBLIOGRAPHY_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Resource:
    """A named file, resolved: `path` is where it is, or where it would be created beside the document."""

    named: Named
    path: Path
    exists: bool
    # The project file that names it (a chapter's root document, `_quarto.yml`), or None when the
    # document itself does: `named`'s offsets are in that file's text then.
    named_in: Path | None = None

    @property
    def is_bibtex(self) -> bool:
        return self.path.suffix.lower() == ".bib"


def resolve(named: Named, folders: Iterable[Path]) -> Resource:
    """The first of `folders` (the document's, then the workspace root) where the file is."""
    folders = list(folders)
    names = [named.name]
    if not named.name.lower().endswith(BIBLIOGRAPHY_SUFFIXES):
        names.insert(0 if named.bibtex_default else 1, named.name + ".bib")
    # `~/refs` is the home folder's, not a folder named `~` beside the document.
    for folder in folders:
        for name in names:
            candidate = folder / Path(name).expanduser()
            if candidate.is_file():
                return Resource(named, real_path(candidate), True)
    # realpath, not Path.resolve: a symlink loop stays a path (that cannot be read) instead of an error.
    return Resource(named, real_path(folders[0] / Path(names[0]).expanduser()), False)


# --- the files --------------------------------------------------------------------------------


@dataclass
class BibFile:
    """One bibliography file as read: its papers, where each key is defined, what could not be read."""

    path: Path
    papers: dict[str, Paper] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key → 0-based line of its entry
    failures: list[ParseFailure] = field(default_factory=list)

    @cached_property
    def searchable(self) -> MemoryIndex:
        """The papers in a search index of their own, built once per version of the file."""
        return MemoryIndex(self.papers.values())

    @cached_property
    def entries(self) -> dict[str, tuple[Paper, str]]:
        """Key → (paper, this file's name)."""
        name = self.path.name
        return {key: (paper, name) for key, paper in self.papers.items()}

    @cached_property
    def identities(self) -> dict[str, str]:
        """Identity (DOI, arXiv id, title and first author) → key."""
        return keys_by_identity(self.papers.values())

    @property
    def keys(self) -> set[str]:
        return set(self.lines)


def read_bib_file(path: Path, text: str) -> BibFile:
    """Every entry that reads; a broken one is a failure with its line, and its key still counts."""
    result = BibFile(path)
    try:
        for item in parse_text(text, str(path)):
            if isinstance(item, ParseFailure):
                result.failures.append(item)
            elif item.key:
                result.papers.setdefault(item.key, item)
                result.lines.setdefault(item.key, int(item.origin.rsplit(":", 1)[-1]) - 1)
    except UnsupportedFormat as error:
        result.failures.append(ParseFailure(str(path), 1, str(error).split(": ", 1)[-1]))
        return result
    result.failures.sort(key=lambda failure: failure.line)
    if path.suffix.lower() == ".bib":
        for key, line in defined_keys(text).items():
            result.lines.setdefault(key, line)
    else:
        for match in _CSL_ID.finditer(text):
            result.lines.setdefault(match.group(1), text.count("\n", 0, match.start()))
    return result


def _check_readable(path: Path) -> None:
    """A document names its bibliography, so the name may be a device, a pipe or a huge file:
    only regular files of a size a bibliography can have are read (reading /dev/zero never ends)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path} is not a regular file")
    if info.st_size > MAX_BIBLIOGRAPHY_BYTES:
        raise OSError(
            f"{path} holds {info.st_size} bytes, more than papercite reads as a bibliography "
            f"({MAX_BIBLIOGRAPHY_BYTES})"
        )


class BibliographyCache:
    """Read bibliography files, each read again when its editor version or its file changes."""

    def __init__(self, editor_text: Callable[[Path], tuple[int, str] | None]) -> None:
        # editor_text(path): (version, text) when the file is open in the editor.
        self._editor_text = editor_text
        self._files: dict[Path, tuple[object, BibFile]] = {}

    def signature(self, path: Path) -> object:
        """What changes when the file does: the editor's version if open there, else size and time."""
        open_in_editor = self._editor_text(path)
        if open_in_editor is not None:
            return ("editor", open_in_editor[0])
        try:
            stat = path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def file(self, path: Path) -> BibFile:
        signature = self.signature(path)
        cached = self._files.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        open_in_editor = self._editor_text(path)
        try:
            if open_in_editor:
                text = open_in_editor[1]
            elif signature:
                _check_readable(path)
                text = read_text(path)
            else:
                text = ""
            parsed = read_bib_file(path, text)
        except OSError as error:
            parsed = BibFile(path, failures=[ParseFailure(str(path), 1, f"cannot read: {error}")])
        self._files[path] = (signature, parsed)
        return parsed

    def forget(self, keep: set[Path]) -> None:
        """Drop the files no open document uses any more."""
        for path in set(self._files) - keep:
            del self._files[path]


@dataclass
class DocumentBibliography:
    """A document's bibliography, resolved and read: every key it defines and where."""

    declared: Declared
    resources: list[Resource]
    files: list[BibFile]

    @cached_property
    def inline(self) -> dict[str, InlineEntry]:
        return {entry.key: entry for entry in self.declared.inline}

    @cached_property
    def entries(self) -> dict[str, tuple[Paper, str]]:
        """Key → (paper, where it is defined); the first definition wins, as in BibTeX and citeproc."""
        if len(self.files) == 1 and not self.inline:
            return self.files[0].entries  # the common case, read once per version of the file
        entries: dict[str, tuple[Paper, str]] = {}
        for bib in reversed(self.files):
            entries.update(bib.entries)
        entries.update({key: (entry.paper, "this document") for key, entry in self.inline.items()})
        return entries

    def paper(self, key: str) -> Paper | None:
        entry = self.entries.get(key)
        return entry[0] if entry else None

    @cached_property
    def keys(self) -> set[str]:
        keys = set(self.inline)
        for bib in self.files:
            keys |= bib.keys
        return keys

    @cached_property
    def identities(self) -> dict[str, str]:
        if len(self.files) == 1 and not self.inline:
            return self.files[0].identities
        identities: dict[str, str] = {}
        for bib in reversed(self.files):
            identities.update(bib.identities)
        identities.update(self.declared.identities)
        return identities

    def search(self, library: PaperLibrary, terms: Mapping[str, float], k: int) -> dict[str, float]:
        """The best `k` entries of each source for a query, scored as the library scores its own."""
        scores: dict[str, float] = {}
        for source in [self.declared.searchable, *(bib.searchable for bib in self.files)]:
            for key, score in library.search_outside(terms, source, k).items():
                scores.setdefault(key, score)
        return scores

    def file_defining(self, key: str) -> BibFile | None:
        return next((bib for bib in self.files if key in bib.lines), None)

    @property
    def target(self) -> Resource | None:
        """The BibTeX file new entries go to: the first one named."""
        return next((resource for resource in self.resources if resource.is_bibtex), None)
