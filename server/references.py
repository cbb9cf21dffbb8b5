"""Find references: every use of a key in the workspace's documents — open in the editor, or read
from disk — from a citation or from its .bib entry."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from core.bibfile import defined_keys
from core.documents import syntax
from core.documents.citations import citation_at
from core.formats import read_text
from server.definition import definition_of, no_locations
from server.server import PaperciteServer, Snapshot, safely, uri_of

# A workspace's documents are read from disk within these bounds, so that a home folder opened as
# a workspace answers in a moment rather than walking everything: folders holding tools' files
# (hidden ones, node_modules, virtual environments, build output) are skipped, the walk stops after
# so many directory entries, and a file too big to be written by hand is left alone.
MAX_DOCUMENTS = 2000
MAX_ENTRIES = 50_000
MAX_DOCUMENT_BYTES = 2_000_000
SKIPPED_FOLDERS = frozenset(
    {"node_modules", "__pycache__", "site-packages", "venv", "env", "_build", "_site", "_book", "_freeze"}
)
# Documents that cite: the extensions papercite reads, but not LaTeX packages and classes, whose
# macro definitions are not citations.
DOCUMENT_SUFFIXES = frozenset(syntax.EXTENSIONS) - {".sty", ".cls"}


@dataclass(frozen=True)
class OnDisk:
    path: Path
    text: str
    language: str


def key_at(server: PaperciteServer, uri: str, position: types.Position) -> str | None:
    """The key cited under the cursor, or defined on the cursor's line of a .bib file."""
    snapshot = server.snapshot(uri)
    if snapshot is not None:
        cited = citation_at(snapshot.citations(), snapshot.lines.offset(position))
        return cited.key if cited else None
    if uri.lower().endswith(".bib"):
        text = server.workspace.get_text_document(uri).source
        return next((key for key, line in defined_keys(text).items() if line == position.line), None)
    return None


def workspace_documents(roots: list[Path]) -> list[Path]:
    """The citing documents under `roots` (a folder's own before its subfolders', within the bounds
    above), in path order."""
    found: list[Path] = []
    seen = 0
    pending = list(reversed(roots))
    while pending and len(found) < MAX_DOCUMENTS and seen < MAX_ENTRIES:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        folders = []
        for entry in listed:
            seen += 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith(".") and entry.name not in SKIPPED_FOLDERS:
                        folders.append(Path(entry.path))
                elif Path(entry.name).suffix.lower() in DOCUMENT_SUFFIXES and entry.is_file():
                    found.append(Path(entry.path))
            except OSError:
                continue
        pending += reversed(folders)
    return sorted(found[:MAX_DOCUMENTS])


def documents_citing(key: str, roots: list[Path], skip: set[str], languages: frozenset[str]) -> list[OnDisk]:
    """The documents on disk (whose real paths are not in `skip`) whose text holds `key`; the caller finds the citations."""
    citing = []
    for path in workspace_documents(roots):
        language = syntax.EXTENSIONS[path.suffix.lower()]
        if language not in languages or os.path.realpath(path) in skip:
            continue
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                continue
            text = read_text(path)
        except (OSError, ValueError):
            continue
        if key in text:  # most documents do not mention the key: no need to parse them
            citing.append(OnDisk(path, text, language))
    return citing


def workspace_roots(server: PaperciteServer, uri: str) -> list[Path]:
    """The workspace's folders, else the folder of the document asked from."""
    uris = [folder.uri for folder in server.workspace.folders.values()]
    if server.workspace.root_uri:
        uris.append(server.workspace.root_uri)
    folders = [Path(path) for path in map(to_fs_path, uris) if path]
    document = to_fs_path(uri)
    if not folders and document:
        folders = [Path(document).parent]
    return list(dict.fromkeys(Path(os.path.realpath(folder)) for folder in folders))


def uses_in(snapshot: Snapshot, key: str) -> list[types.Location]:
    return [
        types.Location(uri=snapshot.uri, range=snapshot.lines.range(c.start, c.end))
        for c in snapshot.citations()
        if c.key == key
    ]


@safely(no_locations)
async def references(server: PaperciteServer, params: types.ReferenceParams) -> list[types.Location]:
    key = key_at(server, params.text_document.uri, params.position)
    if key is None:
        return []
    # The open documents as the editor holds them, then the others as saved.
    documents = server.open_snapshots()
    open_paths = {os.path.realpath(s.path) if s.path else s.uri for s in documents}
    roots = workspace_roots(server, params.text_document.uri)
    on_disk = await asyncio.to_thread(documents_citing, key, roots, open_paths, server.settings.languages)
    encoding = server.workspace.position_encoding
    encoding = getattr(encoding, "value", str(encoding))
    documents += [Snapshot(uri_of(d.path), None, d.text, d.language, encoding) for d in on_disk]
    found: list[types.Location] = []
    citing = []
    for snapshot in documents:
        uses = uses_in(snapshot, key)
        citing += [snapshot] if uses else []
        found += uses
    if params.context.include_declaration and citing:
        found = await definition_of(server, citing[0], key) + found
    return found
