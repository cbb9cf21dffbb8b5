"""The web sources' cache and pacing of nodes sharing a PostgreSQL store, kept in that database.

A lookup made through one node is then answered from the cache through every other, and a host's
pace (arXiv's one request every three seconds) holds across the nodes as it does across the
commands of one home. Each call is one short statement on a connection of its own: the client
calls these on a thread, between requests that take far longer.
"""

from __future__ import annotations

import time

from core.store_postgres import connect

# The slot and the next one are decided in one statement, under the row's lock: two nodes taking a
# slot at once get two different ones. A slot far in the future is a clock that went backwards.
_RESERVE = """
INSERT INTO source_pace (host, next_at) VALUES (%(host)s, %(now)s + %(interval)s)
ON CONFLICT (host) DO UPDATE SET next_at =
    greatest(%(now)s, least(source_pace.next_at, %(now)s + %(interval)s)) + %(interval)s
RETURNING next_at - %(interval)s
"""
_RELEASE = """
INSERT INTO source_pace (host, next_at) VALUES (%s, %s)
ON CONFLICT (host) DO UPDATE SET next_at = greatest(source_pace.next_at, excluded.next_at)
"""
_STORE = """
INSERT INTO source_responses (url, body, fetched_at) VALUES (%s, %s, %s)
ON CONFLICT (url) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at
"""


class SharedSourceState:
    """What `core.sources.http.HomeState` keeps, in the store at `url` (see the module's text)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reserve(self, host: str, interval: float) -> float:
        """Take the host's next free slot; returns how long to wait for it."""
        now = time.time()
        with connect(self.url, autocommit=True) as db:
            row = db.execute(_RESERVE, {"host": host, "now": now, "interval": interval}).fetchone()
        assert row is not None
        return max(float(row[0]) - now, 0.0)

    def release(self, host: str, interval: float) -> None:
        with connect(self.url, autocommit=True) as db:
            db.execute(_RELEASE, (host, time.time() + interval))

    def next_slot(self, host: str) -> float | None:
        with connect(self.url, autocommit=True) as db:
            row = db.execute("SELECT next_at FROM source_pace WHERE host = %s", (host,)).fetchone()
        return float(row[0]) if row else None

    def cached(self, url: str) -> bytes | None:
        with connect(self.url, autocommit=True) as db:
            row = db.execute("SELECT body FROM source_responses WHERE url = %s", (url,)).fetchone()
        return bytes(row[0]) if row else None

    def store(self, url: str, body: bytes) -> None:
        with connect(self.url, autocommit=True) as db:
            db.execute(_STORE, (url, body, time.time()))
