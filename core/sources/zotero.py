"""`papercite ingest --zotero`: a Zotero library into the index, only what changed since last time."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from core.formats.zotero import find_database, read_zotero
from core.interface import PaperLibrary
from core.library import Library
from core.records import IngestReport
from core.sources.marks import add_with_mark, load_mark


@dataclass(frozen=True)
class ZoteroReport:
    database: Path
    report: IngestReport
    read: int  # items read: all of them the first time, then those changed since
    skipped: int  # items without a title
    since: str  # "" on a first run
    removed: list[str]  # papers deleted in Zotero that no other source holds

    def summary(self) -> str:
        changed = f"{self.read} items changed since {self.since}" if self.since else f"{self.read} items"
        skipped = f", {self.skipped} without a title skipped" if self.skipped else ""
        removed = f", removed {len(self.removed)} deleted in Zotero" if self.removed else ""
        return f"Zotero ({self.database}): {changed}{skipped}; {self.report.summary()}{removed}"


async def ingest_zotero(
    library: PaperLibrary, path: Path | None = None, collection: str | None = None
) -> ZoteroReport:
    """Read a Zotero database (the file, its folder, or the default data folders when `path` is
    None) into the library; the next run reads only items modified since.

    In a folder's library the run's mark is stored with its last write, and items deleted in
    Zotero (emptied from the trash, or in it) since the last run leave the index unless another
    source holds them too; an item taken out of a collection stays. A team server is sent the
    changed items (see `core.sources.marks`); deletions are not sent, since only the server knows
    whether another member's source holds the paper.
    """
    # (the keys of the items modified in that very second too: Zotero's times are whole seconds)
    database = find_database(path)
    state = f"zotero:{quote(str(database.resolve()), safe='')}:{quote(collection or '', safe='')}"
    saved = await load_mark(library, state)
    since = str(saved.get("since", ""))
    known = frozenset(str(key) for key in saved.get("live", ()))
    items = await asyncio.to_thread(
        read_zotero,
        database,
        collection=collection,
        since=since,
        seen=tuple(saved.get("seen", ())),
        known=known,
    )
    mark = {"since": items.newest, "seen": list(items.at_newest), "live": sorted(items.live)}
    removed: list[str] = []
    if isinstance(library, Library):
        report = await library.add_papers(items.papers)
        # The mark goes with the last write: killed before it, the next run does both again.
        gone = [f"zotero:{key}" for key in sorted(known - items.live)]
        removed = await library.withdraw(gone, meta={state: json.dumps(mark)})
    else:
        report = await add_with_mark(library, items.papers, state, mark)
    read = len(items.papers) + items.skipped
    return ZoteroReport(database, report, read, items.skipped, since, removed)
