"""The language server object: per-process state (settings, the library) and failure containment."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from core.decoding import read_small_text
from core.documents import syntax
from core.documents.citations import CitedKey, find_citations
from core.documents.declared import MAX_NAMED, Declared, declared_in
from core.documents.project import ProjectSource, project_source
from core.interface import PaperLibrary
from core.library import Library
from core.records import PaperciteError
from core.remote import TOKEN_VARIABLE, RemoteLibrary, home_from
from server.bibliography import BibliographyCache, DocumentBibliography, Resource, loop_running, resolve
from server.confinement import writable_roots
from server.markdown import plain_text
from server.positions import LineIndex
from server.progress import ReadingProgress
from server.protocol import CLIENT_ERRORS, PaperciteProtocol
from server.remote_index import REQUEST_TIMEOUT_SECONDS, RemoteIndex
from server.settings import Settings, parse_settings

log = logging.getLogger("papercite.server")
VERSION = "0.1.0"
# How long a request typed into a file just opened waits for the index to open (seeding a fresh home
# takes about a second; another process's ingest can hold it longer) before answering empty.
READY_SECONDS = 10.0

T = TypeVar("T")
# A root document or project configuration larger than this is not read (theses are under 1 MB).
MAX_PROJECT_FILE_BYTES = 4 * 1024 * 1024
# How long a document's project, once found (or not), is taken as known.
PROJECT_SECONDS = 10.0
# How long a shutdown waits for a library that is still opening before answering without it.
SHUTDOWN_WAIT_SECONDS = 2.0


@dataclass
class Snapshot:
    """One version of one document, with what is derived from it computed once, on demand."""

    uri: str
    version: int | None
    text: str
    language: str
    encoding: str

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text, self.encoding)

    def citations(self) -> list[CitedKey]:
        return self._citations

    @cached_property
    def _citations(self) -> list[CitedKey]:
        return find_citations(self.text, self.language)

    @cached_property
    def declared(self) -> Declared:
        return declared_in(self.text, self.language)

    @property
    def path(self) -> Path | None:
        path = to_fs_path(self.uri)
        return Path(path) if path else None


class ShuttingDown(Exception):
    """The library was asked for after `shutdown`: nothing opens it again."""

    def __init__(self) -> None:
        super().__init__("the server is shutting down")


class PaperciteServer(LanguageServer):
    protocol: PaperciteProtocol

    def __init__(self, home: Path | str | None = None) -> None:
        super().__init__("papercite", VERSION, protocol_cls=PaperciteProtocol)
        self.settings = Settings(home=home)
        self._library: PaperLibrary | None = None
        self._library_home: tuple[Path | str, str | None] | None = None
        self._opening = asyncio.Lock()
        # uri → pending diagnostics task, so fast edits only diagnose the latest text.
        self.pending_diagnostics: dict[str, asyncio.Task[None]] = {}
        self.bibliographies = BibliographyCache(
            self.editor_text, lambda path: self.on_bibliography_read(path), ReadingProgress(self)
        )
        # uri → the bibliography_state its diagnostics were computed with, to notice file changes.
        self.bibliography_seen: dict[str, tuple[object, ...]] = {}
        # The context terms of the latest completion, to bold the right sentence when an item resolves.
        self.last_completion_terms: dict[str, float] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._projects: dict[str, tuple[float, ProjectSource | None]] = {}  # uri → (when, found)
        self._project_searches: dict[str, asyncio.Future[ProjectSource | None]] = {}  # uri → under way
        self.watcher: asyncio.Task[None] | None = None
        self.shut_down = False
        # Documents already told that papercite reads only the first MAX_NAMED bibliography files.
        self._told_too_many: set[str] = set()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Out-of-band failures (an unreadable message, a failed notification): log, and say it plainly.

        A client's own mistake (an unknown method, invalid params) was already answered with its
        error code: it is logged in one line, not shown to the user as papercite's failure."""
        if isinstance(error, CLIENT_ERRORS):
            log.warning("the editor's request was refused: %s", error)
            return
        log.error("server error from %s", getattr(source, "__name__", source), exc_info=error)
        if isinstance(error, UnicodeDecodeError):
            message = "papercite ignored a message from the editor that was not valid UTF-8"
        else:
            message = f"papercite hit an internal error and carried on: {error}"
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    async def library(self) -> PaperLibrary:
        """The library for the configured home (a folder or a server's URL), opened on first use
        (and again if the home or the token changes)."""
        # Editors cancel requests (VS Code does on every cursor move): the opening is a task of its
        # own, so that a cancelled request does not stop it half-way with the index's writer held.
        opening = asyncio.ensure_future(self._library_locked())
        try:
            return await asyncio.shield(opening)
        except asyncio.CancelledError:
            # Its failure, if any, is the next request's to see (not a traceback at exit).
            opening.add_done_callback(lambda task: task.cancelled() or task.exception())
            raise

    async def _library_locked(self) -> PaperLibrary:
        home = home_from(self.settings.home)
        token = self.settings.token or os.environ.get(TOKEN_VARIABLE)
        async with self._opening:
            if self.shut_down:
                raise ShuttingDown()
            if self._library is None or self._library_home != (home, token):
                if self._library is not None:
                    await self._library.close()
                if isinstance(home, str):
                    remote = RemoteLibrary(home, token, REQUEST_TIMEOUT_SECONDS)
                    index = RemoteIndex(remote, self._tell, lambda: self.on_library_change())
                    index.start()
                    self._library = index
                else:
                    self._library = await Library.open(home)
                self._library_home = (home, token)
                if self.shut_down:  # the server shut down while this was opening
                    await self._library.close()
                    self._library = None
                    raise ShuttingDown()
            return self._library

    @property
    def index_reachable(self) -> bool:
        """False while a server's URL is the home and it does not answer."""
        return not isinstance(self._library, RemoteIndex) or self._library.away is None

    def on_library_change(self) -> None:
        """Papers came or went in a server's index (main.py diagnoses the open documents again)."""

    def on_bibliography_read(self, path: Path) -> None:
        """A bibliography file's reading off the event loop landed (main.py diagnoses again)."""

    def _tell(self, message: str, warning: bool) -> None:
        kind = types.MessageType.Warning if warning else types.MessageType.Info
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def library_soon(self, seconds: float = READY_SECONDS) -> PaperLibrary | None:
        """The library, waiting at most `seconds` for it to open; None if it is not open by then
        (the opening goes on, and the editor asks again on the next keystroke)."""
        opening = asyncio.ensure_future(self.library())
        try:
            return await asyncio.wait_for(asyncio.shield(opening), seconds)
        except asyncio.TimeoutError:
            log.warning("the index did not open within %.0f s; answering empty for now", seconds)
            return None

    async def shut_down_now(self) -> None:
        """Stop background work and close the library; nothing opens it again (a late request fails).

        A library still opening (waiting, say, for another process's write lock) is not waited for
        past a moment: the editor's shutdown gets its answer, and that library is closed when it opens."""
        self.shut_down = True
        self.bibliographies.close()
        if self.watcher is not None:
            self.watcher.cancel()
        for pending in self.pending_diagnostics.values():
            pending.cancel()
        try:
            await asyncio.wait_for(self._opening.acquire(), SHUTDOWN_WAIT_SECONDS)
        except asyncio.TimeoutError:
            log.warning("shut down while the library was still opening")
            return
        try:
            if self._library is not None:
                await self._library.close()
                self._library = None
        finally:
            self._opening.release()

    def apply_settings(self, raw: Any) -> None:
        self.settings, problems = parse_settings(raw, self.settings)
        for problem in problems:
            log.warning(problem)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=problem))

    def markup(self, value: str, formats: object) -> types.MarkupContent | str:
        """Markdown if the client lists it among `formats`, else a plain string every client reads."""
        if formats and types.MarkupKind.Markdown in formats:  # type: ignore[operator]
            return types.MarkupContent(kind=types.MarkupKind.Markdown, value=value)
        return plain_text(value)

    @property
    def resolves_documentation(self) -> bool:
        """Whether the client fills in an item's documentation later (completionItem/resolve)."""
        item = _capability(self.client_capabilities, "text_document", "completion", "completion_item")
        support = getattr(item, "resolve_support", None)
        return bool(support and "documentation" in (support.properties or []))

    def completion_markup(self, value: str) -> types.MarkupContent | str:
        item = _capability(self.client_capabilities, "text_document", "completion", "completion_item")
        return self.markup(value, getattr(item, "documentation_format", None) if item else [])

    def hover_markup(self, value: str) -> types.MarkupContent | str:
        hover = _capability(self.client_capabilities, "text_document", "hover")
        return self.markup(value, getattr(hover, "content_format", None) if hover else [])

    def snapshot(self, uri: str) -> Snapshot | None:
        """The document's current text and derived data, if papercite is enabled for its language."""
        # Only documents the editor opened: a request naming any other URI (file:///dev/zero) reads nothing.
        document = self.workspace.text_documents.get(unquote(uri))
        if document is None:
            return None
        language = syntax.language_of(document.language_id, uri)
        if language not in self.settings.languages:
            return None
        cached = self._snapshots.get(uri)
        if cached is not None and cached.version == document.version and cached.version is not None:
            return cached
        encoding = document.position_codec.encoding
        snapshot = Snapshot(
            uri, document.version, document.source, language, getattr(encoding, "value", str(encoding))
        )
        self._snapshots[uri] = snapshot
        return snapshot

    def forget(self, uri: str) -> None:
        self._snapshots.pop(uri, None)
        self._projects.pop(uri, None)

    def editor_text(self, path: Path) -> tuple[int, str] | None:
        """(version, text) of a file open in the editor, which may differ from the disk."""
        document = self.workspace.text_documents.get(unquote(uri_of(path)))
        if document is None:
            return None
        return (document.version or 0, document.source)

    def resources(self, snapshot: Snapshot) -> list[Resource]:
        """The files the document names, looked for beside it and then in the workspace root; for
        a document that names none and has no entries of its own, the files its project names."""
        declared, beside, named_in = snapshot.declared, snapshot.path, None
        if not declared.named and not declared.inline and snapshot.path is not None:
            project = self.project_of(snapshot)
            if project is not None:
                declared, beside, named_in = project.declared, project.path, project.path
        folders = [beside.parent] if beside else []
        root = self.workspace.root_path
        if root and Path(root) not in folders:
            folders.append(Path(root))
        found = [resolve(named, folders or [Path.cwd()]) for named in declared.named]
        return [replace(resource, named_in=named_in) for resource in found] if named_in else found

    def project_of(self, snapshot: Snapshot) -> ProjectSource | None:
        """The root document or configuration naming the document's bibliography, looked for again
        at most every PROJECT_SECONDS (a search reads the folders' .tex files: not per keystroke).

        The first search is made at once; the later ones in a thread while the last finding answers
        (60 candidate files of 100 KB took 0.3–0.7 s a search, measured 2026-12-07). The watcher
        notices a finding that changed the document's bibliography and diagnoses it again."""
        now = time.monotonic()
        found = self._projects.get(snapshot.uri)
        if snapshot.path is None or (found is not None and now - found[0] <= PROJECT_SECONDS):
            return found[1] if found else None
        if found is None or not loop_running():
            source = project_source(
                snapshot.path, snapshot.text, snapshot.language, self.workspace_folders(), self.file_text
            )
            self._projects[snapshot.uri] = (now, source)
            return source
        if snapshot.uri not in self._project_searches:
            self._search_project(snapshot.uri, snapshot.path, snapshot.text, snapshot.language)
        return found[1]

    def _search_project(self, uri: str, path: Path, text: str, language: str) -> None:
        # The editor's buffers as they are now: the thread reads no server state.
        held = {unquote(key): document.source for key, document in self.workspace.text_documents.items()}

        def read(path: Path) -> str | None:
            in_editor = held.get(unquote(uri_of(path)))
            return in_editor if in_editor is not None else read_small_text(path, MAX_PROJECT_FILE_BYTES)

        search = asyncio.ensure_future(
            asyncio.to_thread(project_source, path, text, language, self.workspace_folders(), read)
        )
        self._project_searches[uri] = search

        def landed(search: asyncio.Future[ProjectSource | None]) -> None:
            self._project_searches.pop(uri, None)
            if search.cancelled():
                return
            if search.exception() is not None:
                log.error("looking for the project of %s failed", uri, exc_info=search.exception())
                return
            if uri in self._projects:  # (not closed meanwhile)
                self._projects[uri] = (time.monotonic(), search.result())

        search.add_done_callback(landed)

    def file_text(self, path: Path) -> str | None:
        """A project file's text as the editor has it, else from disk; None if it cannot be read
        or is too large to be a root document or a configuration."""
        held = self.editor_text(path)
        return held[1] if held is not None else read_small_text(path, MAX_PROJECT_FILE_BYTES)

    def workspace_folders(self) -> list[Path]:
        uris = [folder.uri for folder in self.workspace.folders.values()]
        if self.workspace.root_uri:
            uris.append(self.workspace.root_uri)
        return [Path(path) for path in map(to_fs_path, uris) if path]

    def writable_roots(self, snapshot: Snapshot) -> list[Path]:
        """The folders papercite may write in for this document: the workspace's, else its own."""
        return writable_roots(self.workspace_folders(), snapshot.path)

    def bibliography(self, snapshot: Snapshot) -> DocumentBibliography:
        if snapshot.declared.ignored and snapshot.uri not in self._told_too_many:
            self._told_too_many.add(snapshot.uri)
            name = snapshot.path.name if snapshot.path else snapshot.uri
            self._tell(
                f"papercite: {name} names {MAX_NAMED + snapshot.declared.ignored} bibliography files; "
                f"papercite reads the first {MAX_NAMED}",
                True,
            )
        resources = self.resources(snapshot)
        files = [self.bibliographies.file(r.path) for r in resources if r.exists]
        return DocumentBibliography(snapshot.declared, resources, files)

    async def bibliography_read(self, snapshot: Snapshot) -> DocumentBibliography:
        """The document's bibliography with every file read as it is now: what diagnostics and
        writes need, where a request answers at once from `bibliography` (the last reading)."""
        resources = self.resources(snapshot)
        for resource in resources:
            if resource.exists:
                await self.bibliographies.read(resource.path)
        return self.bibliography(snapshot)

    def bibliography_state(self, snapshot: Snapshot) -> tuple[object, ...]:
        """What changes when any of the document's bibliography files appears, goes or changes."""
        return tuple(
            (r.path, r.exists, self.bibliographies.signature(r.path)) for r in self.resources(snapshot)
        )

    def open_snapshots(self) -> list[Snapshot]:
        """Every open document papercite serves."""
        found = (self.snapshot(uri) for uri in list(self.workspace.text_documents))
        return [snapshot for snapshot in found if snapshot is not None]


def uri_of(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def _capability(root: object, *path: str) -> object:
    for name in path:
        root = getattr(root, name, None)
        if root is None:
            return None
    return root


def safely(default: Callable[[], T]) -> Callable[[Callable[..., Awaitable[T]]], Callable[..., Awaitable[T]]]:
    """A failing feature logs its traceback and answers `default()`: the server never dies of a request."""

    def decorate(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(handler)
        async def guarded(*args: Any, **kwargs: Any) -> T:
            try:
                return await handler(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except PaperciteError as error:  # named and already told (an index that cannot open)
                log.warning("%s: %s", handler.__name__, error)
                return default()
            except Exception:
                log.error("%s failed", handler.__name__, exc_info=True)
                return default()

        return guarded

    return decorate
