"""One writer per home at a time. A second writer waits a bounded time, then says who holds it.

An OS file lock (flock / msvcrt) is released by the kernel when its process dies, so a kill -9
never leaves a stale lock behind; the file's text only tells a waiting process who holds it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

from core.records import StoreLocked

DEFAULT_TIMEOUT_SECONDS = float(os.environ.get("PAPERCITE_LOCK_TIMEOUT", "30"))
_POLL_SECONDS = 0.1

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(holder.get("since", 0)))
    return f"process {holder.get('pid')} on {holder.get('host')} ({holder.get('command')}, since {since})"


class WriteLock:
    def __init__(self, path: Path, purpose: str) -> None:
        self.path = path
        self.purpose = purpose
        self._handle: IO[str] | None = None

    def holder(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text() or "{}"))
        except (OSError, ValueError):
            return {}

    def acquire(self, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        handle = self.path.open("a+")
        deadline = time.monotonic() + timeout
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                handle.close()
                raise StoreLocked(
                    f"{self.path.parent} is being written by {_describe(self.holder())}; "
                    f"waited {timeout:g} s (set PAPERCITE_LOCK_TIMEOUT to wait longer)"
                )
            time.sleep(_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": self.purpose,
                    "since": time.time(),
                }
            )
        )
        handle.flush()
        self._handle = handle

    def try_acquire(self) -> bool:
        try:
            self.acquire(timeout=0)
        except StoreLocked:
            return False
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
            _unlock(self._handle)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
