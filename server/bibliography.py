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
from core.formats import parse_text, read_text
from core.index import MemoryIndex
from core.interface import PaperLibrary
from core.latex import latex_to_text
from core.records import Paper, ParseFailure, UnsupportedFormat
from server import syntax
from server.confinement import real_path

_LATEX_RESOURCES = re.compile(
    r"\\(?:bibliography|addbibresource|addglobalbib)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}"
)
_BIBITEM = re.compile(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_BIBITEM_END = re.compile(r"\\bibitem\b|\\end\s*\{thebibliography\}")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_YAML_KEY = re.compile(r"(?m)^(bibliography|references):[ \t]*(.*)$")
_YAML_LIST_ITEM = re.compile(r"[ \t]*-[ \t]*(.+)")
_YAML_FIELD = re.compile(r"(?m)^[ \t]*(?:-[ \t]*)?(id|title):[ \t]*(.+)$")
_YAML_ITEM = re.compile(r"(?m)^([ \t]*)-[ \t]")
_CSL_ID = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
BIBLIOGRAPHY_SUFFIXES = (".bib", ".json", ".yaml", ".yml")
# Each named file is looked for, read and watched; a document naming thousands (20,000 took a
# completion 13 s) would stall the server, and no real document names more than a few.
MAX_NAMED = 100
_MAX_INLINE_TITLE = 200
# A .bib of 100,000 entries with abstracts is about 150 MB; past this a named file is not read.
MAX_BIBLIOGRAPHY_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Named:
    """A bibliography file as the document names it, and where."""

    name: str
    start: int
    end: int
    bibtex_default: bool  # \bibliography{refs} means refs.bib


@dataclass(frozen=True)
class InlineEntry:
    """An entry written in the document itself: `\\bibitem` or a YAML `references:` item."""

    key: str
    start: int
    end: int
    paper: Paper


@dataclass(frozen=True)
class Declared:
    """What a document's text says about its bibliography."""

    named: tuple[Named, ...] = ()
    inline: tuple[InlineEntry, ...] = ()
    ignored: int = 0  # files named past MAX_NAMED

    @cached_property
    def searchable(self) -> MemoryIndex:
        return MemoryIndex(entry.paper for entry in self.inline)

    @cached_property
    def identities(self) -> dict[str, str]:
        return _identities(entry.paper for entry in self.inline)


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


def identities_of(paper: Paper) -> list[str]:
    """What makes two records the same paper: DOI, arXiv id, or title and first author."""
    found = [f"doi:{paper.doi}"] if paper.doi else []
    found += [f"arxiv:{paper.arxiv_id}"] if paper.arxiv_id else []
    return [*found, paper.identity] if paper.title and not paper.title_derived else found


def _identities(papers: Iterable[Paper]) -> dict[str, str]:
    return {identity: paper.key for paper in papers for identity in identities_of(paper)}


def _strip_quotes(value: str) -> str:
    return value.strip().strip("'\"").strip()


def _latex_declared(text: str) -> Declared:
    named = []
    for match in _LATEX_RESOURCES.finditer(text):
        offset = match.start(1)
        for part in match.group(1).split(","):
            name = part.strip()
            if name:
                start = offset + part.index(name)
                bibtex = not match.group(0).startswith(("\\addbibresource", "\\addglobalbib"))
                named.append(Named(name, start, start + len(name), bibtex))
            offset += len(part) + 1
    inline = []
    for match in _BIBITEM.finditer(text):
        key = match.group(1).strip()
        end = _BIBITEM_END.search(text, match.end())
        body = latex_to_text(text[match.end() : end.start() if end else len(text)])
        title = body[:_MAX_INLINE_TITLE] or key
        start = match.start(1) + match.group(1).index(key)
        inline.append(
            InlineEntry(key, start, start + len(key), Paper(key=key, title=title, origin="bibitem"))
        )
    return Declared(tuple(named), tuple(inline))


def _markdown_declared(text: str) -> Declared:
    front = _FRONT_MATTER.match(text)
    if not front:
        return Declared()
    yaml, base = front.group(1), front.start(1)
    named: list[Named] = []
    inline: list[InlineEntry] = []
    for entry in _YAML_KEY.finditer(yaml):
        block_end = re.search(r"(?m)^[^\s-]", yaml[entry.end() + 1 :])
        block = yaml[entry.end() : entry.end() + 1 + block_end.start() if block_end else len(yaml)]
        if entry.group(1) == "bibliography":
            value = entry.group(2).strip()
            if value.startswith("["):
                items = [
                    (m.group(0), m.start()) for m in re.finditer(r"[^,\[\]]+", value) if m.group(0).strip()
                ]
                spans = [(item, base + entry.start(2) + at) for item, at in items]
            elif value:
                spans = [(value, base + entry.start(2))]
            else:
                spans = []
                for line in re.finditer(r"(?m)^.*$", block):
                    item = _YAML_LIST_ITEM.fullmatch(line.group(0))
                    if item:
                        spans.append((item.group(1), base + entry.end() + line.start() + item.start(1)))
            for raw, at in spans:
                name = _strip_quotes(raw)
                if name:
                    start = at + raw.index(name)
                    named.append(Named(name, start, start + len(name), bibtex_default=False))
        else:
            inline += _yaml_references(block, base + entry.end())
    return Declared(tuple(named), tuple(inline))


def _yaml_references(block: str, offset: int) -> list[InlineEntry]:
    """`references:` items (CSL YAML): each `id`, with the item's title when it has one."""
    items = list(_YAML_ITEM.finditer(block))
    # Items of nested lists (authors, say) are indented deeper than the references themselves.
    depth = min((len(m.group(1)) for m in items), default=0)
    starts = [m.start() for m in items if len(m.group(1)) == depth]
    entries = []
    for begin, end in zip(starts, [*starts[1:], len(block)], strict=True):
        fields = {m.group(1): m for m in _YAML_FIELD.finditer(block, begin, end)}
        if "id" not in fields:
            continue
        key = _strip_quotes(fields["id"].group(2))
        start = offset + fields["id"].start(2) + fields["id"].group(2).index(key)
        title = _strip_quotes(fields["title"].group(2)) if "title" in fields else key
        paper = Paper(key=key, title=title, origin="references", format="csl-yaml")
        entries.append(InlineEntry(key, start, start + len(key), paper))
    return entries


def declared_in(text: str, language: str) -> Declared:
    declared = _latex_declared(text) if language == syntax.LATEX else _markdown_declared(text)
    if len(declared.named) > MAX_NAMED:
        return Declared(declared.named[:MAX_NAMED], declared.inline, len(declared.named) - MAX_NAMED)
    return declared


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
        return _identities(self.papers.values())

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
