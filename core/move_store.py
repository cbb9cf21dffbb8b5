"""`papercite migrate --to postgresql://…`: a folder home's store copied into a PostgreSQL database,
keys, provenance, tokens and marks (resume points) as they are, so a team moves to serve nodes
without a paper changing its key or a token changing.

The copy is one transaction on the database: a kill or an error leaves it as it was. A database
that already holds papers or tokens is refused unless `replace` is asked for, which empties it in
the same transaction. The folder is only read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.library import STORE_FILE, STORE_ID_META, open_store
from core.records import PaperciteError
from core.store import Writer

_PAPER_COLUMNS = (
    "key, title, abstract, authors, year, venue, doi, url, arxiv_id, keywords, entry_type, "
    "title_derived, extra, identity, added_at, updated_at"
)
_COPIED = (
    ("papers", _PAPER_COLUMNS),
    ("provenance", "key, origin, format, seen_at"),
    ("tokens", "name, hash, scope, created_at"),
    ("meta", "name, value"),
    # Slack's follows, and the order papers arrived in, which their digests count from.
    ("arrivals", "seq, key"),
    (
        "follows",
        "channel, number, query, by_library, at_minute, weekly, time_zone, created_by, "
        "created_at, last_digest_at, last_arrival",
    ),
    ("channel_papers", "channel, key, how"),
    ("digest_shown", "channel, key, shown_at"),
)
# Rows per insert batch: big enough that round trips do not count, small enough to stream.
_BATCH = 2000
# Meta rows that describe one store and are not copied.
_OWN_META = (STORE_ID_META,)


@dataclass(frozen=True)
class MoveReport:
    papers: int
    provenance: int
    tokens: int
    marks: int
    replaced: bool


async def move_home(
    home: Path, url: str, *, replace: bool = False, progress: Callable[[int], None] | None = None
) -> MoveReport:
    """Copy the store in `home` into the PostgreSQL database at `url` (see the module's text)."""
    source = home / STORE_FILE
    if not source.is_file():
        raise PaperciteError(f"{home} holds no papercite store ({STORE_FILE}) to copy")
    # Brings the folder's schema up to date first, so both sides have the same tables.
    await (await open_store(home, None)).close()
    target = await open_store(home, url)
    try:
        held = {
            table: int(await target.scalar(f"SELECT count(*) FROM {table}") or 0)
            for table in ("papers", "tokens")
        }
        if any(held.values()) and not replace:
            raise PaperciteError(
                f"the database {target.where} already holds {held['papers']} papers and {held['tokens']} "
                "tokens; papercite migrate copies into an empty one (--replace empties it first)"
            )

        def copy(writer: Writer) -> MoveReport:
            if replace:
                for table in (
                    "provenance", "papers", "tokens", "meta", "changes", "rate_buckets", "arrivals",
                    "follows", "channel_papers", "digest_shown", "leases", "source_pace",
                    "source_responses",
                ):  # fmt: skip
                    writer.copy_rows(f"DELETE FROM {table}", [()])
            counts: dict[str, int] = {}
            marks = 0
            reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                for table, columns in _COPIED:
                    places = ",".join("?" * len(columns.split(",")))
                    cursor = reading.execute(f"SELECT {columns} FROM {table}")
                    counts[table] = 0
                    while rows := cursor.fetchmany(_BATCH):
                        if table == "meta":
                            rows = [row for row in rows if row[0] not in _OWN_META]
                            marks += sum(1 for row in rows if row[0] != "seeded")
                        writer.checkpoint()
                        writer.copy_rows(f"INSERT INTO {table} ({columns}) VALUES ({places})", rows)
                        counts[table] += len(rows)
                        if progress and table == "papers":
                            progress(len(rows))
            finally:
                reading.close()
            writer.reset_sequence("arrivals")
            # Every node over the database builds its index from this log.
            writer.copy_rows(
                "INSERT INTO changes (key, op) SELECT key, 'upsert' FROM papers ORDER BY key", [()]
            )
            return MoveReport(counts["papers"], counts["provenance"], counts["tokens"], marks, replace)

        return await target.write(copy)
    finally:
        await target.close()
