"""One checkout's side of `python -m benchmarks.versions`: run with that checkout's Python and code.

Reads the documents from the JSON file named by its first argument and prints one JSON object of
seconds. Imports only what every version of the server since the first benchmarks has.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.workspace import Workspace

from server import completion, hover
from server.diagnostics import diagnostics_for
from server.server import PaperciteServer


def _item(uri: str, language: str, version: int, text: str) -> types.TextDocumentItem:
    return types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)


async def measure(home: Path, work: dict[str, Any]) -> dict[str, float]:
    server = PaperciteServer(home)
    server.protocol._workspace = Workspace(None)
    server.protocol.client_capabilities = types.ClientCapabilities()
    library = await server.library()
    found: dict[str, float] = {}
    try:
        requests = []
        for uri, text, line, character in work["completions"]:
            server.workspace.put_text_document(_item(uri, "latex", 1, text))
            position = types.Position(line=line, character=character)
            requests.append(types.CompletionParams(types.TextDocumentIdentifier(uri), position))
        samples = []
        for params in requests:
            started = time.perf_counter()
            result = await completion.complete(server, params)
            samples.append(time.perf_counter() - started)
            assert result.items, params.text_document.uri
        found["completion (seed corpus)"] = statistics.median(samples)
        samples = []
        for uri, text, line, character in work["hovers"]:
            server.workspace.put_text_document(_item(uri, "latex", 1, text))
            position = types.Position(line=line, character=character)
            started = time.perf_counter()
            answer = await hover.hover(server, types.HoverParams(types.TextDocumentIdentifier(uri), position))
            samples.append(time.perf_counter() - started)
            assert answer is not None, uri
        found["hover on a cited key"] = statistics.median(samples)
        for language, text in work["documents"].items():
            uri = f"file:///bench/large.{'tex' if language == 'latex' else 'md'}"
            diagnose, complete = [], []
            lines = text.split("\n")
            at_end = types.Position(line=len(lines) - 1, character=len(lines[-1]))
            for version in range(work["runs"]):
                server.workspace.put_text_document(_item(uri, language, version, text))
                snapshot = server.snapshot(uri)
                assert snapshot is not None
                started = time.perf_counter()
                await diagnostics_for(server, snapshot, server.bibliography(snapshot))
                diagnose.append(time.perf_counter() - started)
                params = types.CompletionParams(types.TextDocumentIdentifier(uri), at_end)
                started = time.perf_counter()
                await completion.complete(server, params)
                complete.append(time.perf_counter() - started)
            size = f"{len(text) / 1e6:.1f} MB {language}"
            found[f"diagnostics, {size}"] = statistics.median(diagnose)
            found[f"completion at the end of {size}"] = statistics.median(complete)
    finally:
        await library.close()
    return found


def main() -> None:
    work = json.loads(Path(sys.argv[1]).read_text())
    with tempfile.TemporaryDirectory() as scratch:
        print(json.dumps(asyncio.run(measure(Path(scratch) / "home", work))))


if __name__ == "__main__":
    main()
