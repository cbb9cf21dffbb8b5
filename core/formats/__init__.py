"""Reading paper records from files whose format is told by their content, not their name."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.decoding import LineDecoder, decode_bytes, decode_head, is_utf16, warnings_of
from core.formats.bibtex import looks_like_bibtex, parse_bibtex
from core.formats.jsonformats import (
    looks_like_csl_json,
    looks_like_json_lines,
    parse_csl_json,
    parse_json_lines,
)
from core.formats.seeds import (
    looks_like_abstract_lines,
    looks_like_page_dump,
    parse_abstract_lines,
    parse_page_dump,
)
from core.records import Paper, ParseFailure, ParseWarning, UnsupportedFormat

Record = Paper | ParseFailure | ParseWarning

SUPPORTED = (
    "BibTeX/BibLaTeX (.bib), CSL-JSON (Zotero, Better BibTeX), the arXiv metadata snapshot "
    "(JSON Lines), OpenAlex works (JSON Lines, the snapshot's parts), JSON Lines of {title, abstract, …}, "
    "and the seed text formats ('Abstract:' lines, daily-papers page dumps); any of them gzip-compressed"
)
_HEAD_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# What a damaged or cut-off gzip stream raises while it is read.
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str
    size: int


def is_gzip(path: Path) -> bool:
    """Told by the content (gzip's magic bytes), not by a `.gz` name."""
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed as they are read when it is gzip."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def read_text(path: Path) -> str:
    """The file's text, decoded as `core.decoding` says (UTF-8, UTF-16, Windows-1252, …)."""
    with open_binary(path) as handle:
        return decode_bytes(handle.read()).text


def detect_format(path: Path) -> str:
    try:
        with open_binary(path) as handle:
            head = decode_head(handle.read(_HEAD_BYTES))
    except GZIP_ERRORS as error:
        raise UnsupportedFormat(f"{path}: a damaged gzip file ({error})") from None
    return format_of(head, str(path))


def format_of(head: str, name: str) -> str:
    """The format of a file that starts with `head`; UnsupportedFormat names the ones we read."""
    if not head.strip():
        raise UnsupportedFormat(f"{name}: the file is empty")
    if looks_like_abstract_lines(head):
        return "seed-abstracts"
    if looks_like_csl_json(head):
        return "csl-json"
    if looks_like_json_lines(head):
        return "json-lines"
    if looks_like_bibtex(head):
        return "bibtex"
    if looks_like_page_dump(head):
        return "seed-page"
    raise UnsupportedFormat(f"{name}: not a format papercite reads; it reads {SUPPORTED}")


def is_bibliographic(path: Path) -> bool:
    try:
        detect_format(path)
    except (UnsupportedFormat, OSError):
        return False
    return True


def parse_file(path: Path, fmt: str | None = None) -> Iterator[Record]:
    """Records and failures of one file, in file order, streaming where the format allows; then a
    warning for each line holding bytes its encoding could not read."""
    fmt = fmt or detect_format(path)
    name = str(path)
    with open_binary(path) as handle:
        if fmt == "json-lines" and not is_utf16(handle.peek(2) if hasattr(handle, "peek") else b""):
            lines = LineDecoder()
            yield from parse_json_lines(lines.lines(handle), name)
            yield from warnings_of(lines.decoded(), name)
            return
        decoded = decode_bytes(handle.read())
    yield from parse_text(decoded.text, name, fmt)
    yield from warnings_of(decoded, name)


def text_format(text: str, name: str) -> str:
    """The format of a file's text, told by its beginning as `detect_format` tells a file's."""
    return format_of(text[:_HEAD_BYTES], name)


def parse_text(text: str, name: str, fmt: str | None = None) -> Iterator[Paper | ParseFailure]:
    """Records and failures of a file's text (an editor's unsaved buffer, say)."""
    fmt = fmt or text_format(text, name)
    if fmt == "json-lines":
        yield from parse_json_lines(io.StringIO(text), name)
        return
    parsers = {
        "bibtex": parse_bibtex,
        "csl-json": parse_csl_json,
        "seed-abstracts": parse_abstract_lines,
        "seed-page": parse_page_dump,
    }
    yield from parsers[fmt](text, name)


def iter_file_records(path: Path, display: str | None = None) -> Iterator[Record]:
    """Records of one file as they are read; a file that cannot be read becomes one failure.

    `display` replaces the path in origins and failures (seed files are shown as `seeds/NAME`).
    """
    shown = display or str(path)
    try:
        for item in parse_file(path):
            if display is None:
                yield item
            elif isinstance(item, Paper):
                yield item.replace(origin=f"{shown}:{item.origin.rsplit(':', 1)[1]}")
            else:
                yield type(item)(shown, item.line, item.reason)
    except UnsupportedFormat as error:
        yield ParseFailure(shown, 0, str(error).split(": ", 1)[-1])
    except GZIP_ERRORS as error:
        # Records before the damage went through; say where reading stopped.
        yield ParseFailure(
            shown, 0, f"the gzip data is damaged or cut off ({error}); records after it are missing"
        )
    except (OSError, UnicodeError) as error:
        yield ParseFailure(shown, 0, f"cannot read: {error}")


def find_files(paths: list[Path]) -> Iterator[Path]:
    """The files named, and every file under the folders named, skipping hidden ones."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in relative):
                    yield child
        else:
            yield path
