"""The store over PostgreSQL (`PAPERCITE_STORE=postgresql://…`): the same interface and statements as
the SQLite store (`core/store.py`), for several `papercite serve` nodes over one database.

psycopg 3 speaks libpq, so every way libpq takes a password or TLS settings works (PGPASSWORD,
~/.pgpass, `sslmode`/`sslrootcert` in the URL), and it has a sync API for the write thread and an
async one for the readers on the event loop, as the SQLite store has (sqlite3 and aiosqlite).

Writes from every node go one at a time: each write transaction first takes a transaction-level
advisory lock (released by the server when the transaction ends, or its connection dies with its
node), so keys are given once and the change log's `seq` rises in commit order — a reader that sees
change N has seen every change before it. Migrations run under a session-level advisory lock, so
nodes starting together apply each one once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors

from core.dialect import postgres_ddl, postgres_sql
from core.migrations import MIGRATIONS
from core.records import PaperciteError, StoreLocked, StoreUnavailable
from core.store import Store, Writer

T = TypeVar("T")
SCHEMES = ("postgresql://", "postgres://")
# Advisory lock keys: any two 64-bit numbers this database uses for nothing else ("papercite" in hex).
WRITE_LOCK = 0x7061706572636974
MIGRATION_LOCK = WRITE_LOCK + 1
# A write waits this long for another node's write, then says so (as the folder's write lock does).
_WRITE_WAIT_SECONDS = 30
# A node that cannot reach the database gives up on a connection after this long (libpq's default
# is to wait for ever) and answers 503; searches keep answering from its index.
_CONNECT_TIMEOUT_SECONDS = 5
# The NOTIFY channel a write announces itself on.
CHANNEL = "papercite_changes"
# A node that hears nothing looks for changes this often anyway (a notification can be missed
# while its connection is being remade), and waits this long to listen again after a failure.
_POLL_SECONDS = 1.0
_RELISTEN_SECONDS = 2.0
# Changes kept after every node could have applied them: a node further behind than this (one that
# was down while a million papers came in) rebuilds its index instead of replaying the log. The
# log is shared, so one node's trim must not take what another still needs.
KEPT_CHANGES = 200_000


def is_postgres_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(SCHEMES)


def redacted(url: str) -> str:
    """`url` for messages: its password (in the authority or as a parameter) never appears."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the PostgreSQL URL (unreadable)"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        name, colon, _ = user.partition(":")
        netloc = f"{name}{':***' if colon else ''}@{host}"
    query = "&".join(
        f"{part.partition('=')[0]}=***" if part.lower().startswith("password=") else part
        for part in parts.query.split("&")
        if part
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def checked_url(url: str) -> str:
    """`url` if libpq can read it; else a PaperciteError naming what is wrong (without the password)."""
    if not is_postgres_url(url):
        raise PaperciteError(f"the store {redacted(url)!r} is not a postgresql:// URL")
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise PaperciteError(f"the store URL {redacted(url)} cannot be read as a PostgreSQL URL") from None
    if not urlsplit(url).path.strip("/"):
        raise PaperciteError(f"the store URL {redacted(url)} names no database (…/DBNAME)")
    return url


def unavailable(url: str, error: BaseException) -> StoreUnavailable:
    """The error a node gives when the database does not answer: it names the database, never a password."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return StoreUnavailable(f"the database {redacted(url)} is unavailable: {reason.replace(url, '…')}")


def connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_SECONDS, **options)
    except psycopg.OperationalError as error:
        raise unavailable(url, error) from None


def _clean(value: Any) -> Any:
    # PostgreSQL's text cannot hold NUL, which SQLite's can; a record carrying one keeps U+FFFD there.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


def _cleaned(parameters: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_clean(value) for value in parameters)


class PostgresStore(Store):
    postgres = True

    def __init__(self, connection: psycopg.AsyncConnection[Any], url: str) -> None:
        self._pg: psycopg.AsyncConnection[Any] | None = connection
        self.url = url
        self._reconnecting = asyncio.Lock()

    @property
    def where(self) -> str:
        return redacted(self.url)

    @property
    def location(self) -> str:
        return self.url

    @classmethod
    async def open_url(cls, url: str) -> PostgresStore:
        url = checked_url(url)
        store = cls(await cls._connect(url), url)
        try:
            await asyncio.to_thread(migrate_postgres, url)
        except BaseException:
            await store.close()
            raise
        return store

    @staticmethod
    async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
        try:
            return await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_SECONDS
            )
        except psycopg.OperationalError as error:
            raise unavailable(url, error) from None

    async def close(self) -> None:
        if self._pg is not None:
            await self._pg.close()
            self._pg = None

    async def applied_migrations(self) -> list[str]:
        return [row[0] for row in await self._rows("SELECT name FROM schema_migrations ORDER BY name")]

    async def migrate(self) -> list[str]:
        return await asyncio.to_thread(migrate_postgres, self.url)

    async def _rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Sequence[Any]]:
        statement = postgres_sql(sql)
        values = _cleaned(parameters)
        # One retry on a fresh connection: after the database restarts, the old one is dead, and a
        # node must come back by itself.
        for attempt in (1, 2):
            connection = self._pg or await self._reconnect()
            try:
                cursor = await connection.execute(statement, values)
                return list(await cursor.fetchall()) if cursor.description else []
            except psycopg.OperationalError as error:
                if attempt == 2 or not connection.closed:
                    raise unavailable(self.url, error) from None
                self._pg = None
        raise AssertionError("unreachable")

    async def _reconnect(self) -> psycopg.AsyncConnection[Any]:
        async with self._reconnecting:
            if self._pg is None or self._pg.closed:
                self._pg = await self._connect(self.url)
            return self._pg

    async def announcements(self) -> AsyncIterator[None]:
        """Yields whenever another node may have written: on each NOTIFY from a write's commit, and
        every _POLL_SECONDS regardless. While the database is away it keeps trying to listen again."""
        while True:
            try:
                listener = await self._connect(self.url)
            except StoreUnavailable:
                await asyncio.sleep(_RELISTEN_SECONDS)
                continue
            try:
                await listener.execute(f"LISTEN {CHANNEL}")
                yield None  # what was written while this node was not listening
                while True:
                    async for _ in listener.notifies(timeout=_POLL_SECONDS, stop_after=1):
                        pass
                    yield None
            except psycopg.OperationalError:
                await asyncio.sleep(_RELISTEN_SECONDS)
            finally:
                await listener.close()

    async def head_seq(self) -> int:
        # The newest committed change (writes commit in seq order under the write lock); a trim
        # always keeps it (see `PostgresWriter.trim_changes`).
        return int(await self.scalar("SELECT coalesce(max(seq), 0) FROM changes") or 0)

    async def write(self, work: Callable[[Writer], T]) -> T:
        stop = threading.Event()
        job = asyncio.ensure_future(asyncio.to_thread(PostgresWriter.run_url, self.url, work, stop))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(BaseException):
                await job
            raise


def migrate_postgres(url: str) -> list[str]:
    """Apply the migrations the database lacks, each in its own transaction, under an advisory lock
    held for the whole run: nodes starting at once wait for the first, then find nothing to do."""
    connection = connect(url, autocommit=True)
    try:
        connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        connection.execute(
            postgres_ddl(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
            )
        )
        applied = {row[0] for row in connection.execute("SELECT name FROM schema_migrations")}
        newly = []
        for name, script in MIGRATIONS:
            if name in applied:
                continue
            with connection.transaction():
                connection.execute(postgres_ddl(script).encode("utf-8"))
                connection.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            newly.append(name)
        # Which database a node's index was built from (a home can be pointed at another).
        connection.execute(
            "INSERT INTO meta (name, value) VALUES ('store_id', gen_random_uuid()::text) "
            "ON CONFLICT (name) DO NOTHING"
        )
        connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        return newly
    except psycopg.OperationalError as error:
        raise unavailable(url, error) from None
    finally:
        connection.close()


class PostgresWriter(Writer):
    postgres = True

    @classmethod
    def run_url(cls, url: str, work: Callable[[Writer], T], stop: threading.Event) -> T:
        connection = connect(url)
        try:
            with connection.transaction():
                connection.execute(f"SET LOCAL lock_timeout = '{_WRITE_WAIT_SECONDS}s'")
                try:
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                except pg_errors.LockNotAvailable:
                    raise StoreLocked(
                        f"the database {redacted(url)} is being written by another node; "
                        f"waited {_WRITE_WAIT_SECONDS} s"
                    ) from None
                result = work(cls(connection, stop))
                # Delivered on commit: every node listening catches up at once (see `announcements`).
                connection.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
                return result
        except psycopg.OperationalError as error:
            raise unavailable(url, error) from None
        finally:
            connection.close()

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> Iterable[Sequence[Any]]:
        cursor = self._db.execute(postgres_sql(sql), _cleaned(parameters))
        return cursor.fetchall() if cursor.description else []

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        return int(self._db.execute(postgres_sql(sql), _cleaned(parameters)).rowcount)

    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(postgres_sql(sql), [_cleaned(row) for row in rows])

    # New papers and change-log rows go in by COPY: what an ingest writes most, at a fraction of
    # the cost of as many INSERTs (see docs/benchmarks.md, "Several nodes over one PostgreSQL store").

    def reset_sequence(self, table: str) -> None:
        self._db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), coalesce(max(seq), 0) + 1, false) "
            f"FROM {table}"
        )

    def _append(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self._db.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_cleaned(row))

    def head(self) -> int:
        return int(self._db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def trim_changes(self, upto: int) -> None:
        """Forget changes older than the last `KEPT_CHANGES`: other nodes may still need the rest."""
        self._execute("DELETE FROM changes WHERE seq <= ?", (min(upto, self.head()) - KEPT_CHANGES,))
