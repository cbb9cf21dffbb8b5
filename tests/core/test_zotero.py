"""A Zotero library read from its database, while Zotero holds its lock, and again incrementally."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.formats.zotero import ZoteroError, default_data_folders, read_zotero
from tests.conftest import run_cli
from tests.fakes.zotero import ZoteroDatabase, better_bibtex_database

ABSTRACT = "We present a method for retrieval that is robust to noisy zotero snapshots."


@pytest.fixture
def zotero(tmp_path: Path) -> Iterator[ZoteroDatabase]:
    folder = tmp_path / "Zotero"
    folder.mkdir()
    database = ZoteroDatabase(folder / "zotero.sqlite")
    reading = database.add_collection("Reading")
    nested = database.add_collection("Retrieval", parent=reading)
    database.add_item(
        "conferencePaper",
        {"title": "Robust Snapshot Retrieval", "abstractNote": ABSTRACT, "date": "2021-07-11 July 11, 2021",
         "DOI": "10.1145/1111111.2222222", "proceedingsTitle": "Proceedings of SIGIR", "pages": "10-20",
         "citationKey": "snapshot2021"},
        [("author", "Ada", "Lovelace"), ("editor", "Ed", "Itor"), ("author", "", "The Zotero Team")],
        collections=[nested], tags=["retrieval", "snapshots"], key="AAAA1111",
    )  # fmt: skip
    database.add_item(
        "preprint",
        {"title": "An arXiv Preprint in Zotero", "abstractNote": "Preprint abstract words.", "date": "2024",
         "archiveID": "arXiv:2404.11912", "repository": "arXiv", "url": "http://arxiv.org/abs/2404.11912v2",
         "extra": "Citation Key: fromextra2024"},
        [("author", "Grace", "Hopper")], key="BBBB2222",
    )  # fmt: skip
    database.add_item("journalArticle", {"title": "In the Trash", "abstractNote": "Gone."}, key="CCCC3333")
    database.trash("CCCC3333")
    database.add_item("note", {"title": "A note, not a paper"}, key="DDDD4444")
    database.add_item("attachment", {"title": "Full Text PDF"}, key="EEEE5555")
    database.add_item("book", {"abstractNote": "A book with no title"}, key="FFFF6666")
    yield database
    database.close()


def test_items_become_papers_with_zoteros_fields(zotero: ZoteroDatabase) -> None:
    items = read_zotero(zotero.path)
    by_title = {p.title: p for p in items.papers}
    assert set(by_title) == {"Robust Snapshot Retrieval", "An arXiv Preprint in Zotero"}
    assert items.skipped == 1  # the untitled book
    paper = by_title["Robust Snapshot Retrieval"]
    assert paper.key == "snapshot2021" and paper.abstract == ABSTRACT and paper.year == 2021
    # Authors in order (a single-field name as it is), the editor left out.
    assert paper.authors == ("Lovelace, Ada", "The Zotero Team")
    assert paper.doi == "10.1145/1111111.2222222" and paper.venue == "Proceedings of SIGIR"
    assert paper.entry_type == "inproceedings" and paper.keywords == ("retrieval", "snapshots")
    assert dict(paper.extra) == {"pages": "10-20"} and paper.origin == "zotero:AAAA1111"
    preprint = by_title["An arXiv Preprint in Zotero"]
    assert preprint.arxiv_id == "2404.11912" and preprint.key == "fromextra2024" and preprint.venue == ""


def test_better_bibtex_keys_win_when_present(zotero: ZoteroDatabase) -> None:
    better_bibtex_database(zotero.path.with_name("better-bibtex.sqlite"), {"AAAA1111": "lovelace2021robust"})
    keys = {p.origin: p.key for p in read_zotero(zotero.path).papers}
    assert keys == {"zotero:AAAA1111": "lovelace2021robust", "zotero:BBBB2222": "fromextra2024"}


def test_a_collection_takes_its_subcollections(zotero: ZoteroDatabase) -> None:
    assert [p.title for p in read_zotero(zotero.path, collection="Reading").papers] == [
        "Robust Snapshot Retrieval"
    ]
    with pytest.raises(ZoteroError, match=r"no collection named 'Unread'.*'Reading', 'Retrieval'"):
        read_zotero(zotero.path, collection="Unread")


def test_the_database_is_read_while_zotero_holds_its_exclusive_lock(
    zotero: ZoteroDatabase, home: Path
) -> None:
    zotero.close()
    # As Zotero 7 runs: WAL, exclusive locking (the WAL index in its own memory), no checkpoints yet.
    running = sqlite3.connect(zotero.path, isolation_level=None)
    running.execute("PRAGMA journal_mode = WAL")
    running.execute("PRAGMA locking_mode = EXCLUSIVE")
    running.execute("PRAGMA wal_autocheckpoint = 0")
    zotero.db = running
    zotero.add_item(
        "journalArticle", {"title": "Saved a Moment Ago", "abstractNote": "Only in the WAL so far."}
    )
    assert Path(str(zotero.path) + "-wal").stat().st_size > 0
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite3.connect(zotero.path, timeout=0.1).execute("SELECT count(*) FROM items").fetchone()

    result = run_cli(home, "ingest", "--json", "--zotero", str(zotero.path.parent))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["read"], report["added"], report["updated"]) == (4, 3, 0)
    shown = json.loads(run_cli(home, "search", "--json", "saved a moment ago only in the WAL").stdout)
    assert shown[0]["title"] == "Saved a Moment Ago"
    # Zotero's connection still works and still holds its lock.
    running.execute("UPDATE items SET version = version + 1")
    running.close()


def test_a_second_run_reads_only_what_changed(zotero: ZoteroDatabase, home: Path) -> None:
    def ingest(*extra: str) -> dict[str, object]:
        result = run_cli(home, "ingest", "--json", "--zotero", str(zotero.path), *extra)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    first = ingest()
    assert (first["read"], first["since"]) == (3, "")
    second = ingest()
    assert second["since"] == "2024-01-01 10:00:00" and second["read"] == 0
    # Saved within the very second the last run ended at: still taken.
    zotero.add_item("journalArticle", {"title": "Same Second", "abstractNote": "Saved at the boundary."})
    assert ingest()["added"] == 1
    zotero.set_field("AAAA1111", "abstractNote", "A corrected abstract about zotero snapshots.")
    third = ingest()
    assert (third["read"], third["updated"], third["added"]) == (1, 1, 0)
    assert third["since"] == "2024-01-01 10:00:00"
    shown = json.loads(run_cli(home, "show", "snapshot2021", "--json").stdout)
    assert shown["abstract"] == "A corrected abstract about zotero snapshots."
    assert ingest()["read"] == 0
    # A collection keeps its own mark: its first run reads all of it.
    assert ingest("--collection", "Reading")["read"] == 1


def test_items_deleted_in_zotero_leave_the_index_unless_another_source_holds_them(
    zotero: ZoteroDatabase, home: Path, tmp_path: Path
) -> None:
    def ingest() -> dict[str, object]:
        result = run_cli(home, "ingest", "--json", "--zotero", str(zotero.path))
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    def found() -> dict[str, str]:
        hits = json.loads(run_cli(home, "search", "--json", "-k", "50", "zotero arxiv").stdout)
        return {hit["key"]: hit["title"] for hit in hits}

    extra = zotero.add_item(
        "journalArticle", {"title": "Zotero Papers Also in a Bib File", "abstractNote": "Zotero."}
    )
    assert ingest()["added"] == 3
    # The same paper from a .bib file too: two sources hold it now.
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{alsobib, title = {Zotero Papers Also in a Bib File}, abstract = {Zotero.}}\n")
    assert run_cli(home, "ingest", str(bib)).returncode == 0
    before = found()
    assert {"snapshot2021", "fromextra2024"} <= set(before)
    assert "Zotero Papers Also in a Bib File" in before.values()

    zotero.erase("AAAA1111")  # deleted, the trash emptied
    zotero.trash("BBBB2222")  # in the trash
    zotero.erase(extra)  # deleted, but the .bib file still holds it
    run = ingest()
    assert sorted(run["removed"]) == ["fromextra2024", "snapshot2021"] and run["read"] == 0  # type: ignore[arg-type]
    assert found() == {k: t for k, t in before.items() if k not in {"snapshot2021", "fromextra2024"}}
    assert run_cli(home, "show", "snapshot2021").returncode == 1
    assert ingest()["removed"] == []

    # Restored from the trash without a change: back in the index on the next run.
    zotero.restore("BBBB2222")
    back = ingest()
    assert back["added"] == 1 and back["removed"] == []
    assert "fromextra2024" in found()


def test_a_missing_database_is_named(tmp_path: Path, home: Path) -> None:
    result = run_cli(home, "ingest", "--zotero", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "no Zotero database at" in result.stderr
    broken = tmp_path / "zotero.sqlite"
    broken.write_text("not a database")
    result = run_cli(home, "ingest", "--zotero", str(broken))
    assert result.returncode == 1 and "cannot be read as a Zotero database" in result.stderr


def test_default_data_folders_on_each_system(tmp_path: Path) -> None:
    profile = tmp_path / ".zotero" / "zotero" / "abcd.default"
    profile.mkdir(parents=True)
    (profile / "prefs.js").write_text('user_pref("extensions.zotero.dataDir", "/data/zot");\n')
    linux = default_data_folders(tmp_path, "linux", {})
    assert linux[:2] == [Path("/data/zot"), tmp_path / "Zotero"] and linux[2] == profile / "zotero"
    assert default_data_folders(tmp_path, "darwin", {}) == [tmp_path / "Zotero"]
    appdata = tmp_path / "Roaming"
    windows_profile = appdata / "Zotero" / "Zotero" / "Profiles" / "x.default"
    windows_profile.mkdir(parents=True)
    (windows_profile / "prefs.js").write_text('user_pref("extensions.zotero.dataDir", "D:\\\\Zotero");\n')
    assert default_data_folders(tmp_path, "win32", {"APPDATA": str(appdata)})[:2] == [
        Path("D:\\Zotero"),
        tmp_path / "Zotero",
    ]


def test_damaged_values_read_as_replacement_characters_not_a_failed_library(zotero: ZoteroDatabase) -> None:
    # What a damaged or foreign-written database can hold: text that is not UTF-8, blobs, numbers.
    zotero.db.execute(
        "UPDATE itemDataValues SET value = CAST(x'4e6f7420ff5554462d38' AS TEXT) WHERE value = ?", (ABSTRACT,)
    )
    zotero.db.execute("UPDATE creators SET lastName = x'ff41' WHERE lastName = 'Hopper'")
    zotero.db.execute("UPDATE tags SET name = x'fe' WHERE name = 'snapshots'")
    zotero.db.execute("UPDATE itemDataValues SET value = 2021 WHERE value = 'Robust Snapshot Retrieval'")
    by_key = {p.key: p for p in read_zotero(zotero.path).papers}
    assert by_key["snapshot2021"].abstract == "Not \ufffdUTF-8" and by_key["snapshot2021"].title == "2021"
    assert by_key["snapshot2021"].keywords == ("retrieval", "\ufffd")
    assert by_key["fromextra2024"].authors == ("\ufffdA, Grace",)


def test_an_unreadable_database_is_named_by_its_own_path(tmp_path: Path) -> None:
    broken = tmp_path / "zotero.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    with pytest.raises(ZoteroError) as error:
        read_zotero(broken)
    assert str(error.value).startswith(f"{broken} cannot be read as a Zotero database")
