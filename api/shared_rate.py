"""Per-token rate limits that hold across the worker processes of one `papercite serve --workers N`.

Each worker maps the same small file of token buckets and updates a bucket under `flock`, so a
token gets its rate from the server as a whole, whichever workers its connections reach. The
kernel drops a dead worker's `flock`, so a worker killed mid-update cannot stall the others (a
semaphore in shared memory would stay taken). POSIX only, like `--workers`.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import time
from pathlib import Path

from api.limits import take

# A bucket: the token name's 64-bit hash (0: a free slot), tokens left, when last counted
# (time.monotonic, which is one clock for every process on the machine).
_SLOT = struct.Struct("<Qdd")
# Room for 4,096 tokens in 96 kB; a team has tens.
SLOTS = 4096
# Slots a name may take, from the one its hash picks. When all are in use by others, the one
# counted longest ago is taken over: it has refilled by then, unless the file holds thousands of
# busy tokens, and a refilled bucket is what a new one is.
_PROBES = 8


def _name_hash(name: str) -> int:
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


class SharedRateLimit:
    """`RateLimit`'s buckets, in a file that several processes map at once."""

    def __init__(self, path: Path, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        size = _SLOT.size * SLOTS
        if os.fstat(self._fd).st_size != size:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if os.fstat(self._fd).st_size != size:
                    os.ftruncate(self._fd, 0)  # another layout or a torn file: start empty
                    os.ftruncate(self._fd, size)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, size)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    def _offset(self, wanted: int) -> int:
        """The slot holding `wanted`'s bucket, else a free one, else the one counted longest ago."""
        first = wanted % SLOTS
        choice, choice_at = -1, float("inf")
        for probe in range(_PROBES):
            offset = ((first + probe) % SLOTS) * _SLOT.size
            held, _, at = _SLOT.unpack_from(self._map, offset)
            if held == wanted:
                return offset
            if held == 0:
                at = float("-inf")
            if at < choice_at:
                choice, choice_at = offset, at
        return choice

    def wait(self, name: str, now: float | None = None) -> float:
        """0 if a request by `name` may go now (and counts it), else the seconds until one may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        wanted = _name_hash(name)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            offset = self._offset(wanted)
            held, tokens, at = _SLOT.unpack_from(self._map, offset)
            if held != wanted or at > now:  # a new bucket, or one from before the machine restarted
                tokens, at = self.burst, now
            tokens, wait = take(tokens, at, now, self.rate, self.burst)
            _SLOT.pack_into(self._map, offset, wanted, tokens, now)
            return wait
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
