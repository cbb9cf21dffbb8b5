"""A user's own `.bib` file: which keys it defines and where, and appending to it without loss.

The file is the user's, not papercite's: an append keeps its encoding, its line endings and every
byte already there, and lands whole or not at all (a temporary file, then an atomic rename).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from core.decoding import decode
from core.latex import text_to_latex
from core.records import PaperciteError

_ENTRY_HEADER = re.compile(r"^[ \t]*@([A-Za-z]+)\s*[{(]\s*([^,\s{}()]+)\s*,", re.MULTILINE)
_NOT_ENTRIES = {"string", "preamble", "comment"}
# A file changed by someone else between our read and our rename is read again, this many times.
_ATTEMPTS = 3
# Random names tried for a temporary file before giving up; with 8 hex digits each, a clash is one
# chance in four billion, so a hundred in a row means something else is wrong.
_TEMPORARY_NAMES = 100


class BibFileChanged(OSError):
    """The file kept changing under us; nothing was written."""


class NotARegularFile(PaperciteError):
    """A pipe, a device or a folder where a .bib file should be: reading it could wait forever
    (a pipe without a writer) or never end (/dev/zero)."""


def newline_of(text: str) -> str:
    """The file's line ending, judged by its first line break (LF for a file without one)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def defined_keys(text: str) -> dict[str, int]:
    """Each entry key → the 0-based line of its `@type{key,` header (the first, if repeated)."""
    keys: dict[str, int] = {}
    line, last = 0, 0
    for match in _ENTRY_HEADER.finditer(text):
        if match.group(1).lower() in _NOT_ENTRIES:
            continue
        line += text.count("\n", last, match.start())
        last = match.start()
        keys.setdefault(match.group(2), line)
    return keys


def appended_text(existing: str, entries: Sequence[str], newline: str) -> str:
    """What goes after `existing` so that the entries follow it, one blank line apart."""
    if not entries:
        return ""
    tail = existing.replace("\r\n", "\n")[-2:]
    lead = "" if not existing.strip() or tail == "\n\n" else "\n" if tail.endswith("\n") else "\n\n"
    text = lead + "\n".join(entry.strip("\n") + "\n" for entry in entries)
    return text.replace("\n", newline)


def _body_codec(encoding: str, data: bytes) -> str:
    """The codec for bytes added after the start: no second byte-order mark."""
    if encoding == "utf-16":
        return "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
    return "utf-8" if encoding == "utf-8-sig" else encoding


def file_to_write(path: Path) -> Path:
    """The file a write to `path` goes to: a symlink's target (replacing the link itself with a
    regular file cut it from the bibliography it pointed to), which must be a regular file if it
    exists (a pipe would be waited on for ever, /dev/zero read for ever, a folder is no file)."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise NotARegularFile(f"{path} is not a regular file; papercite adds entries only to files")
    return target


def append_entries(path: Path, entries: Sequence[str]) -> int:
    """Append BibTeX entries to `path` (created if missing) atomically; returns the bytes added.

    Characters the file's encoding cannot hold are written as LaTeX accents.
    """
    if not entries:
        return 0
    path = file_to_write(path)
    for _ in range(_ATTEMPTS):
        try:
            found = path.stat()
            if not stat.S_ISREG(found.st_mode):  # (stat follows a symlink to its target)
                raise NotARegularFile(f"{path} is not a regular file; papercite adds entries only to files")
            before: os.stat_result | None = found
            data = path.read_bytes()
        except FileNotFoundError:
            before, data = None, b""
        text, encoding = decode(data) if data else ("", "utf-8")
        addition = text_to_latex(appended_text(text, entries, newline_of(text)), encoding)
        added = addition.encode(_body_codec(encoding, data))
        if _unchanged(path, before):
            write_whole(path, data + added, before.st_mode if before else None)
            return len(added)
    raise BibFileChanged(f"{path} kept changing while papercite tried to add to it; nothing was written")


def _unchanged(path: Path, before: os.stat_result | None) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return before is None
    return before is not None and (now.st_mtime_ns, now.st_size) == (before.st_mtime_ns, before.st_size)


def _temporary_beside(path: Path, mode: int) -> tuple[int, str]:
    """A new file beside `path`, open for writing, made with `mode` less the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TEMPORARY_NAMES):
        temporary = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, mode), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def write_whole(path: Path, data: bytes, mode: int | None = None) -> None:
    """`data` as the file at `path`, written whole or not at all (a temporary file beside it, then
    an atomic rename); `mode` is the permissions to keep, an existing file's. A new file gets what
    an editor would give it: 0666 less the user's umask (the kernel applies it as the file is made,
    default ACLs too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # An existing file's copy starts private and gets its mode once written, so its text is never
    # readable by more people than the file's is, even for a moment.
    handle, temporary = _temporary_beside(path, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
