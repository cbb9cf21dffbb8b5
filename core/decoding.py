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
    bad_count: int = 0  # lines holding bytes the encoding could not read, all of them


# Where the bytes that failed to decode were: an error handler sees each one, in the calling thread.
_noted = threading.local()


def _note(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    _noted.spans.append((error.start, error.end))
    return "\ufffd", error.end


codecs.register_error("papercite.note", _note)


def _decode_noting(data: bytes, encoding: str) -> tuple[str, list[tuple[int, int]]]:
    """`data` decoded with each undecodable byte sequence as U+FFFD, and where those were."""
    _noted.spans = []
    try:
        return data.decode(encoding, errors="papercite.note"), _noted.spans
    finally:
        _noted.spans = []


def _bad_lines(data: bytes, spans: list[tuple[int, int]], encoding: str) -> tuple[tuple[int, bytes], ...]:
    """(line, bytes) of the first bad bytes on each line, counting lines between bad spans once."""
    lines: dict[int, bytes] = {}
    line, position = 1, 0
    if encoding == "utf-16":
        wide = "utf-16-be" if data.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
        position = 2
    for start, end in spans:
        if encoding == "utf-16":
            line += data[position:start].decode(wide, errors="replace").count("\n")
        else:
            line += data.count(b"\n", position, start)
        position = max(end, start)
        lines.setdefault(line, data[start:end])
    return tuple(lines.items())


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


def _result(text: str, encoding: str, data: bytes, spans: list[tuple[int, int]]) -> Decoded:
    if not spans:
        return Decoded(text, encoding)
    bad = _bad_lines(data, spans, encoding)
    return Decoded(text, encoding, bad[:SHOWN_BAD_LINES], len(bad))


def decode_bytes(data: bytes) -> Decoded:
    """A whole file's text, the encoding it is in, and the lines holding bytes it could not read."""
    if data.startswith(_UTF16_BOMS):
        text, spans = _decode_noting(data, "utf-16")
        return _result(text, "utf-16", data, spans)
    if data.startswith(codecs.BOM_UTF8):
        text, spans = _decode_noting(data[3:], "utf-8")
        return _result(text, "utf-8-sig", data[3:], spans)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared(data)
    if declared is not None:
        text, spans = _decode_noting(data, declared)
        return _result(text, declared, data, spans)
    text, spans = _decode_noting(data, "utf-8")
    replaced = len(spans)
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - replaced
    if multibyte >= replaced:
        return _result(text, "utf-8", data, spans)
    text, spans = _decode_noting(data, FALLBACK)
    return _result(text, FALLBACK, data, spans)


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
