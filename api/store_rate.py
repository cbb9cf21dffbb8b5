"""Per-token rate limits that hold across every `papercite serve` node over one PostgreSQL store.

Each request counts in one statement on the database (an upsert of the token's bucket, timed by
the database's clock, so the nodes' clocks need not agree): a token gets its rate from the nodes as
a whole, whichever its connections reach. While the database does not answer, each node counts in
its own memory (`RateLimit`) and asks the database again after a few seconds: requests keep being
answered, and limited, when PostgreSQL is away.

A count is asked on a thread of its own and waited for a moment only: the request waits on the event
loop, and a database host that stopped answering (no refusal, nothing) would hold every request of the
node until libpq's connect timeout, or TCP's, gave up.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as NoAnswerYet
from typing import Any

from api.limits import RateLimit

log = logging.getLogger("papercite.api")
# After the database failed to answer, this node counts on its own this long before asking again.
_RETRY_SECONDS = 5.0
# A request waits this long for its count (0.2 ms on loopback), then counts on this node alone.
_ANSWER_SECONDS = 0.1
# The database gives up on a count after this long (the node has stopped waiting for it by then).
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
        self._asking = ThreadPoolExecutor(1, thread_name_prefix="papercite-rate")
        self._asked: Future[tuple[float, bool]] | None = None

    def wait(self, name: str, now: float | None = None) -> float:
        """0 if a request by `name` may go now (and counts it), else the seconds until one may."""
        if self.rate <= 0:
            return 0.0
        if time.monotonic() < self._away_until or (self._asked is not None and not self._asked.done()):
            return self._local.wait(name, now)  # (a count still waiting for the database: it is away)
        self._asked = self._asking.submit(self._count, name)
        try:
            tokens, allowed = self._asked.result(timeout=_ANSWER_SECONDS)
        except NoAnswerYet:
            return self._away(f"no answer within {_ANSWER_SECONDS:g} s", name, now)
        except Exception as error:  # (psycopg's errors, or the store's own for a refused connection)
            return self._away(str(error), name, now)
        return 0.0 if allowed else (1 - tokens) / self.rate

    def _count(self, name: str) -> tuple[float, bool]:
        """The token's bucket taken from in the database (on the asking thread)."""
        try:
            if self._connection is None:
                from core.store_postgres import connect

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
        except BaseException:
            self._drop_connection()
            raise
        return float(row[0]), bool(row[1])

    def _away(self, reason: str, name: str, now: float | None) -> float:
        log.warning("rate limits counted by this node alone for %g s: %s", _RETRY_SECONDS, reason)
        self._away_until = time.monotonic() + _RETRY_SECONDS
        return self._local.wait(name, now)

    def _drop_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        self._asking.submit(self._drop_connection)
        self._asking.shutdown(wait=False)
