"""Where a run over a source keeps its place: with the papers it stored, or beside a team server.

In a folder's library a mark (a harvest's resumption token, a Zotero run's last modification
time) is stored in the same transaction as the papers it follows: a kill cannot lose or repeat
them. A team server is sent the papers first, in batches, and the mark is then kept in this
machine's cache of that server: a kill in between sends the last batch again, which the server
finds unchanged; a lost cache sends everything again, to the same effect.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.bibfile import write_whole
from core.interface import PaperLibrary
from core.library import Library
from core.records import IngestReport, Paper

# Papers per request to a team server (its API takes up to 2,000).
BATCH = 500
MARKS_FILE = "marks.json"


async def load_mark(library: PaperLibrary, name: str) -> dict[str, Any]:
    if isinstance(library, Library):
        raw = await library.store.get_meta(name)
        mark = json.loads(raw) if raw else {}
    else:
        mark = _read(library.home / MARKS_FILE).get(name, {})
    return mark if isinstance(mark, dict) else {}


async def add_with_mark(
    library: PaperLibrary, papers: Sequence[Paper], name: str, mark: dict[str, Any]
) -> IngestReport:
    """Store `papers`, and `mark` as where the run has got to once they are stored."""
    if isinstance(library, Library):
        return await library.add_papers(papers, meta={name: json.dumps(mark)})
    report = IngestReport()
    for start in range(0, len(papers), BATCH):
        report.absorb(await library.add_papers(papers[start : start + BATCH]))
    report.settle()
    _save_beside(library, name, mark)
    return report


def _save_beside(library: PaperLibrary, name: str, mark: dict[str, Any]) -> None:
    """Keep `mark` in this machine's cache of a team server (a folder's marks go with its papers)."""
    path = library.home / MARKS_FILE
    with contextlib.suppress(OSError):  # a cache: without it the next run sends everything again
        write_whole(path, json.dumps({**_read(path), name: mark}).encode("utf-8"))


def _read(path: Path) -> dict[str, Any]:
    try:
        marks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marks if isinstance(marks, dict) else {}
