"""A Zotero library read straight from its database (`zotero.sqlite`), safely while Zotero runs.

Zotero keeps its database open with an exclusive lock (`PRAGMA locking_mode=EXCLUSIVE`) and, since
Zotero 7, in WAL mode with the WAL index in its own memory: another process can neither open the
file normally nor see the commits still in `zotero.sqlite-wal`. So papercite never opens Zotero's
file. It copies the database and its WAL (or rollback journal) into a temporary folder, checks that
neither changed while it copied (else copies again), and reads the copy, which SQLite brings up to
the last commit from the copied WAL. Zotero is never blocked and never sees another connection.

Citation keys: Better BibTeX's (its `better-bibtex.sqlite`, table `citationkey`) when present,
else Zotero 7's own `citationKey` field, else a `Citation Key:` line in Extra.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.identifiers import find_identifiers, split_arxiv_doi
from core.records import Paper, PaperciteError

DATABASE = "zotero.sqlite"
BETTER_BIBTEX = "better-bibtex.sqlite"
_SIDE_FILES = ("-wal", "-journal")
_COPY_ATTEMPTS = 5
_SKIPPED_TYPES = ("note", "attachment", "annotation")
_ENTRY_TYPES = {
    "journalArticle": "article", "magazineArticle": "article", "newspaperArticle": "article",
    "conferencePaper": "inproceedings", "preprint": "misc", "book": "book", "bookSection": "incollection",
    "thesis": "phdthesis", "report": "techreport", "webpage": "online", "manuscript": "unpublished",
    "dataset": "misc", "computerProgram": "software", "encyclopediaArticle": "incollection",
}  # fmt: skip
# Where an item's venue is, by the field its type uses.
_VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "bookTitle", "conferenceName", "websiteTitle")
_KEPT_FIELDS = {"volume": "volume", "issue": "number", "pages": "pages", "publisher": "publisher"}
_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
_EXTRA_KEY = re.compile(r"^\s*Citation Key:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


class ZoteroError(PaperciteError):
    pass


@dataclass(frozen=True)
class ZoteroItems:
    papers: list[Paper]
    newest: str  # the latest modification time among the items read: where the next run starts
    at_newest: tuple[str, ...]  # keys of the items modified at exactly that time (seconds are coarse)
    skipped: int  # items without a title
    live: frozenset[str]  # the keys of every item the library holds now, whatever the collection


def default_data_folders(
    home: Path | None = None, platform: str | None = None, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """Folders Zotero keeps its data in, most likely first: a data directory set in Zotero's
    preferences (prefs.js, `extensions.zotero.dataDir`), then `~/Zotero` (the default of Zotero 5
    and later on Linux, macOS and Windows), then the profile folders of older versions."""
    home = home or Path.home()
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ
    if platform.startswith("win"):
        appdata = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
        profiles = appdata / "Zotero" / "Zotero" / "Profiles"
    elif platform == "darwin":
        profiles = home / "Library" / "Application Support" / "Zotero" / "Profiles"
    else:
        profiles = home / ".zotero" / "zotero"
    found: list[Path] = []
    for prefs in sorted(profiles.glob("*/prefs.js")) if profiles.is_dir() else []:
        try:
            text = prefs.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        match = re.search(r'user_pref\("extensions\.zotero\.dataDir",\s*"((?:[^"\\]|\\.)*)"\);', text)
        if match:
            found.append(Path(match.group(1).replace("\\\\", "\\")))
    found.append(home / "Zotero")
    found.extend(
        sorted(path.parent / "zotero" for path in profiles.glob("*/prefs.js")) if profiles.is_dir() else []
    )
    return list(dict.fromkeys(found))


def find_database(path: Path | None = None) -> Path:
    """`zotero.sqlite` at `path` (the file or its folder), else in the default data folders."""
    if path is not None:
        candidate = path / DATABASE if path.is_dir() else path
        if not candidate.is_file():
            raise ZoteroError(f"no Zotero database at {candidate}")
        return candidate
    for folder in default_data_folders():
        if (folder / DATABASE).is_file():
            return folder / DATABASE
    tried = ", ".join(str(folder) for folder in default_data_folders())
    raise ZoteroError(f"no Zotero database found (looked in {tried}); give its path: --zotero PATH")


def _signature(path: Path) -> tuple[tuple[int, int], ...]:
    stats = []
    for suffix in ("", *_SIDE_FILES):
        try:
            stat = Path(str(path) + suffix).stat()
            stats.append((stat.st_size, stat.st_mtime_ns))
        except FileNotFoundError:
            stats.append((-1, -1))
    return tuple(stats)


@contextmanager
def snapshot(path: Path) -> Iterator[Path]:
    """A private copy of a SQLite database with its WAL or journal, taken while nothing wrote."""
    with tempfile.TemporaryDirectory(prefix="papercite-zotero-") as folder:
        copy = Path(folder) / path.name
        for _ in range(_COPY_ATTEMPTS):
            before = _signature(path)
            for suffix in ("", *_SIDE_FILES):
                target = Path(str(copy) + suffix)
                target.unlink(missing_ok=True)
                source = Path(str(path) + suffix)
                if source.exists():
                    shutil.copyfile(source, target)
            if _signature(path) == before:
                break
        else:
            raise ZoteroError(f"{path} kept changing while it was copied; try again in a moment")
        yield copy


def _decoded(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _text(value: object) -> str:
    """A column's value as text: SQLite holds whatever was written, a blob or a number included."""
    if value is None:
        return ""
    return _decoded(value) if isinstance(value, bytes) else str(value)


def _connect(path: Path, shown: Path | None = None) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path)
        # One damaged value (bytes that are not UTF-8) reads as U+FFFD instead of ending the read.
        db.text_factory = _decoded
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise ZoteroError(f"{shown or path} cannot be read as a Zotero database: {error}") from None
    return db


def _better_bibtex_keys(folder: Path) -> dict[tuple[int, str], str]:
    """(libraryID, item key) → citation key, from Better BibTeX's database if it has one."""
    path = folder / BETTER_BIBTEX
    if not path.is_file():
        return {}
    try:
        with snapshot(path) as copy, closing(_connect(copy)) as db:
            rows = db.execute("SELECT libraryID, itemKey, citationKey FROM citationkey").fetchall()
    except (sqlite3.DatabaseError, ZoteroError):
        return {}  # an older Better BibTeX, another layout: Zotero's own keys still count
    return {(int(lib or 1), str(key)): str(cite) for lib, key, cite in rows if key and cite}


def read_zotero(
    path: Path,
    *,
    collection: str | None = None,
    since: str = "",
    seen: tuple[str, ...] = (),
    known: frozenset[str] = frozenset(),
) -> ZoteroItems:
    """The library's items (not notes, attachments, annotations or the trash) as papers; with
    `since`, only those modified after that time (Zotero's `YYYY-MM-DD HH:MM:SS`, UTC), or at
    it but not among the item keys `seen` then, or missing from the keys `known` to the last run
    (restored from the trash without a change)."""
    bbt = _better_bibtex_keys(path.parent)
    with snapshot(path) as copy, closing(_connect(copy, path)) as db:
        try:
            return _read(db, path, bbt, collection, since, set(seen), known)
        except sqlite3.DatabaseError as error:
            raise ZoteroError(f"{path} is not a Zotero database papercite can read: {error}") from None


def _read(
    db: sqlite3.Connection,
    path: Path,
    bbt: dict[tuple[int, str], str],
    collection: str | None,
    since: str,
    seen: set[str],
    known: frozenset[str],
) -> ZoteroItems:
    live = frozenset(
        _text(row[0])
        for row in db.execute(
            """SELECT i.key FROM items i JOIN itemTypesCombined t ON t.itemTypeID = i.itemTypeID
               WHERE t.typeName NOT IN (?, ?, ?) AND i.itemID NOT IN (SELECT itemID FROM deletedItems)""",
            _SKIPPED_TYPES,
        )
    )
    back = live - known if known else frozenset()
    wanted = ""
    parameters: list[object] = [*_SKIPPED_TYPES]
    if collection is not None:
        found = db.execute(
            "SELECT count(*) FROM collections WHERE collectionName = ?", (collection,)
        ).fetchone()
        if not found[0]:
            names = [row[0] for row in db.execute("SELECT collectionName FROM collections ORDER BY 1")]
            listed = f"; it has {', '.join(repr(n) for n in names)}" if names else "; it has none"
            raise ZoteroError(f"no collection named {collection!r} in {path}{listed}")
        # A collection with its subcollections, as Zotero shows it with "Show items from subcollections".
        wanted = """AND i.itemID IN (
            WITH RECURSIVE chosen(id) AS (
                SELECT collectionID FROM collections WHERE collectionName = ?
                UNION SELECT c.collectionID FROM collections c JOIN chosen ON c.parentCollectionID = chosen.id)
            SELECT itemID FROM collectionItems WHERE collectionID IN chosen)"""
        parameters.append(collection)
    items = db.execute(
        f"""SELECT i.itemID, i.libraryID, i.key, t.typeName, max(i.dateModified, i.clientDateModified)
            FROM items i JOIN itemTypesCombined t ON t.itemTypeID = i.itemTypeID
            WHERE t.typeName NOT IN (?, ?, ?)
              AND i.itemID NOT IN (SELECT itemID FROM deletedItems)
              {wanted}
            ORDER BY i.itemID""",
        parameters,
    ).fetchall()
    # Times are whole seconds: an item saved in the second the last run ended may be new to us.
    items = [
        row
        for row in items
        if str(row[4]) > since or (str(row[4]) == since and row[2] not in seen) or row[2] in back
    ]
    ids = {row[0] for row in items}
    fields: dict[int, dict[str, str]] = defaultdict(dict)
    for item_id, name, value in db.execute(
        """SELECT d.itemID, f.fieldName, v.value FROM itemData d
           JOIN fieldsCombined f ON f.fieldID = d.fieldID JOIN itemDataValues v ON v.valueID = d.valueID"""
    ):
        if item_id in ids:
            fields[item_id][_text(name)] = _text(value)
    creators: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for item_id, kind, first, last, mode in db.execute(
        """SELECT ic.itemID, ct.creatorType, c.firstName, c.lastName, c.fieldMode FROM itemCreators ic
           JOIN creators c ON c.creatorID = ic.creatorID JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID
           ORDER BY ic.itemID, ic.orderIndex"""
    ):
        if item_id in ids:
            first, last = _text(first), _text(last)
            name = last if mode == 1 or not first else f"{last}, {first}"
            if name:
                creators[item_id].append((kind, name))
    tags: dict[int, list[str]] = defaultdict(list)
    for item_id, name in db.execute(
        "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID ORDER BY t.name"
    ):
        if item_id in ids:
            tags[item_id].append(_text(name))
    papers, skipped = [], 0
    newest = max([since, *(str(row[4]) for row in items)])
    at_newest = {key for key in seen if newest == since} | {
        str(row[2]) for row in items if str(row[4]) == newest
    }
    for item_id, library_id, key, type_name, _modified in items:
        key, type_name = _text(key), _text(type_name)
        paper = _paper(
            fields[item_id], creators[item_id], tags[item_id], type_name, key, bbt.get((library_id, key))
        )
        if paper is None:
            skipped += 1
        else:
            papers.append(paper)
    return ZoteroItems(papers, newest, tuple(sorted(at_newest)), skipped, live)


def _paper(
    fields: dict[str, str],
    creators: list[tuple[str, str]],
    tags: list[str],
    type_name: str,
    item_key: str,
    bbt_key: str | None,
) -> Paper | None:
    title = " ".join(fields.get("title", "").split())
    if not title:
        return None
    extra = fields.get("extra", "")
    extra_key = _EXTRA_KEY.search(extra)
    doi, arxiv_id = split_arxiv_doi(fields.get("DOI", ""))
    if not arxiv_id:
        for text in (fields.get("archiveID", ""), fields.get("url", ""), extra):
            found = [f for f in find_identifiers(text) if f.identifier.kind == "arxiv"]
            if found:
                arxiv_id = found[0].identifier.value
                break
    authors = [name for kind, name in creators if kind == "author"] or [name for _, name in creators]
    year = _YEAR.search(fields.get("date", ""))
    venue = next((fields[name] for name in _VENUE_FIELDS if fields.get(name)), "")
    if not venue and type_name != "preprint":
        venue = fields.get("repository", "")
    return Paper(
        key=bbt_key or fields.get("citationKey", "") or (extra_key.group(1) if extra_key else ""),
        title=title,
        abstract=fields.get("abstractNote", "").strip(),
        authors=tuple(authors),
        year=int(year.group(1)) if year else None,
        venue=venue,
        doi=doi,
        url=fields.get("url", ""),
        arxiv_id=arxiv_id,
        keywords=tuple(tags),
        entry_type=_ENTRY_TYPES.get(type_name, "misc"),
        extra=tuple((name, fields[field]) for field, name in _KEPT_FIELDS.items() if fields.get(field)),
        origin=f"zotero:{item_key}",
        format="zotero",
    )
