"""Paper vectors on disk, beside the search index: derived data, like the index, never in the store.

A folder of three files: `vectors.f16` (one row of float16 per vector, appended), `keys.tsv` (the key
and text digest of each row, appended in the same order) and `state.json`, written last and whole,
which says how many rows count. A kill while appending leaves rows past that count, which the next
writer cuts off: what was counted survives, the rest is embedded again. A key written twice is
answered by its last row; `compacted` rewrites the folder with one row per live paper.

float16 keeps a vector in 768 bytes (half of float32); on ACM-CR the cosines it gives differ from
float32's by less than 1e-3, which changes no ranking measured.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.embedding import DIMENSIONS, model_id
from core.records import PaperciteError

VECTORS_DIR = "vectors"
_MATRIX = "vectors.f16"
_KEYS = "keys.tsv"
_STATE = "state.json"
# Bump when what a vector means changes (another text): older vectors are dropped. Another model
# drops them too: the state names the model (core.embedding.model_id).
VECTOR_VERSION = 1
_ROW_BYTES = DIMENSIONS * 2


@dataclass(frozen=True)
class Entry:
    row: int
    digest: str


class VectorFolderError(PaperciteError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"the vectors in {path} cannot be read: {reason}; `papercite embed --rebuild` makes them anew"
        )


class PaperVectors:
    """The vectors of a home, read-only; `appending()` adds to them (under the home's write lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, Entry] = {}
        self._matrix: np.ndarray = np.zeros((0, DIMENSIONS), dtype=np.float16)
        self._rows = 0
        self.reload()

    # --- reading --------------------------------------------------------------------------------

    def _state_stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.path / _STATE).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def reload(self) -> None:
        """Read the folder again if another process has added to it since."""
        stamp = self._state_stamp()
        if stamp == self._stamp and stamp is not None:
            return
        self._stamp = stamp
        rows = _counted_rows(self.path)
        if rows == 0:
            self._entries, self._rows = {}, 0
            self._matrix = np.zeros((0, DIMENSIONS), dtype=np.float16)
            return
        try:
            lines = (self.path / _KEYS).read_text(encoding="utf-8").split("\n")[:rows]
            size = (self.path / _MATRIX).stat().st_size
        except OSError as error:
            raise VectorFolderError(self.path, error.strerror or str(error)) from None
        if len(lines) < rows or size < rows * _ROW_BYTES:
            raise VectorFolderError(self.path, f"the state counts {rows} vectors, the files hold fewer")
        entries: dict[str, Entry] = {}
        for row, line in enumerate(lines):
            key, _, digest = line.partition("\t")
            entries[key] = Entry(row, digest)
        self._entries = entries
        self._rows = rows
        self._matrix = np.memmap(self.path / _MATRIX, dtype=np.float16, mode="r", shape=(rows, DIMENSIONS))

    @property
    def count(self) -> int:
        """Papers with a vector (a key written twice counts once)."""
        return len(self._entries)

    @property
    def rows(self) -> int:
        return self._rows

    def digests(self) -> dict[str, str]:
        return {key: entry.digest for key, entry in self._entries.items()}

    def similarities(self, query: np.ndarray, keys: Iterable[str]) -> dict[str, float]:
        """Cosine of the query vector with each key's vector; keys without one are left out."""
        found = [(key, entry.row) for key in keys if (entry := self._entries.get(key)) is not None]
        if not found:
            return {}
        rows = self._matrix[[row for _, row in found]].astype(np.float32)
        scores = rows @ query.astype(np.float32)
        return {key: float(score) for (key, _), score in zip(found, scores, strict=True)}

    def vector(self, key: str) -> np.ndarray | None:
        entry = self._entries.get(key)
        return None if entry is None else np.asarray(self._matrix[entry.row], dtype=np.float32)

    # --- writing --------------------------------------------------------------------------------

    def appending(self) -> VectorAppender:
        return VectorAppender(self)

    @staticmethod
    def remove_files(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)


def of_another_model(path: Path) -> bool:
    """Whether the folder holds vectors that another model (or version) made: none count now."""
    try:
        state = json.loads((path / _STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return not _is_current(state)


def _is_current(state: object) -> bool:
    return (
        isinstance(state, dict)
        and state.get("version") == VECTOR_VERSION
        and state.get("model") == model_id()
    )


def _counted_rows(path: Path) -> int:
    try:
        state = json.loads((path / _STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError) as error:
        raise VectorFolderError(path, f"{_STATE}: {error}") from None
    if not _is_current(state):
        return 0  # another model's vectors: as if there were none (the next embed replaces them)
    rows = state.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise VectorFolderError(path, f"{_STATE} counts {rows!r} vectors")
    return rows


def _write_state(path: Path, rows: int) -> None:
    temporary = path / (_STATE + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        state = {"version": VECTOR_VERSION, "model": model_id(), "dimensions": DIMENSIONS, "rows": rows}
        json.dump(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path / _STATE)


class VectorAppender:
    """Adds rows: each `add` is durable once it returns (data synced, then the state)."""

    def __init__(self, vectors: PaperVectors) -> None:
        self.vectors = vectors
        path = vectors.path
        path.mkdir(parents=True, exist_ok=True)
        rows = _counted_rows(path)
        if rows == 0:
            # A fresh folder, or another version's: start both files empty.
            for name in (_MATRIX, _KEYS):
                (path / name).write_bytes(b"")
            _write_state(path, 0)
        else:
            # Cut what a killed writer appended past the count.
            with (path / _MATRIX).open("r+b") as handle:
                handle.truncate(rows * _ROW_BYTES)
            lines = (path / _KEYS).read_bytes().split(b"\n")[:rows]
            (path / _KEYS).write_bytes(b"".join(line + b"\n" for line in lines))
        self._rows = rows

    def add(self, keys: Sequence[str], digests: Sequence[str], matrix: np.ndarray) -> None:
        if not keys:
            return
        path = self.vectors.path
        data = np.ascontiguousarray(matrix, dtype=np.float16)
        lines = "".join(f"{key}\t{digest}\n" for key, digest in zip(keys, digests, strict=True))
        for name, payload in ((_MATRIX, data.tobytes()), (_KEYS, lines.encode("utf-8"))):
            with (path / name).open("ab") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        self._rows += len(keys)
        _write_state(path, self._rows)


def compacted(path: Path, live: Mapping[str, str]) -> int:
    """Rewrite the folder with the last row of each key in `live` whose digest still matches
    (`live`: key → digest of the paper's text now). Returns the rows kept."""
    vectors = PaperVectors(path)
    keep = [(key, entry) for key, entry in vectors._entries.items() if live.get(key) == entry.digest]
    if len(keep) == vectors.rows:
        return len(keep)
    fresh = path.with_name(path.name + ".new")
    PaperVectors.remove_files(fresh)
    appender = PaperVectors(fresh).appending()
    for start in range(0, len(keep), 10_000):
        chunk = keep[start : start + 10_000]
        appender.add(
            [key for key, _ in chunk],
            [entry.digest for _, entry in chunk],
            np.asarray(vectors._matrix[[entry.row for _, entry in chunk]]),
        )
    old = path.with_name(path.name + ".old")
    PaperVectors.remove_files(old)
    if path.exists():
        os.replace(path, old)
    os.replace(fresh, path)
    PaperVectors.remove_files(old)
    return len(keep)
