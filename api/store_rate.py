"""Per-token rate limits that hold across every `papercite serve` node over one PostgreSQL store.

Each request counts in one statement on the database (an upsert of the token's bucket, timed by
the database's clock, so the nodes' clocks need not agree): a token gets its rate from the nodes as
a whole, whichever its connections reach. While the database does not answer, each node counts in
its own memory (`RateLimit`) and asks the database again after a few seconds: requests keep being
answered, and limited, when PostgreSQL is away.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from api.limits import RateLimit
from core.records import PaperciteError

log = logging.getLogger("papercite.api")
# After the database failed to answer, this node counts on its own this long before asking again.
_RETRY_SECONDS = 5.0
# A count waits at most this long for the database (a request waits on it): 0.2 ms on loopback.
_STATEMENT_TIMEOUT_MS = 500

_COUNT = """
INSERT INTO rate_buckets AS bucket (name, tokens, at, allowed)
VALUES (%(name)s, %(burst)s - 1, extract(epoch FROM clock_timestamp()), 1)
ON CONFLICT (name) DO UPDATE SET
    tokens = CASE
        WHEN least(%(burst)s, bucket.tokens + greatest(0, excluded.at - bucket.at) * %(rate)s) >= 1
        THEN least(%(burst)s, bucket.tokens + greatest(0, excluded.at - bucket.at) * %(rate)s) - 1
        ELSE least(%(burst)s, bucket.tokens + greatest(0, excluded.at - bucket.at) * %(rate)s)
    END,
    allowed = CASE
        WHEN least(%(burst)s, bucket.tokens + greatest(0, excluded.at - bucket.at) * %(rate)s) >= 1
        THEN 1 ELSE 0
    END,
    at = excluded.at
RETURNING tokens, allowed
"""


class StoreRateLimit:
    """`RateLimit`'s buckets in the store's `rate_buckets` table, shared by every node."""

    def __init__(self, url: str, rate: float, burst: float) -> None:
        self.url = url
        self.rate = rate
        self.burst = burst
        self._connection: Any = None
        self._local = RateLimit(rate, burst)
        self._away_until = 0.0

    def wait(self, name: str, now: float | None = None) -> float:
        """0 if a request by `name` may go now (and counts it), else the seconds until one may."""
        if self.rate <= 0:
            return 0.0
        if time.monotonic() < self._away_until:
            return self._local.wait(name, now)
        import psycopg

        from core.store_postgres import connect

        try:
            if self._connection is None:
                self._connection = connect(
                    self.url,
                    autocommit=True,
                    # A count need not survive a crash of the database (it refills in seconds);
                    # waiting for its WAL flush made each count 2.2 ms, 0.2 ms without (loopback).
                    options=f"-c statement_timeout={_STATEMENT_TIMEOUT_MS} -c synchronous_commit=off",
                )
            row = self._connection.execute(
                _COUNT, {"name": name, "rate": self.rate, "burst": self.burst}
            ).fetchone()
        except (psycopg.Error, PaperciteError) as error:
            log.warning("rate limits counted by this node alone for %g s: %s", _RETRY_SECONDS, error)
            self.close()
            self._away_until = time.monotonic() + _RETRY_SECONDS
            return self._local.wait(name, now)
        tokens, allowed = float(row[0]), bool(row[1])
        return 0.0 if allowed else (1 - tokens) / self.rate

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
