"""Appending to a user's .bib: nothing already there is lost, encoding and line endings kept."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.bibfile import (
    BibFileChanged,
    NotARegularFile,
    append_entries,
    appended_text,
    defined_keys,
    newline_of,
    write_whole,
)
from core.formats import parse_file
from core.records import Paper

ENTRY = "@article{new2024,\n  title = {Jérôme and Łukasz on Speculative Decoding},\n  year = {2024}\n}\n"


def test_defined_keys_gives_each_entry_its_header_line() -> None:
    text = "% comment\n@string{acm = {ACM}}\n@article{first,\n title={A}}\n\n@InProceedings( second ,\n}\n@misc{first,}\n"
    assert defined_keys(text) == {"first": 2, "second": 5}


def test_appended_text_separates_entries_by_one_blank_line() -> None:
    assert appended_text("", [ENTRY], "\n") == ENTRY
    assert appended_text("@a{x,}", [ENTRY], "\n") == "\n\n" + ENTRY
    assert appended_text("@a{x,}\n", [ENTRY], "\n") == "\n" + ENTRY
    assert appended_text("@a{x,}\n\n", [ENTRY, ENTRY], "\n") == ENTRY + "\n" + ENTRY
    assert appended_text("@a{x,}\r\n", [ENTRY], "\r\n") == ("\n" + ENTRY).replace("\n", "\r\n")


def test_append_keeps_utf8_bytes_and_lf(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    original = "@article{old,\n  title = {Ünïcödé stays},\n}".encode()
    path.write_bytes(original)
    append_entries(path, [ENTRY])
    data = path.read_bytes()
    assert data.startswith(original) and b"\r" not in data
    assert data.decode() == original.decode() + "\n\n" + ENTRY
    keys = [p.key for p in parse_file(path) if isinstance(p, Paper)]
    assert keys == ["old", "new2024"]


def test_append_keeps_crlf_and_a_legacy_encoding(tmp_path: Path) -> None:
    path = tmp_path / "legacy.bib"
    original = "@article{old,\r\n  title = {Müller},\r\n}\r\n".encode("cp1252")
    path.write_bytes(original)
    append_entries(path, [ENTRY])
    data = path.read_bytes()
    assert data.startswith(original)
    added = data[len(original) :].decode("cp1252")
    # é and ô exist in Windows-1252; Ł does not, so it becomes LaTeX, which reads back as Ł.
    assert "Jérôme" in added and "{\\L}ukasz" in added
    assert "\n" not in added.replace("\r\n", "")
    titles = [p.title for p in parse_file(path) if isinstance(p, Paper)]
    assert titles == ["Müller", "Jérôme and Łukasz on Speculative Decoding"]


def test_append_keeps_a_utf16_file_with_one_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "wide.bib"
    path.write_bytes("@misc{old, title={Ωmega}}\n".encode("utf-16"))
    append_entries(path, [ENTRY])
    data = path.read_bytes()
    assert data.count(b"\xff\xfe") == 1
    assert data.decode("utf-16") == "@misc{old, title={Ωmega}}\n\n" + ENTRY


def test_append_creates_a_missing_file_and_keeps_the_mode_of_an_existing_one(tmp_path: Path) -> None:
    created = tmp_path / "sub" / "references.bib"
    append_entries(created, [ENTRY])
    assert created.read_text() == ENTRY
    created.chmod(0o640)
    append_entries(created, [ENTRY.replace("new2024", "other")])
    assert created.stat().st_mode & 0o777 == 0o640
    assert list(defined_keys(created.read_text())) == ["new2024", "other"]
    assert [p.name for p in created.parent.iterdir()] == ["references.bib"]  # no temporary left


@pytest.fixture
def umask() -> Iterator[None]:
    """The test may set the process's umask; it is put back after."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=["022", "077", "002"]
)
def test_a_new_file_gets_0666_less_the_umask_like_an_editors(
    tmp_path: Path, umask: None, mask: int, expected: int
) -> None:
    """A new .bib or refs.json was 0600 whatever the umask (its temporary file came from mkstemp),
    so a co-author or the group's build could not read it."""
    os.umask(mask)
    append_entries(tmp_path / "refs.bib", [ENTRY])
    write_whole(tmp_path / "refs.json", b"[]\n")
    assert stat.S_IMODE((tmp_path / "refs.bib").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "refs.json").stat().st_mode) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.bib", "refs.json"]  # no temporary left


@pytest.mark.parametrize(
    ("mask", "kept"), [(0o022, 0o600), (0o077, 0o664), (0o002, 0o640)], ids=["022", "077", "002"]
)
def test_an_existing_file_keeps_its_mode_whatever_the_umask(
    tmp_path: Path, umask: None, mask: int, kept: int
) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@misc{old, title={x}}\n")
    path.chmod(kept)
    os.umask(mask)
    append_entries(path, [ENTRY])
    assert stat.S_IMODE(path.stat().st_mode) == kept
    assert list(defined_keys(path.read_text())) == ["old", "new2024"]


def test_a_file_that_keeps_changing_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "busy.bib"
    path.write_text("@misc{old, title={x}}\n")
    import core.bibfile as bibfile

    def someone_else_writes(target: Path, before: os.stat_result | None) -> bool:
        target.write_text(target.read_text() + "% edit\n")
        return False

    monkeypatch.setattr(bibfile, "_unchanged", someone_else_writes)
    with pytest.raises(BibFileChanged, match="kept changing"):
        append_entries(path, [ENTRY])
    assert "new2024" not in path.read_text()


def test_newline_of() -> None:
    assert newline_of("a\r\nb\n") == "\r\n"
    assert newline_of("a\nb\r\n") == "\n"
    assert newline_of("") == "\n"


def test_a_pipe_named_like_a_bib_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Adding to refs.bib that is a pipe waited for a writer forever (the editor's command never
    answered); it is refused by name, and the pipe stays a pipe."""
    pipe = tmp_path / "refs.bib"
    os.mkfifo(pipe)
    # Should the refusal be missing, a writer comes after a while, so the test fails rather than hangs.
    timer = threading.Timer(3, lambda: os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)))
    timer.start()
    try:
        with pytest.raises(NotARegularFile, match=r"refs\.bib is not a regular file"):
            append_entries(pipe, ["@misc{a, title = {A}}\n"])
    finally:
        timer.cancel()
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
