"""What one request may ask for, and how many requests one token may make."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Protocol

# Papers one search may return: the language server asks for 20 (200 at most), the Slack bot 6.
MAX_RESULTS = 200
# Keys one lookup or removal may name: a long document cites a few hundred.
MAX_KEYS = 2000
# Weighted terms one search may send: the editor sends a few hundred at most from its context.
MAX_TERMS = 2000
# Characters of query text: the editor's largest context window.
MAX_QUERY_CHARS = 100_000
# An upload: a large .bib is a few MB; the arXiv snapshot (GBs) is ingested on the server itself.
DEFAULT_MAX_BODY_MB = 64
# A body that stops arriving for this long is given up: a client that announced a body (a length,
# or chunks) and sent no more held its request open for ever. A slow upload still sends every second.
BODY_IDLE_SECONDS = 30.0
# Per token: an editor sends one request per keystroke in a citation (four when a typed key
# matches few papers), so bursts of 200 and 100 a second leave typing untouched.
DEFAULT_RATE = 100.0
DEFAULT_BURST = 200.0


def take(tokens: float, at: float, now: float, rate: float, burst: float) -> tuple[float, float]:
    """A token bucket's step: (tokens left, seconds to wait; 0 if this request may go and is counted),
    from the bucket's `tokens` when last counted at `at`."""
    tokens = min(burst, tokens + max(0.0, now - at) * rate)
    if tokens >= 1:
        return tokens - 1, 0.0
    return tokens, (1 - tokens) / rate


class Rate(Protocol):
    def wait(self, name: str, now: float | None = None) -> float: ...


@dataclass
class RateLimit:
    """A token bucket per access token: `rate` requests a second, bursts of `burst`, in this process."""

    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, name: str, now: float | None = None) -> float:
        """0 if a request by `name` may go now (and counts it), else the seconds until one may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.get(name, (self.burst, now))
        tokens, wait = take(tokens, at, now, self.rate, self.burst)
        self._buckets[name] = (tokens, now)
        return wait


def retry_after(seconds: float) -> str:
    """The Retry-After header: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))
