"""A document's project is looked for again in a thread, while the last finding answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lsprotocol import types
from pygls.workspace import Workspace

from server.server import PROJECT_SECONDS, PaperciteServer


async def test_a_project_is_looked_for_again_off_the_event_loop(tmp_path: Path) -> None:
    server = PaperciteServer(tmp_path / "home")
    server.protocol._workspace = Workspace(tmp_path.as_uri())
    chapter = tmp_path / "chapters" / "one.tex"
    chapter.parent.mkdir()
    chapter.write_text("Text~\\cite{x}.\n")
    uri = chapter.as_uri()
    server.workspace.put_text_document(
        types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=chapter.read_text())
    )
    snapshot = server.snapshot(uri)
    assert snapshot is not None
    assert server.project_of(snapshot) is None  # no root: the first search is made at once
    root = tmp_path / "main.tex"
    root.write_text(
        "\\documentclass{book}\n\\bibliography{refs}\n\\begin{document}\n\\include{chapters/one}\n"
    )
    server._projects[uri] = (time.monotonic() - PROJECT_SECONDS - 1, None)  # that finding is old now
    assert server.project_of(snapshot) is None  # answered from it while the search runs
    search = server._project_searches[uri]
    await asyncio.wait_for(search, 10)
    await asyncio.sleep(0)  # (its landing is a callback)
    found = server.project_of(snapshot)
    assert found is not None and found.path == root and uri not in server._project_searches
