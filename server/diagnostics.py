"""Diagnostics: a cited key that neither the index nor the document's bibliography knows."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from lsprotocol import types

from core.search import closest_keys
from server.citations import CitedKey
from server.positions import LineIndex
from server.server import PaperciteServer, log

SOURCE = "papercite"
# Edits arriving faster than this are diagnosed once, on the last text.
DEBOUNCE_SECONDS = 0.3
_WILDCARD = "*"  # \nocite{*}: every entry of the bibliography


def render_unknown_key(cited: CitedKey, suggestions: list[str], lines: LineIndex) -> types.Diagnostic:
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return types.Diagnostic(
        range=lines.range(cited.start, cited.end),
        message=f"Unknown citation key '{cited.key}': not in the papercite index or the bibliography{hint}",
        severity=types.DiagnosticSeverity.Warning,
        source=SOURCE,
        code="unknown-key",
        data={"key": cited.key, "suggestions": suggestions},
    )


def unknown_citations(cited: list[CitedKey], known: Collection[str]) -> list[CitedKey]:
    return [c for c in cited if c.key != _WILDCARD and c.key not in known]


async def diagnostics_for(server: PaperciteServer, uri: str) -> list[types.Diagnostic] | None:
    snapshot = server.snapshot(uri)
    if snapshot is None or not server.settings.diagnostics:
        return None
    cited = snapshot.citations()
    library = await server.library()
    keys = sorted({c.key for c in cited})
    known: set[str] = set(await library.get_many(keys))
    known |= server.bibliographies.keys(snapshot.bibliography)
    unknown = unknown_citations(cited, known)
    suggestions: Mapping[str, list[str]] = {}
    if unknown:
        local = sorted(server.bibliographies.keys(snapshot.bibliography))
        suggestions = {
            key: closest_keys(key, local + await library.store.keys_near(key))
            for key in {c.key for c in unknown}
        }
    return [render_unknown_key(c, suggestions.get(c.key, []), snapshot.lines) for c in unknown]


async def publish(server: PaperciteServer, uri: str, *, delay: float = DEBOUNCE_SECONDS) -> None:
    try:
        await asyncio.sleep(delay)
        found = await diagnostics_for(server, uri)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.error("diagnostics failed for %s", uri, exc_info=True)
        return
    if found is not None:
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))


def schedule(server: PaperciteServer, uri: str, delay: float = DEBOUNCE_SECONDS) -> None:
    """(Re)start the diagnostics of a document; an older pending run is cancelled."""
    pending = server.pending_diagnostics.pop(uri, None)
    if pending is not None:
        pending.cancel()
    server.pending_diagnostics[uri] = asyncio.ensure_future(publish(server, uri, delay=delay))
