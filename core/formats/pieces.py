"""An ingest's input as pieces: whole files, and big JSON Lines files cut at line ends, so that
worker processes can parse ahead of the one thread that writes the store."""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from core.decoding import LineDecoder, is_utf16, warnings_of
from core.formats import GZIP_ERRORS, Record, detect_format, is_gzip, iter_file_records, open_binary
from core.formats.jsonformats import parse_json_lines
from core.records import Paper, ParseFailure, UnsupportedFormat

# About 6,000 arXiv records: enough work per piece to pay for the trip to a worker and back.
PIECE_BYTES = 8 * 1024 * 1024
# Below this much input, starting worker processes costs more than it saves.
PARALLEL_BYTES = 4 * 1024 * 1024
# Synthetic arXiv records compress 3.5 : 1 with gzip (benchmarks/gzip_ingest.py): a compressed
# file's size times this is about what will be parsed, which decides whether workers pay.
GZIP_RATIO = 3
_MAX_WORKERS = 4

Records = Iterable[Record]


@dataclass(frozen=True)
class Piece:
    """A whole file (`end` is None), or the lines of a JSON Lines file between two byte offsets,
    or (a gzip file, which cannot be cut by offsets) lines already decompressed into `data`."""

    path: Path
    display: str | None  # the name shown in origins and failures, if not the path
    start: int = 0
    end: int | None = None
    first_line: int = 1
    data: bytes | None = None
    failure: str = ""  # reading stopped here: what went wrong

    @property
    def shown(self) -> str:
        return self.display or str(self.path)


def pieces_of(path: Path, display: str | None = None) -> Iterator[Piece]:
    """A JSON Lines file bigger than a piece in line-aligned parts; any other file whole."""
    try:
        gzipped = is_gzip(path)
        with open_binary(path) as handle:
            utf16 = is_utf16(handle.read(2))
        # UTF-16 lines cannot be cut at a byte: such a file is read whole.
        splittable = (
            not utf16
            and (gzipped or path.stat().st_size > PIECE_BYTES)
            and detect_format(path) == "json-lines"
        )
    except (OSError, UnsupportedFormat, *GZIP_ERRORS):
        splittable = False  # reading it whole reports the problem
    if splittable and gzipped:
        yield from _decompressed_pieces(path, display)
        return
    if not splittable:
        yield Piece(path, display)
        return
    with path.open("rb") as handle:
        start, line = 0, 1
        while block := handle.read(PIECE_BYTES):
            block += handle.readline()  # up to the end of the line the block cut
            yield Piece(path, display, start, start + len(block), line)
            start += len(block)
            line += block.count(b"\n")


def _decompressed_pieces(path: Path, display: str | None) -> Iterator[Piece]:
    """Line-aligned pieces of a gzip JSON Lines file, decompressed as a stream in this process
    (a gzip stream cannot be entered in the middle), parsed in the workers."""
    line = 1
    try:
        with open_binary(path) as handle:
            while block := handle.read(PIECE_BYTES):
                block += handle.readline()
                yield Piece(path, display, first_line=line, data=block)
                line += block.count(b"\n")
    except GZIP_ERRORS as error:
        reason = f"the gzip data is damaged or cut off ({error}); records after it are missing"
        yield Piece(path, display, first_line=line, data=b"", failure=reason)
    except OSError as error:
        yield Piece(path, display, first_line=line, data=b"", failure=f"cannot read: {error}")


def read_piece(piece: Piece) -> list[Record]:
    """All records of a piece, with a failure instead of an exception: what a worker returns.

    Their identities are computed here, in parallel, and travel with them to the writing thread.
    """
    records = _read(piece)
    for record in records:
        if isinstance(record, Paper):
            record.identity  # noqa: B018 (computed for its cache)
    return records


def _json_lines(data: bytes, piece: Piece) -> list[Record]:
    lines = LineDecoder(piece.first_line)
    records: list[Record] = list(
        parse_json_lines(lines.lines(io.BytesIO(data)), piece.shown, piece.first_line)
    )
    return records + list(warnings_of(lines.decoded(), piece.shown))


def _read(piece: Piece) -> list[Record]:
    if piece.failure:
        return [ParseFailure(piece.shown, piece.first_line, piece.failure)]
    if piece.data is not None:
        return _json_lines(piece.data, piece)
    if piece.end is None:
        return list(iter_file_records(piece.path, piece.display))
    try:
        with piece.path.open("rb") as handle:
            handle.seek(piece.start)
            data = handle.read(piece.end - piece.start)
    except OSError as error:
        return [ParseFailure(piece.shown, piece.first_line, f"cannot read: {error}")]
    return _json_lines(data, piece)


def _exit_with_parent() -> None:
    """A worker's initializer: end the worker as soon as the process that started it is gone, even
    by `kill -9`. (Nothing else would tell it: a worker holds both ends of its own task queue, and
    the forkserver lives as long as its workers; killed ingests left them all running.)"""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        # The sentinel (a pipe on POSIX, a process handle on Windows) is ready when the parent ends.
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="papercite-parent-watch", daemon=True).start()


def _input_size(path: Path) -> int:
    size = path.stat().st_size
    try:
        return size * GZIP_RATIO if is_gzip(path) else size
    except OSError:
        return size


def read_pieces(files: Sequence[Path], displays: Sequence[str | None]) -> Iterator[tuple[str, Records]]:
    """(shown name, records) of each piece of the files, in order; with enough input, worker
    processes parse a few pieces ahead."""
    pieces = (
        piece for path, display in zip(files, displays, strict=True) for piece in pieces_of(path, display)
    )
    total = sum(_input_size(path) for path in files if path.is_file())
    workers = min(os.cpu_count() or 1, _MAX_WORKERS)
    if total < PARALLEL_BYTES or workers < 2:
        for piece in pieces:
            yield piece.shown, _read(piece)
        return
    # forkserver/spawn: never fork a process that holds SQLite and tantivy threads.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(method), initializer=_exit_with_parent
    )
    pending: deque[tuple[str, Future[list[Record]]]] = deque()
    try:
        for piece in pieces:
            pending.append((piece.shown, pool.submit(read_piece, piece)))
            if len(pending) > 2 * workers:
                shown, future = pending.popleft()
                yield shown, future.result()
        while pending:
            shown, future = pending.popleft()
            yield shown, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
