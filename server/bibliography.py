"""A document's own bibliography: the files it names, the entries it defines inline, what they hold.

Names come from the document's text (cached per version); files are found and read on each use,
from the editor's buffer when the file is open there and from disk otherwise, so an edit in either
place is seen at once.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ctypes
import gc
import heapq
import itertools
import logging
import re
import stat
import sys
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from core.bibfile import defined_keys
from core.documents.declared import Declared, InlineEntry, Named, keys_by_identity
from core.formats import parse_text, read_text, text_format
from core.formats.bibtex import EntryMemo, parse_bibtex_again
from core.index import MemoryIndex
from core.interface import PaperLibrary
from core.records import Paper, ParseFailure, UnsupportedFormat, fold
from server.confinement import real_path

_CSL_ID = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
BIBLIOGRAPHY_SUFFIXES = (".bib", ".json", ".yaml", ".yml")
# A .bib of 100,000 entries with abstracts is about 150 MB; past this a named file is not read.
MAX_BIBLIOGRAPHY_BYTES = 256 * 1024 * 1024
# Files up to this size are read at once, on the event loop; larger ones in a thread. An entry of
# the ACL Anthology's shape (about 770 bytes) reads in about 280 µs here, 2.8 MB/s (2026-12-07,
# 2 cores): 128 KB holds the loop about 45 ms, the longest a keystroke should wait.
READ_AT_ONCE_BYTES = 128 * 1024
# Keys of a bibliography offered to "did you mean", as many as the library's own pool.
NEAR_KEYS = 2000
# A file read again this many times in a row while it was being waited for is taken as it is.
_READ_ATTEMPTS = 3
log = logging.getLogger("papercite.server")


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


T = TypeVar("T")


class unlocked_cached_property(Generic[T]):
    """functools.cached_property without its lock. In Python 3.11 that lock is one per attribute of
    a class, not per object: while the reading thread built one file's search index (seconds), a
    request asking for another BibFile's index waited for it (a 1.2 s completion, measured). Two
    threads computing the same object's value at once only both compute it."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> unlocked_cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | unlocked_cached_property[T]:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value
        return value


@dataclass
class BibFile:
    """One bibliography file as read: its papers, where each key is defined, what could not be read."""

    path: Path
    papers: dict[str, Paper] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key → 0-based line of its entry
    failures: list[ParseFailure] = field(default_factory=list)
    # True for the stand-in answered from while the file's first reading is under way.
    reading: bool = False
    # What each entry's text was read as, for the next reading of the file (see EntryMemo).
    memo: EntryMemo = field(default_factory=dict, repr=False)
    # The file's reading before this one, until `prepare` has taken what it can reuse from it.
    earlier: BibFile | None = field(default=None, repr=False, compare=False)

    @unlocked_cached_property
    def searchable(self) -> MemoryIndex:
        """The papers in a search index of their own, built once per version of the file."""
        return MemoryIndex(self.papers.values())

    @unlocked_cached_property
    def entries(self) -> dict[str, tuple[Paper, str]]:
        """Key → (paper, this file's name)."""
        name = self.path.name
        return {key: (paper, name) for key, paper in self.papers.items()}

    @unlocked_cached_property
    def identities(self) -> dict[str, str]:
        """Identity (DOI, arXiv id, title and first author) → key."""
        return keys_by_identity(self.papers.values())

    @property
    def keys(self) -> set[str]:
        return set(self.lines)

    @unlocked_cached_property
    def sorted_keys(self) -> list[str]:
        """Every key defined (read or not), in order: for "did you mean" pools by bisection."""
        return sorted(self.lines)

    @unlocked_cached_property
    def _words(self) -> WordLine:
        return WordLine(self.papers, self.earlier._words if self.earlier is not None else None)

    def keys_for_prefix(self, prefix: str) -> Iterator[str]:
        """The keys of the papers whose key, title words or authors may start with `prefix`, in
        key order (a superset of those `completion.prefix_matches` accepts, found without looking
        at every paper: at 100,000 entries that took 9 s a keystroke)."""
        return self._words.keys_for(prefix)

    def prepare(self) -> BibFile:
        """Build what requests use (the search index, the identities) now, off the event loop,
        rather than in the first request after the file is read: 100,000 entries take seconds."""
        for name in ("searchable", "entries", "identities", "sorted_keys", "_words"):
            getattr(self, name)
        self.earlier = None  # (its memory goes when it is no longer answered from)
        return self


class WordLine:
    """The papers' words (folded key, title words, first word of each author) as one string, one
    line per paper in key order, so that papers with a word starting with a prefix are found by
    `str.find` instead of a Python loop over every paper."""

    def __init__(self, papers: Mapping[str, Paper], earlier: WordLine | None = None) -> None:
        """`earlier`: the line of the file's last reading, whose lines are taken over for the papers
        whose title and authors did not change (a re-reading of 100,000 entries after a one-entry
        edit: 4.95 → 4.14 s, measured 2026-12-07)."""
        self.keys = sorted(papers)
        self.starts = array("q")
        self.papers = papers
        lines, position = [], 0
        for key in self.keys:
            paper = papers[key]
            line = earlier.line_of(key, paper) if earlier is not None else None
            if line is None:
                words = [key.lower(), fold(key).replace(" ", ""), *fold(paper.title).split()]
                words += [fold(author).split()[0] for author in paper.authors if fold(author)]
                line = " " + " ".join(word.replace(" ", "") for word in words) + "\n"
            self.starts.append(position)
            lines.append(line)
            position += len(line)
        self.text = "".join(lines)

    def line_of(self, key: str, paper: Paper) -> str | None:
        """`key`'s line, if it was made from a paper of the same title and authors as `paper`."""
        known = self.papers.get(key)
        if known is None or known.title != paper.title or known.authors != paper.authors:
            return None
        row = bisect.bisect_left(self.keys, key)
        end = self.starts[row + 1] if row + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[row] : end]

    def keys_for(self, prefix: str) -> Iterator[str]:
        wanted = fold(prefix).replace(" ", "")
        if not wanted or any(character.isspace() for character in prefix):
            yield from self.keys  # every paper matches, or the prefix is one no word can have
            return
        needles = {" " + wanted, " " + prefix.lower()}
        found = [self._lines_with(needle) for needle in needles]
        last = -1
        for line in heapq.merge(*found):
            if line != last:
                yield self.keys[line]
                last = line

    def _lines_with(self, needle: str) -> Iterator[int]:
        position = self.text.find(needle)
        while position >= 0:
            line = bisect.bisect_right(self.starts, position) - 1
            yield line
            if line + 1 >= len(self.starts):
                return
            position = self.text.find(needle, self.starts[line + 1])


def read_bib_file(
    path: Path,
    text: str,
    previous: BibFile | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BibFile:
    """Every entry that reads; a broken one is a failure with its line, and its key still counts.

    A BibTeX entry whose text has not changed since `previous` (the last reading of this file) is
    taken from it, not read again; `progress(done, total)` is told how far the reading is."""
    result = BibFile(path, earlier=previous)
    try:
        fmt = text_format(text, str(path))
        if fmt == "bibtex":
            items, result.memo = parse_bibtex_again(
                text, str(path), previous.memo if previous else None, progress
            )
        else:
            items = list(parse_text(text, str(path), fmt))
        for item in items:
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


def _read(
    path: Path,
    text: str | None,
    previous: BibFile | None,
    progress: Callable[[int, int], None] | None = None,
) -> BibFile:
    """The file read from `text` (the editor's buffer) or from disk, ready for requests."""
    try:
        with collection_paused(), lock_handed_over_often():
            if text is None:
                _check_readable(path)
                text = read_text(path)
            return read_bib_file(path, text, previous, progress).prepare()
    except OSError as error:
        return BibFile(path, failures=[ParseFailure(str(path), 1, f"cannot read: {error}")])


_paused = 0
_pausing = threading.Lock()
_readers = 0
_usual_interval = 0.005
# While a file is read, the interpreter's lock changes hands every 0.5 ms instead of 5: each time a
# request on the event loop gives the lock up (for a socket, tantivy, the sentence model) it waited up
# to a whole interval to get it back, and one completion gives it up many times (0.7–1.06 s per
# request at 100,000 entries, measured 2026-12-07).
_SWITCH_INTERVAL_WHILE_READING = 0.0005


@contextlib.contextmanager
def lock_handed_over_often() -> Iterator[None]:
    global _readers, _usual_interval
    with _pausing:
        if not _readers:
            _usual_interval = sys.getswitchinterval()
            sys.setswitchinterval(_SWITCH_INTERVAL_WHILE_READING)
        _readers += 1
    try:
        yield
    finally:
        with _pausing:
            _readers -= 1
            if not _readers:
                sys.setswitchinterval(_usual_interval)


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file is read, and what the reading made kept out of
    later ones. A reading makes millions of objects that live as long as the file is open; each full
    collection meanwhile walked them all holding the interpreter's lock, freezing the event loop (9
    collections of about 0.6 s during a 100,000-entry reading, measured 2026-12-07)."""
    global _paused
    with _pausing:
        _paused += 1
        gc.disable()
    try:
        yield
    finally:
        with _pausing:
            _paused -= 1
            if not _paused:
                gc.freeze()  # (objects already garbage are freed by their reference counts)
                gc.enable()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc (macOS, Windows, musl)
        return None


_trim = _malloc_trim()


def give_back_freed_memory() -> None:
    """Hand the memory a reading freed back to the system. glibc keeps it for later allocations,
    and the server's memory stayed as large as the reading's peak: 100,000 entries read freed about
    150 MB that the server went on holding (measured 2026-12-07). ctypes lets go of the
    interpreter's lock meanwhile: run it off the event loop."""
    if _trim is not None:
        _trim(0)


class ReadingAbandoned(Exception):
    """A reading stopped half-way because the server is shutting down."""


class ReadingProgress(Protocol):
    """Told how the reading of a file off the event loop goes (the editor shows it)."""

    def begin(self, path: Path) -> None: ...

    def report(self, path: Path, done: int, total: int) -> None: ...

    def end(self, path: Path) -> None: ...


class _NoProgress:
    def begin(self, path: Path) -> None:
        pass

    def report(self, path: Path, done: int, total: int) -> None:
        pass

    def end(self, path: Path) -> None:
        pass


class BibliographyCache:
    """Read bibliography files, each read again when its editor version or its file changes.

    A small file is read at once. A larger one is read in a thread, off the event loop, so that
    every request is answered meanwhile: from the file's last reading, or, the first time, from
    a stand-in without entries (`BibFile.reading`); `read` waits for the reading instead.
    One reading of a path at a time: a change made meanwhile is read when that one lands.
    """

    def __init__(
        self,
        editor_text: Callable[[Path], tuple[int, str] | None],
        landed: Callable[[Path], None] = lambda path: None,
        progress: ReadingProgress | None = None,
    ) -> None:
        # editor_text(path): (version, text) when the file is open in the editor.
        self._editor_text = editor_text
        self._landed = landed  # told when a reading off the loop lands
        self._progress = progress or _NoProgress()
        self._files: dict[Path, tuple[object, BibFile]] = {}
        self._readings: dict[Path, tuple[object, asyncio.Future[BibFile]]] = {}
        # One thread: two big files read at once would only share the interpreter's lock.
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    def signature(self, path: Path) -> object:
        """What changes when the file does: the editor's version if open there, else its inode,
        size and time (a file replaced by a rename, as editors save, gets a new inode)."""
        open_in_editor = self._editor_text(path)
        if open_in_editor is not None:
            return ("editor", open_in_editor[0])
        try:
            info = path.stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def file(self, path: Path) -> BibFile:
        """The file as last read; a change is read now if small, else its reading starts (or goes
        on) off the event loop, and the last reading (or a stand-in) answers meanwhile."""
        signature = self.signature(path)
        cached = self._files.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        previous = cached[1] if cached is not None else None
        if path in self._readings:
            return previous or BibFile(path, reading=True)
        open_in_editor = self._editor_text(path)
        text = open_in_editor[1] if open_in_editor is not None else None
        if text is None and not signature:
            parsed = read_bib_file(path, "")
        elif self._small(path, text) or not loop_running():
            parsed = _read(path, text, previous)
        else:
            self._start(path, signature, text, previous)
            return previous or BibFile(path, reading=True)
        self._files[path] = (signature, parsed)
        return parsed

    async def read(self, path: Path) -> BibFile:
        """The file as it is now, waiting for a reading under way (not cancelled with the caller)."""
        for _ in range(_READ_ATTEMPTS):
            bib = self.file(path)
            reading = self._readings.get(path)
            if reading is None:
                return bib
            await asyncio.shield(reading[1])
        return self.file(path)

    def reading(self, path: Path) -> bool:
        return path in self._readings

    def _small(self, path: Path, text: str | None) -> bool:
        if text is not None:
            return len(text) <= READ_AT_ONCE_BYTES
        try:
            return path.stat().st_size <= READ_AT_ONCE_BYTES
        except OSError:
            return True

    def _start(self, path: Path, signature: object, text: str | None, previous: BibFile | None) -> None:
        loop = asyncio.get_running_loop()

        def report(done: int, total: int) -> None:  # (in the reading thread)
            if self._closed:  # a process waits for its reading threads before it exits
                raise ReadingAbandoned(f"{path}: the server is shutting down")
            loop.call_soon_threadsafe(self._progress.report, path, done, total)

        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="papercite-bibliography")
        future = loop.run_in_executor(self._executor, _read, path, text, previous, report)
        self._readings[path] = (signature, future)
        self._progress.begin(path)
        future.add_done_callback(lambda done: self._land(path, signature, done))

    def _land(self, path: Path, signature: object, future: asyncio.Future[BibFile]) -> None:
        self._progress.end(path)
        reading = self._readings.get(path)
        if reading is None or reading[1] is not future:
            return  # forgotten meanwhile: no open document uses the file any more
        del self._readings[path]
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, ReadingAbandoned):
            return
        if error is not None:
            log.error("reading %s failed", path, exc_info=error)
            parsed = BibFile(path, failures=[ParseFailure(str(path), 1, f"cannot read: {error}")])
        else:
            parsed = future.result()
        self._files[path] = (signature, parsed)  # (the previous reading is freed here)
        if self._executor is not None:
            self._executor.submit(give_back_freed_memory)
        self._landed(path)

    def forget(self, keep: set[Path]) -> None:
        """Drop the files no open document uses any more."""
        for path in set(self._files) - keep:
            del self._files[path]
        for path in set(self._readings) - keep:
            del self._readings[path]

    def close(self) -> None:
        """Stop reading: a reading under way ends at its next progress report."""
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


def loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


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

    def keys_for_prefix(self, prefix: str) -> Iterator[str]:
        """The keys whose entries may match `prefix` (see `BibFile.keys_for_prefix`), in order."""
        inline = sorted(self.inline)  # few: completion's own test picks among them
        found = [bib.keys_for_prefix(prefix) for bib in self.files]
        last = None
        for key in heapq.merge(*found, inline):
            if key != last:
                yield key
                last = key

    def keys_near(self, key: str, limit: int = NEAR_KEYS) -> list[str]:
        """Keys defined here sharing the first letters of `key`: the pool for "did you mean", as
        the library's own (a 100,000-entry file compared whole took 20 s a diagnostics pass)."""
        start = key[:2]
        near = [entry for entry in self.inline if entry.startswith(start)]
        for bib in self.files:
            keys = bib.sorted_keys
            first = bisect.bisect_left(keys, start)
            near += itertools.takewhile(lambda k: k.startswith(start), keys[first : first + limit])
        return near[:limit]

    def file_defining(self, key: str) -> BibFile | None:
        return next((bib for bib in self.files if key in bib.lines), None)

    @property
    def target(self) -> Resource | None:
        """The BibTeX file new entries go to: the first one named."""
        return next((resource for resource in self.resources if resource.is_bibtex), None)
