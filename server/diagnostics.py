"""Diagnostics: unknown keys, keys the index knows but the bibliography lacks, bibliography files
that are missing, and broken entries in the bibliography files themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from core.documents.citations import CitedKey
from core.records import PaperciteError, ParseFailure
from core.search import closest_keys
from server.bibliography import BibFile, DocumentBibliography, Resource
from server.positions import LineIndex
from server.server import PaperciteServer, Snapshot, log, uri_of

SOURCE = "papercite"
UNKNOWN_KEY = "unknown-key"
NOT_IN_BIBLIOGRAPHY = "not-in-bibliography"
MISSING_FILE = "missing-bibliography"
# How often bibliography files are checked for changes made outside the editor.
POLL_SECONDS = 1.0
# Edits arriving faster than this are diagnosed once, on the last text.
DEBOUNCE_SECONDS = 0.3
_WILDCARD = "*"  # \nocite{*}: every entry of the bibliography
# Problems shown per document: more helps no one, and a document citing one unknown key 200,000
# times took 15 s to diagnose (rendering and sending every one), holding up completion meanwhile.
MAX_DIAGNOSTICS = 1000
# Unknown keys given "did you mean" suggestions, each one lookup (a request, with a team server).
MAX_SUGGESTED = 100


def render_unknown_key(cited: CitedKey, suggestions: list[str], lines: LineIndex) -> types.Diagnostic:
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return types.Diagnostic(
        range=lines.range(cited.start, cited.end),
        message=f"Unknown citation key '{cited.key}': not in the papercite index or the bibliography{hint}",
        severity=types.DiagnosticSeverity.Warning,
        source=SOURCE,
        code=UNKNOWN_KEY,
        data={"key": cited.key, "suggestions": suggestions},
    )


def render_not_in_bibliography(cited: CitedKey, where: str, lines: LineIndex) -> types.Diagnostic:
    return types.Diagnostic(
        range=lines.range(cited.start, cited.end),
        message=f"'{cited.key}' is in the papercite index but not in {where} yet",
        severity=types.DiagnosticSeverity.Information,
        source=SOURCE,
        code=NOT_IN_BIBLIOGRAPHY,
        data={"key": cited.key},
    )


def render_missing_file(resource: Resource, lines: LineIndex) -> types.Diagnostic:
    named = resource.named
    return types.Diagnostic(
        range=lines.range(named.start, named.end),
        message=f"Bibliography file '{named.name}' not found (looked beside the document and in the "
        f"workspace root, with and without '.bib')",
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code=MISSING_FILE,
    )


def render_failure(failure: ParseFailure) -> types.Diagnostic:
    line = max(failure.line - 1, 0)
    return types.Diagnostic(
        range=types.Range(start=types.Position(line, 0), end=types.Position(line + 1, 0)),
        message=f"papercite cannot read this entry: {failure.reason}",
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


def unknown_citations(cited: list[CitedKey], known: Collection[str]) -> list[CitedKey]:
    return [c for c in cited if c.key != _WILDCARD and c.key not in known]


def where_entries_go(bibliography: DocumentBibliography) -> str | None:
    """How a document's bibliography is named in messages, or None if it has none."""
    if bibliography.target is not None:
        return bibliography.target.path.name
    if bibliography.resources or bibliography.inline:
        return "the bibliography"
    return None


@dataclass(frozen=True)
class CitationCheck:
    unknown: dict[str, list[str]]  # key known nowhere → the closest known keys
    not_in_bibliography: list[str]  # keys the index knows and the bibliography lacks (if it has one)


async def check_citations(
    server: PaperciteServer, cited: list[CitedKey], bibliography: DocumentBibliography
) -> CitationCheck:
    library = await server.library()
    keys = sorted({c.key for c in cited})
    in_index = set(await library.get_many(keys))
    if not server.index_reachable:  # a server's index is away: nothing can be called unknown
        return CitationCheck({}, [])
    unknown: dict[str, list[str]] = {
        c.key: [] for c in unknown_citations(cited, in_index | bibliography.keys)
    }
    if unknown:
        pools = {
            key: bibliography.keys_near(key) + await library.keys_near(key)
            for key in list(unknown)[:MAX_SUGGESTED]
        }
        # In a thread: difflib over a pool of 2,000 long keys (a big .bib's) takes 0.3 s a key here.
        unknown.update(await asyncio.to_thread(_suggestions, pools))
    lacking = []
    if where_entries_go(bibliography) is not None:
        lacking = [key for key in keys if key in in_index and key not in bibliography.keys]
    return CitationCheck(unknown, lacking)


def _suggestions(pools: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: closest_keys(key, pool) for key, pool in pools.items()}


async def diagnostics_for(
    server: PaperciteServer, snapshot: Snapshot, bibliography: DocumentBibliography
) -> list[types.Diagnostic]:
    cited = snapshot.citations()
    check = await check_citations(server, cited, bibliography)
    # (a file the project names is reported in the file that names it)
    found = [
        render_missing_file(r, snapshot.lines)
        for r in bibliography.resources
        if not r.exists and r.named_in is None
    ]
    where = where_entries_go(bibliography) or ""
    lacking = set(check.not_in_bibliography)
    for citation in cited:
        if len(found) >= MAX_DIAGNOSTICS:
            log.info("%s: showing the first %d problems", snapshot.uri, MAX_DIAGNOSTICS)
            break
        if citation.key in check.unknown:
            found.append(render_unknown_key(citation, check.unknown[citation.key], snapshot.lines))
        elif citation.key in lacking:
            found.append(render_not_in_bibliography(citation, where, snapshot.lines))
    return sorted(found, key=lambda d: (d.range.start.line, d.range.start.character))


def publish_file_diagnostics(server: PaperciteServer, bib: BibFile) -> None:
    """A bibliography file's broken entries, shown in that file (open in the editor or not)."""
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri_of(bib.path), diagnostics=[render_failure(f) for f in bib.failures]
        )
    )


async def publish(server: PaperciteServer, uri: str, *, delay: float = DEBOUNCE_SECONDS) -> None:
    try:
        await asyncio.sleep(delay)
        snapshot = server.snapshot(uri)
        if snapshot is None:
            return
        server.bibliography_seen[uri] = server.bibliography_state(snapshot)
        if not server.settings.diagnostics:
            return
        # A big file is read off the event loop: the diagnostics wait for it (an unread entry is
        # no unknown key), requests meanwhile do not.
        bibliography = await server.bibliography_read(snapshot)
        snapshot = server.snapshot(uri)  # (the document may have changed meanwhile)
        if snapshot is None:
            return
        bibliography = server.bibliography(snapshot)
        found = await diagnostics_for(server, snapshot, bibliography)
    except asyncio.CancelledError:
        raise
    except PaperciteError as error:  # named and already told (an index that cannot open)
        log.warning("diagnostics of %s: %s", uri, error)
        return
    except Exception:
        log.error("diagnostics failed for %s", uri, exc_info=True)
        return
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))
    for bib in bibliography.files:
        publish_file_diagnostics(server, bib)


async def publish_file_when_read(server: PaperciteServer, path: Path) -> None:
    """A bibliography file's broken entries, once it is read (off the event loop if it is big)."""
    try:
        publish_file_diagnostics(server, await server.bibliographies.read(path))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.error("reading %s failed", path, exc_info=True)


def schedule(server: PaperciteServer, uri: str, delay: float = DEBOUNCE_SECONDS) -> None:
    """(Re)start the diagnostics of a document; an older pending run is cancelled."""
    pending = server.pending_diagnostics.pop(uri, None)
    if pending is not None:
        pending.cancel()
    server.pending_diagnostics[uri] = asyncio.ensure_future(publish(server, uri, delay=delay))


def schedule_all(server: PaperciteServer, delay: float = DEBOUNCE_SECONDS) -> None:
    for snapshot in server.open_snapshots():
        schedule(server, snapshot.uri, delay)


async def watch_bibliographies(server: PaperciteServer) -> None:
    """Diagnose again the documents whose bibliography files appeared, went or changed.

    Polling a few stat() calls a second works with every client; not all can watch files for us.
    """
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            for snapshot in server.open_snapshots():
                state = server.bibliography_state(snapshot)
                if state != server.bibliography_seen.get(snapshot.uri):
                    server.bibliography_seen[snapshot.uri] = state
                    schedule(server, snapshot.uri, delay=0)
        except Exception:
            log.error("watching bibliography files failed", exc_info=True)
