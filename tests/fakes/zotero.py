"""Small Zotero databases for tests, built table by table with Zotero's real table and field names.

The CREATE statements below are written here for the subset papercite reads; they follow the names
and columns of Zotero's schema (resource/schema/userdata.sql in the zotero/zotero repository, read
for this purpose) but are not copied from it: that file is AGPL-licensed and is not part of this
project. Item type, field and creator type names are Zotero's own (`journalArticle`,
`abstractNote`, `citationKey`, `author`, …); their numeric ids here are arbitrary, as the reader
must only ever join on them.
"""

from __future__ import annotations

import sqlite3
from itertools import count
from pathlib import Path

TABLES = """
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL,
    filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE itemTypesCombined (itemTypeID INT NOT NULL PRIMARY KEY, typeName TEXT NOT NULL,
    display INT DEFAULT 1 NOT NULL, custom INT NOT NULL);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE fieldsCombined (fieldID INT NOT NULL PRIMARY KEY, fieldName TEXT NOT NULL, label TEXT,
    fieldFormatID INT, custom INT NOT NULL);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, clientVersion INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE, valueNormalized TEXT);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT);
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT,
    firstNameNormalized TEXT, lastNameNormalized TEXT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex),
    UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL,
    parentCollectionID INT DEFAULT NULL, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (collectionID, itemID));
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, nameNormalized TEXT);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL, PRIMARY KEY (itemID, tagID));
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
"""
ITEM_TYPES = ["annotation", "attachment", "book", "bookSection", "conferencePaper", "journalArticle", "note",
              "preprint", "report", "thesis", "webpage"]  # fmt: skip
FIELDS = ["title", "abstractNote", "date", "DOI", "url", "publicationTitle", "proceedingsTitle", "bookTitle",
          "extra", "citationKey", "archiveID", "repository", "volume", "issue", "pages", "publisher"]  # fmt: skip
CREATOR_TYPES = ["author", "contributor", "editor"]


class ZoteroDatabase:
    """A zotero.sqlite being filled: `add_item(...)` returns the item's key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(TABLES)
        self.db.execute("INSERT INTO libraries VALUES (1, 'user', 1, 1, 0)")
        for number, name in enumerate(ITEM_TYPES, start=1):
            # Ids unlike Zotero's, on purpose: only names may be relied on.
            self.db.execute("INSERT INTO itemTypesCombined VALUES (?, ?, 1, 0)", (number * 7, name))
            self.db.execute("INSERT INTO itemTypes VALUES (?, ?, NULL, 1)", (number * 7, name))
        for number, name in enumerate(FIELDS, start=1):
            self.db.execute("INSERT INTO fieldsCombined VALUES (?, ?, NULL, NULL, 0)", (number * 3, name))
            self.db.execute("INSERT INTO fields VALUES (?, ?, NULL)", (number * 3, name))
        for number, name in enumerate(CREATOR_TYPES, start=1):
            self.db.execute("INSERT INTO creatorTypes VALUES (?, ?)", (number, name))
        self._keys = count(1)

    def close(self) -> None:
        self.db.close()

    def add_collection(self, name: str, parent: int | None = None) -> int:
        cursor = self.db.execute(
            "INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) VALUES (?, ?, 1, ?)",
            (name, parent, f"C{next(self._keys):07d}"),
        )
        return int(cursor.lastrowid or 0)

    def add_item(
        self,
        item_type: str,
        fields: dict[str, str],
        creators: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
        *,
        collections: list[int] = (),  # type: ignore[assignment]
        tags: list[str] = (),  # type: ignore[assignment]
        modified: str = "2024-01-01 10:00:00",
        key: str | None = None,
    ) -> str:
        key = key or f"K{next(self._keys):07d}"
        type_id = self.db.execute(
            "SELECT itemTypeID FROM itemTypesCombined WHERE typeName = ?", (item_type,)
        ).fetchone()[0]
        item = self.db.execute(
            "INSERT INTO items (itemTypeID, dateModified, clientDateModified, libraryID, key) VALUES (?, ?, ?, 1, ?)",
            (type_id, modified, modified, key),
        ).lastrowid
        for name, value in fields.items():
            self.set_field(key, name, value, modified=None)
        for order, (kind, first, last) in enumerate(creators):
            self.db.execute(
                "INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                (first, last, 1 if not first else 0),
            )
            creator = self.db.execute(
                "SELECT creatorID FROM creators WHERE firstName = ? AND lastName = ?", (first, last)
            ).fetchone()[0]
            kind_id = self.db.execute(
                "SELECT creatorTypeID FROM creatorTypes WHERE creatorType = ?", (kind,)
            ).fetchone()[0]
            self.db.execute("INSERT INTO itemCreators VALUES (?, ?, ?, ?)", (item, creator, kind_id, order))
        for collection in collections:
            self.db.execute("INSERT INTO collectionItems VALUES (?, ?, 0)", (collection, item))
        for tag in tags:
            self.db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            tag_id = self.db.execute("SELECT tagID FROM tags WHERE name = ?", (tag,)).fetchone()[0]
            self.db.execute("INSERT INTO itemTags VALUES (?, ?, 0)", (item, tag_id))
        return key

    def item_id(self, key: str) -> int:
        return int(self.db.execute("SELECT itemID FROM items WHERE key = ?", (key,)).fetchone()[0])

    def set_field(
        self, key: str, name: str, value: str, *, modified: str | None = "2024-06-01 12:00:00"
    ) -> None:
        """Set a field as Zotero does: the value interned in itemDataValues, the item's times moved on."""
        item = self.item_id(key)
        field = self.db.execute("SELECT fieldID FROM fieldsCombined WHERE fieldName = ?", (name,)).fetchone()[
            0
        ]
        self.db.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
        value_id = self.db.execute("SELECT valueID FROM itemDataValues WHERE value = ?", (value,)).fetchone()[
            0
        ]
        self.db.execute("INSERT OR REPLACE INTO itemData VALUES (?, ?, ?)", (item, field, value_id))
        if modified:
            self.db.execute(
                "UPDATE items SET dateModified = ?, clientDateModified = ? WHERE itemID = ?",
                (modified, modified, item),
            )

    def trash(self, key: str) -> None:
        self.db.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (self.item_id(key),))

    def restore(self, key: str) -> None:
        """Out of the trash, as Zotero's Restore to Library does (the item itself unchanged)."""
        self.db.execute("DELETE FROM deletedItems WHERE itemID = ?", (self.item_id(key),))

    def erase(self, key: str) -> None:
        """Gone for good, as when the trash is emptied: the item's rows deleted."""
        item = self.item_id(key)
        for table in ("itemData", "itemCreators", "collectionItems", "itemTags", "deletedItems", "items"):
            self.db.execute(f"DELETE FROM {table} WHERE itemID = ?", (item,))


def better_bibtex_database(path: Path, keys: dict[str, str]) -> None:
    """Better BibTeX's `better-bibtex.sqlite` with its `citationkey` table: item key → citation key."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE citationkey (itemID INTEGER NOT NULL, itemKey TEXT NOT NULL, libraryID INTEGER NOT NULL, "
            "citationKey TEXT NOT NULL, pinned INTEGER DEFAULT 0, lastPinned TEXT)"
        )
        for number, (item_key, citation_key) in enumerate(keys.items(), start=1):
            db.execute(
                "INSERT INTO citationkey VALUES (?, ?, 1, ?, 0, NULL)", (number, item_key, citation_key)
            )
    path.with_name(path.name + "-journal").unlink(missing_ok=True)
