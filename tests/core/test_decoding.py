"""One decoder for ingest and the language server: UTF-8 first, bad bytes named, no silent mojibake."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from core import decoding
from core.bibfile import append_entries
from core.decoding import decode_bytes, warnings_of
from core.formats import parse_file, pieces, read_text
from core.records import Paper, ParseWarning
from tests.conftest import run_cli

MUELLER = "@article{mueller2019,\n  title = {Müller über Straßen},\n  author = {Müller, Jörg},\n}\n"
BAD_LINE = b"@misc{broken2020,\n  title = {A caf\xe9 in Z\xfcrich},\n}\n"


def test_a_utf8_file_with_a_bad_byte_stays_utf8_and_names_the_line() -> None:
    data = MUELLER.encode() + b"\n" + BAD_LINE
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8"
    assert "Müller über Straßen" in decoded.text and "caf\ufffd in Z\ufffdrich" in decoded.text
    assert decoded.bad == ((7, b"\xe9"),) and decoded.bad_count == 1
    assert [str(w) for w in warnings_of(decoded, "refs.bib")] == [
        "refs.bib:7: warning: bytes that are not UTF-8 (E9) read as \ufffd"
    ]


def test_a_windows_1252_file_as_a_whole_is_read_as_windows_1252() -> None:
    data = (MUELLER + "@misc{fuss, title={„Fuß“ und Öl}}\n").encode("cp1252")
    decoded = decode_bytes(data)
    assert decoded.encoding == "cp1252" and decoded.bad == ()
    assert "Müller über Straßen" in decoded.text and "„Fuß“ und Öl" in decoded.text


@pytest.mark.parametrize(
    ("declaration", "encoding", "title"),
    [("% Encoding: windows-1252", "cp1252", "Müller"), ("% Encoding: UTF-8", "utf-8", "M\ufffdller")],
)
def test_a_declared_encoding_decides(declaration: str, encoding: str, title: str) -> None:
    # Even a file that says it is UTF-8 is never re-read as Windows-1252: its bad bytes are named.
    decoded = decode_bytes(f"{declaration}\n@misc{{m, title={{Müller}}}}\n".encode("cp1252"))
    assert decoded.encoding == encoding and title in decoded.text
    assert decoded.bad == (() if encoding == "cp1252" else ((2, b"\xfc"),))


def test_a_valid_utf8_file_is_utf8_whatever_it_declares() -> None:
    decoded = decode_bytes("% Encoding: windows-1252\n@misc{m, title={Müller}}\n".encode())
    assert decoded.encoding == "utf-8" and "Müller" in decoded.text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    decoded = decode_bytes(bom + MUELLER.encode(codec))
    assert decoded.encoding == "utf-16" and decoded.text == MUELLER
    broken = decode_bytes(bom + "a\nb\nc\ud800d\n".encode(codec, "surrogatepass"))
    assert broken.text == "a\nb\nc\ufffdd\n" and [line for line, _ in broken.bad] == [3]


def test_many_bad_lines_are_counted_after_the_first_few() -> None:
    data = "é\n".encode() * 40 + b"\xff\n" * 25
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8" and decoded.bad_count == 25
    warnings = warnings_of(decoded, "x.bib")
    assert len(warnings) == decoding.SHOWN_BAD_LINES + 1
    assert warnings[0].line == 41 and "and 15 more lines" in warnings[-1].reason


def test_the_language_servers_reader_and_a_bib_append_keep_utf8(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    original = MUELLER.encode() + BAD_LINE
    path.write_bytes(original)
    assert "Müller über Straßen" in read_text(path)
    append_entries(path, ["@misc{new2024,\n  title = {Jérôme},\n}\n"])
    data = path.read_bytes()
    # Before: the whole file counted as Windows-1252, and the entry was appended in it.
    assert data.startswith(original) and "Jérôme".encode() in data[len(original) :]


def test_ingest_reads_utf8_with_a_bad_byte_and_warns_with_file_and_line(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_bytes(MUELLER.encode() + b"\n" + BAD_LINE)
    result = run_cli(home, "ingest", str(path))
    assert result.returncode == 0, result.stderr
    assert "added 2, updated 0, unchanged 0, failed 0, 1 warning" in result.stdout
    assert f"{path}:7: warning: bytes that are not UTF-8 (E9) read as \ufffd" in result.stderr
    found = json.loads(run_cli(home, "search", "--json", "Müller Straßen", "-k", "1").stdout)
    assert found[0]["title"] == "Müller über Straßen" and found[0]["authors"] == ["Müller, Jörg"]
    report = json.loads(run_cli(home, "ingest", "--json", str(path)).stdout)
    assert report["warnings"] == [
        {"path": str(path), "line": 7, "reason": "bytes that are not UTF-8 (E9) read as \ufffd"}
    ]


def test_ingest_accepts_utf16_bib_and_json_lines(home: Path, tmp_path: Path) -> None:
    bib = tmp_path / "wide.bib"
    bib.write_bytes(MUELLER.encode("utf-16"))
    lines = tmp_path / "wide.jsonl"
    record = {"title": "Wide Lines über Alles", "abstract": "Read from UTF-16."}
    lines.write_bytes((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-16"))
    result = run_cli(home, "ingest", "--json", str(bib), str(lines))
    report = json.loads(result.stdout)
    assert report["added"] == 2 and report["failed"] == [] and report["warnings"] == []
    shown = run_cli(home, "show", "mueller2019", "--json")
    assert json.loads(shown.stdout)["title"] == "Müller über Straßen"


def test_json_lines_name_the_bad_line_whole_or_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "papers.jsonl"
    good = [
        json.dumps({"title": f"Paper {n} über", "abstract": "x"}, ensure_ascii=False).encode()
        for n in range(40)
    ]
    good[29] = good[29].replace(b"x", b"\xe9")
    path.write_bytes(b"\n".join(good) + b"\n")
    items = list(parse_file(path))
    assert [i.line for i in items if isinstance(i, ParseWarning)] == [30]
    assert len([i for i in items if isinstance(i, Paper)]) == 40
    # Cut in pieces (as a big file is, for the workers), the line is still the file's line.
    monkeypatch.setattr(pieces, "PIECE_BYTES", 200)
    assert len(list(pieces.pieces_of(path))) > 3
    records = [r for _, part in pieces.read_pieces([path], [None]) for r in part]
    assert [r.line for r in records if isinstance(r, ParseWarning)] == [30]
    assert len([r for r in records if isinstance(r, Paper)]) == 40


def test_a_big_file_decodes_in_pieces_as_in_one_go() -> None:
    # A multibyte character cut by every piece boundary, and a bad byte after the first piece.
    piece = decoding._DECODE_PIECE_BYTES
    text = "é" * (piece // 2 + 7) + "ü€" * 1000
    assert decode_bytes(text.encode()).text == text and decode_bytes(text.encode()).encoding == "utf-8"
    broken = text.encode()[: piece + 1] + b"\xff" + text.encode()[piece + 1 :]
    assert decode_bytes(broken).encoding != "utf-8" or "\ufffd" in decode_bytes(broken).text
