"""`papercite ingest --zotero`: a Zotero library into the index, only what changed since last time."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from core.formats.zotero import find_database, read_zotero
from core.records import IngestReport

if TYPE_CHECKING:
    from core.library import Library


@dataclass(frozen=True)
class ZoteroReport:
    database: Path
    report: IngestReport
    read: int  # items read: all of them the first time, then those changed since
    skipped: int  # items without a title
    since: str  # "" on a first run

    def summary(self) -> str:
        changed = f"{self.read} items changed since {self.since}" if self.since else f"{self.read} items"
        skipped = f", {self.skipped} without a title skipped" if self.skipped else ""
        return f"Zotero ({self.database}): {changed}{skipped}; {self.report.summary()}"


async def ingest_zotero(
    library: Library, path: Path | None = None, collection: str | None = None
) -> ZoteroReport:
    """Read a Zotero database (the file, its folder, or the default data folders when `path` is
    None) into the library. The newest modification time read is stored with the papers, in the
    same transaction, and the next run reads only items modified since."""
    # (the keys of the items modified in that very second too: Zotero's times are whole seconds)
    database = find_database(path)
    state = f"zotero:{quote(str(database.resolve()), safe='')}:{quote(collection or '', safe='')}"
    saved = json.loads(await library.store.get_meta(state) or "{}")
    since = str(saved.get("since", ""))
    items = await asyncio.to_thread(
        read_zotero, database, collection=collection, since=since, seen=tuple(saved.get("seen", ()))
    )
    mark = {"since": items.newest, "seen": list(items.at_newest)}
    report = await library.add_papers(items.papers, meta={state: json.dumps(mark)})
    return ZoteroReport(database, report, len(items.papers) + items.skipped, items.skipped, since)
