"""Bytes of a bibliography file to text: the one decoder of the CLI's ingest and the language server.

In order: a byte-order mark (UTF-8, UTF-16) decides; then a file that is valid UTF-8 is UTF-8;
then a declaration in the file's first lines (JabRef's `% Encoding: windows-1252`) decides. A file
that is not valid UTF-8 and says nothing is still read as UTF-8 when it is UTF-8 as a whole — its
well-formed multi-byte characters at least as many as its bad bytes — with the lines holding the
bad bytes named; only a file with more bad bytes than UTF-8 characters (what Windows-1252 text
looks like to a UTF-8 reader) is read as Windows-1252. Bytes the chosen encoding cannot read
become U+FFFD, and their lines are named.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.records import ParseWarning

FALLBACK = "cp1252"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# JabRef writes `% Encoding: UTF-8` as a .bib's first line; LaTeX users write `% !TEX encoding = …`.
_DECLARATION = re.compile(
    rb"^[ \t]*%[ \t]*(?:!TEX[ \t]+)?encoding[ \t]*[:=][ \t]*([A-Za-z0-9_.:-]+)", re.I | re.M
)
_DECLARATION_BYTES = 1024
# Bad lines named one by one in a report; past this, one warning says how many more.
SHOWN_BAD_LINES = 10


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec to write the file back in: utf-8, utf-8-sig, utf-16, cp1252, or as declared
    bad: tuple[tuple[int, bytes], ...] = ()  # (1-based line, the bytes first read as U+FFFD there)
    bad_count: int = 0  # lines holding bytes the encoding could not read (among the first _NOTED_SPANS)


# Where a UTF-16 file's undecodable bytes were: an error handler sees each, in the calling thread.
# (UTF-16 lines cannot be split at a byte; the files papercite meets there have few bad bytes.)
_noted = threading.local()


def _note(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    if len(_noted.spans) < _MAX_UTF16_SPANS:
        _noted.spans.append((error.start, error.end))
    return "\ufffd", error.end


codecs.register_error("papercite.note", _note)
_MAX_UTF16_SPANS = 10_000


def _utf16(data: bytes) -> Decoded:
    _noted.spans = []
    try:
        text = data.decode("utf-16", errors="papercite.note")
        spans: list[tuple[int, int]] = _noted.spans
    finally:
        _noted.spans = []
    if not spans:
        return Decoded(text, "utf-16")
    wide = "utf-16-be" if data.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
    lines: dict[int, bytes] = {}
    line, position = 1, 2
    for start, end in spans:
        line += data[position:start].decode(wide, errors="replace").count("\n")
        position = max(end, start)
        lines.setdefault(line, data[start:end])
    bad = tuple(lines.items())
    return Decoded(text, "utf-16", bad[:SHOWN_BAD_LINES], len(bad))


def _single_lines(data: bytes, text: str, encoding: str) -> Decoded:
    """`text` (decoded from `data` in an ASCII-compatible encoding, bad bytes as U+FFFD) with the
    lines holding the bad bytes: line by line, since no such encoding has a newline byte inside a
    character. (A handler called per bad byte took seconds on a large Windows-1252 file.)"""
    shown: list[tuple[int, bytes]] = []
    count = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode(encoding)
        except UnicodeDecodeError as error:
            count += 1
            if len(shown) < SHOWN_BAD_LINES:
                shown.append((number, line[error.start : error.end]))
    return Decoded(text, encoding, tuple(shown), count)


def _declared(data: bytes) -> str | None:
    match = _DECLARATION.search(data[:_DECLARATION_BYTES])
    if match is None:
        return None
    try:
        info = codecs.lookup(match.group(1).decode("ascii"))
    except LookupError:
        return None
    # Only a codec that reads the declaration's own bytes as written can have written them.
    return info.name if "%".encode(info.name) == b"%" and not info.name.startswith("utf-16") else None


# Bytes decoded per call: a 77 MB file decoded in one call held the interpreter's lock for 0.6 s,
# so a file read in a thread froze the language server's event loop as long.
_DECODE_PIECE_BYTES = 4 * 1024 * 1024


def _utf8_in_pieces(data: bytes) -> str:
    """`data.decode("utf-8")`, a few megabytes at a time (UnicodeDecodeError alike)."""
    if len(data) <= _DECODE_PIECE_BYTES:
        return data.decode("utf-8")
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    pieces = [
        decoder.decode(view[start : start + _DECODE_PIECE_BYTES])
        for start in range(0, len(data), _DECODE_PIECE_BYTES)
    ]
    pieces.append(decoder.decode(b"", final=True))
    return "".join(pieces)


def decode_bytes(data: bytes) -> Decoded:
    """A whole file's text, the encoding it is in, and the lines holding bytes it could not read."""
    if data.startswith(_UTF16_BOMS):
        return _utf16(data)
    if data.startswith(codecs.BOM_UTF8):
        body = data[3:]
        return _single_lines(body, body.decode("utf-8", errors="replace"), "utf-8-sig")
    try:
        return Decoded(_utf8_in_pieces(data), "utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared(data)
    if declared is not None:
        return _single_lines(data, data.decode(declared, errors="replace"), declared)
    text = data.decode("utf-8", errors="replace")
    # Each U+FFFD not spelled in the file stands for a bad byte sequence.
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - replaced
    if multibyte >= replaced:
        return _single_lines(data, text, "utf-8")
    return _single_lines(data, data.decode(FALLBACK, errors="replace"), FALLBACK)


def read_small_text(path: Path, most_bytes: int) -> str | None:
    """A regular file's text, decoded as above; None for a file that cannot be read, is larger than
    `most_bytes`, or is not a regular file (a pipe or a device would never end)."""
    try:
        if not path.is_file() or path.stat().st_size > most_bytes:
            return None
        return decode_bytes(path.read_bytes()).text
    except OSError:
        return None


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was in (see `decode_bytes`)."""
    decoded = decode_bytes(data)
    return decoded.text, decoded.encoding


def decode_head(head: bytes) -> str:
    """The first bytes of a file as text, enough to tell its format (a cut character is harmless)."""
    if head.startswith(_UTF16_BOMS):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    return head.decode("utf-8-sig", errors="replace")


def is_utf16(head: bytes) -> bool:
    return head.startswith(_UTF16_BOMS)


class LineDecoder:
    """UTF-8 lines (JSON Lines is UTF-8 by definition) to text, noting the lines with bad bytes."""

    def __init__(self, first_line: int = 1) -> None:
        self.first_line = first_line
        self.bad: list[tuple[int, bytes]] = []
        self.bad_count = 0

    def lines(self, raw_lines: Iterable[bytes]) -> Iterator[str]:
        for number, raw in enumerate(raw_lines, start=self.first_line):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                self.bad_count += 1
                if len(self.bad) < SHOWN_BAD_LINES:
                    self.bad.append((number, raw[error.start : error.end]))
                yield raw.decode("utf-8", errors="replace")

    def decoded(self) -> Decoded:
        return Decoded("", "utf-8", tuple(self.bad), self.bad_count)


def warnings_of(decoded: Decoded, path: str) -> list[ParseWarning]:
    """One warning per line with bytes the encoding could not read (the first few), then a count."""
    name = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16", FALLBACK: "Windows-1252"}.get(
        decoded.encoding, decoded.encoding
    )
    warnings = [
        ParseWarning(path, line, f"bytes that are not {name} ({raw.hex(' ').upper()}) read as \ufffd")
        for line, raw in decoded.bad
    ]
    more = decoded.bad_count - len(decoded.bad)
    if more > 0:
        last = decoded.bad[-1][0] if decoded.bad else 0
        warnings.append(
            ParseWarning(path, last, f"and {more} more lines after this one with bytes that are not {name}")
        )
    return warnings
