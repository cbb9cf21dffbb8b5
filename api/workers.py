"""`papercite serve --workers N`: N processes answering the same API on one address.

The parent opens the home once (seed corpus, schema, index catch-up), binds the address, and
spawns the workers (spawned, not forked: a fork of a process that has held SQLite and tantivy is
unsafe). On Linux each worker listens on a socket of its own in one `SO_REUSEPORT` group, which the
kernel balances new connections across; the parent keeps every socket open, so connections that
arrive while a worker restarts wait in its queue instead of being refused. Elsewhere on POSIX the
workers accept from one shared socket. Each worker opens the home as any reader does: writes take
the home's write lock one at a time (core/lock.py), and every worker sees the others' writes through
the store's change marker within half a second (`Library.refresh`). Per-token rate limits are
shared through a file in the home (api/shared_rate.py).

The parent restarts a worker that ends or stops answering (its event loop sends a beat every
second; one silent for `--worker-timeout` seconds is killed and replaced), stops them all on SIGTERM
or SIGINT, and each worker stops by itself when the parent is gone, `kill -9` included.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any

from aiohttp import web

from api.app import Limits
from api.node import ACCESS_LOG_FORMAT, application_for, quiet_malformed_requests, warn_if_no_tokens
from api.shared_rate import SharedRateLimit
from core.harvest_schedule import Background
from core.library import Library, default_store
from core.records import PaperciteError

log = logging.getLogger("papercite.api")
# The shared rate limits' file, in the home.
RATE_FILE = "serve-rates"
MAX_WORKERS = 64
# Connections each listening socket queues before accepting: a burst of 200 Slack posts overflowed
# the default 128 (bots/main.py).
BACKLOG = 1024
# A worker asked to stop finishes the requests in hand (an upload being indexed) for this long.
STOP_SECONDS = 30.0
# An idle kept-alive connection is closed after this long, as a single `serve` (aiohttp's run_app)
# does; an AppRunner's own default is an hour, and a client could hold connections open that long.
KEEPALIVE_SECONDS = 75.0
# A worker that keeps ending is restarted after 0.5 s, 1 s, 2 s, … at most this long.
MOST_RESTART_SECONDS = 30.0
# A worker that served this long before it ended had no trouble starting: restart it at once.
STEADY_SECONDS = 60.0
# A serving worker's event loop tells the parent it is alive this often...
BEAT_SECONDS = 1.0
# ... and one silent this long is stuck (a request holding its event loop, a stopped process): no
# request of the API holds the loop for more than a fraction of a second (searches take ms; ingest
# and lookups run on threads), so a minute is far beyond any.
DEFAULT_WORKER_TIMEOUT = 60.0


class CannotServe(PaperciteError):
    """The address cannot be bound, or this system cannot run several workers."""


# --- the listening sockets ------------------------------------------------------------------------


def _addresses(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise CannotServe(f"cannot listen on {host}:{port}: {error.strerror}") from None
    addresses: list[tuple[int, tuple[Any, ...]]] = []
    for family, _, _, _, address in found:
        if (family, address) not in addresses:
            addresses.append((family, address))
    return addresses


def _listening(family: int, address: tuple[Any, ...], *, reuse_port: bool) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def bind(host: str, port: int, workers: int, *, reuse_port: bool) -> list[list[socket.socket]]:
    """For each worker, its sockets (one per address `host` names): each its own, in one
    SO_REUSEPORT group, or all the same ones. The address must be free: a socket bound first
    without SO_REUSEPORT makes sure no other server (another `serve --workers`) already holds it."""
    addresses = _addresses(host, port)
    held: list[socket.socket] = []
    try:
        probes: list[socket.socket] = []
        for family, address in addresses:
            if port == 0 and probes:  # the port the first address got, for all of them
                address = (address[0], probes[0].getsockname()[1], *address[2:])
            probes.append(_listening(family, address, reuse_port=False))
        port = probes[0].getsockname()[1]
        if not reuse_port:
            return [probes] * workers
        for probe in probes:
            probe.close()
        sockets = []
        for _ in range(workers):
            own = []
            for family, address in addresses:
                own.append(_listening(family, (address[0], port, *address[2:]), reuse_port=True))
                held.append(own[-1])
            sockets.append(own)
        return sockets
    except OSError as error:
        for sock in held:
            sock.close()
        raise CannotServe(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


# --- a worker -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSettings:
    number: int
    home: Path
    sockets: list[socket.socket]
    limits: Limits
    access_log: bool
    background: Background | None = None


async def _beat(beats: Connection) -> None:
    """Tell the parent, every BEAT_SECONDS, that this event loop still turns."""
    while True:
        beats.send_bytes(b"")
        await asyncio.sleep(BEAT_SECONDS)


def _stop_with_parent() -> None:
    """When the parent is gone (even by kill -9), stop as on SIGTERM; if that hangs, end anyway.
    The sentinel, a pipe, is ready when the parent ends (as for the ingest's parsing workers)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        log.warning("the parent process is gone; stopping")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_SECONDS + 5)
        os._exit(1)

    threading.Thread(target=watch, name="papercite-parent-watch", daemon=True).start()


async def _serve(settings: WorkerSettings, beats: Connection) -> None:
    limits = settings.limits
    # Over a PostgreSQL store the nodes' workers all count in the database (api/store_rate.py).
    rate = None if default_store() else SharedRateLimit(settings.home / RATE_FILE, limits.rate, limits.burst)
    runner = web.AppRunner(
        await application_for(
            settings.home, limits, rate, warn_without_tokens=False, background=settings.background
        ),
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        access_log_format=ACCESS_LOG_FORMAT,
        shutdown_timeout=STOP_SECONDS,
        keepalive_timeout=KEEPALIVE_SECONDS,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    await runner.setup()
    try:
        for sock in settings.sockets:
            await web.SockSite(runner, sock, backlog=BACKLOG, shutdown_timeout=STOP_SECONDS).start()
        beats.send(os.getpid())
        beating = asyncio.create_task(_beat(beats))
        await stop.wait()
        beating.cancel()
    finally:
        await runner.cleanup()
        if rate is not None:
            rate.close()


def run_worker(settings: WorkerSettings, beats: Connection) -> None:
    """A worker process's entry point."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"papercite: worker {settings.number}: %(levelname)s %(message)s",
    )
    quiet_malformed_requests()
    _stop_with_parent()
    asyncio.run(_serve(settings, beats))


# --- the parent -----------------------------------------------------------------------------------


@dataclass
class _Running:
    process: BaseProcess
    beats: Connection  # its pid once it serves, then a beat every BEAT_SECONDS
    serving_since: float | None = None
    last_beat: float = 0.0
    killed_silent: bool = False


def _how_it_ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Starts the workers, restarts those that end, and stops them all when asked."""

    def __init__(
        self,
        home: Path,
        sockets: list[list[socket.socket]],
        limits: Limits,
        access_log: bool,
        worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
        background: Background | None = None,
    ):
        self.home = home
        self.background = background
        self.worker_timeout = worker_timeout
        self.sockets = sockets
        self.limits = limits
        self.access_log = access_log
        self.context = multiprocessing.get_context("spawn")
        self.running: dict[int, _Running] = {}
        self.restart_at: dict[int, float] = {}
        self.quick_ends: dict[int, int] = {}
        self.stop_signal: int | None = None

    def start(self, number: int) -> None:
        receive, send = self.context.Pipe(duplex=False)
        settings = WorkerSettings(
            number, self.home, self.sockets[number - 1], self.limits, self.access_log, self.background
        )
        # Not a daemon: a daemonic process may not start the ingest's parsing workers.
        process = self.context.Process(
            target=run_worker, args=(settings, send), name=f"papercite-serve-{number}"
        )
        process.start()
        send.close()
        self.running[number] = _Running(process, receive)

    def _read_beats(self, number: int, worker: _Running) -> None:
        try:
            while worker.beats.poll():
                if worker.serving_since is None:
                    pid = worker.beats.recv()
                    worker.serving_since = time.monotonic()
                    log.info("worker %d (pid %s) serving", number, pid)
                else:
                    worker.beats.recv_bytes()
                worker.last_beat = time.monotonic()
        except (EOFError, OSError):
            pass  # it has ended: its sentinel says so

    def _ask_to_stop(self, number: int, frame: FrameType | None) -> None:
        self.stop_signal = number

    def _ended(self, number: int, worker: _Running, starting: bool) -> int | None:
        """Book a worker's end; an exit status for the whole server if it cannot go on."""
        worker.process.join()
        how = _how_it_ended(worker.process.exitcode)
        del self.running[number]
        worker.beats.close()
        if starting and worker.serving_since is None:
            log.error("worker %d ended before serving (%s); stopping", number, how)
            return 1
        served = time.monotonic() - worker.serving_since if worker.serving_since else 0.0
        quick = 0 if served >= STEADY_SECONDS else self.quick_ends.get(number, 0) + 1
        self.quick_ends[number] = quick
        delay = 0.0 if quick == 0 else min(MOST_RESTART_SECONDS, 0.5 * 2 ** (quick - 1))
        log.warning(
            "worker %d (pid %s) ended: %s; starting another in %g s", number, worker.process.pid, how, delay
        )
        self.restart_at[number] = time.monotonic() + delay
        return None

    def run(self, workers: int) -> int:
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        wake_write.setblocking(False)
        previous_wakeup = signal.set_wakeup_fd(wake_write.fileno())
        previous = {
            number: signal.signal(number, self._ask_to_stop) for number in (signal.SIGTERM, signal.SIGINT)
        }
        starting = True
        try:
            for number in range(1, workers + 1):
                self.start(number)
            while self.stop_signal is None:
                deadlines = list(self.restart_at.values())
                deadlines += [
                    w.last_beat + self.worker_timeout
                    for w in self.running.values()
                    if w.serving_since and not w.killed_silent
                ]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                waiting: list[Any] = [wake_read]
                for worker in self.running.values():
                    waiting += [worker.process.sentinel, worker.beats]
                ready = multiprocessing.connection.wait(waiting, timeout)
                if wake_read in ready:
                    try:
                        while wake_read.recv(64):
                            pass
                    except BlockingIOError:
                        pass
                if self.stop_signal is not None:
                    # Ctrl-C reaches the workers too: their ends now are no reason to start others.
                    break
                for number, worker in list(self.running.items()):
                    if worker.beats in ready:
                        self._read_beats(number, worker)
                    if worker.process.sentinel in ready:
                        failed = self._ended(number, worker, starting)
                        if failed is not None:
                            return failed
                if (
                    starting
                    and len(self.running) == workers
                    and all(worker.serving_since is not None for worker in self.running.values())
                ):
                    starting = False
                    log.info("all %d workers serving", workers)
                now = time.monotonic()
                for number, worker in self.running.items():
                    silent = now - worker.last_beat
                    if worker.serving_since and silent > self.worker_timeout and not worker.killed_silent:
                        log.warning(
                            "worker %d (pid %s) has not answered for %.0f s; killing it",
                            number,
                            worker.process.pid,
                            silent,
                        )
                        worker.process.kill()  # its end is booked, and a new one started, as any other
                        worker.killed_silent = True
                for number, due in list(self.restart_at.items()):
                    if due <= now:
                        del self.restart_at[number]
                        self.start(number)
            log.info("stopping (%s)", signal.Signals(self.stop_signal).name)
            return 0
        finally:
            self.stop_all()
            for number, handler in previous.items():
                signal.signal(number, handler)
            signal.set_wakeup_fd(previous_wakeup)
            wake_read.close()
            wake_write.close()

    def stop_all(self) -> None:
        """SIGTERM to every worker, then SIGKILL to any still running after STOP_SECONDS and a bit."""
        for worker in self.running.values():
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + STOP_SECONDS + 5
        for worker in self.running.values():
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("worker pid %s did not stop in time; killing it", worker.process.pid)
                worker.process.kill()
                worker.process.join()
            worker.beats.close()
        self.running.clear()


async def _prepare(home: Path) -> Path | str:
    """Open the home once before the workers do: a fresh one is seeded, an old one's schema brought
    up to date and its index caught up, by one process instead of N racing for the lock. Returns
    where its tokens are."""
    library = await Library.open(home)
    await library.close()
    return library.store.location


def serve_with_workers(
    home: Path,
    host: str,
    port: int,
    limits: Limits,
    *,
    workers: int,
    access_log: bool,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
    background: Background | None = None,
) -> int:
    if sys.platform == "win32":
        raise CannotServe(
            "serve --workers needs Linux or another POSIX system; here, serve with one worker "
            "(or run several servers on other ports behind the reverse proxy)"
        )
    if not 1 <= workers <= MAX_WORKERS:
        raise CannotServe(f"--workers must be from 1 to {MAX_WORKERS}, not {workers}")
    warn_if_no_tokens(asyncio.run(_prepare(home)))
    reuse_port = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
    sockets = bind(host, port, workers, reuse_port=reuse_port)
    bound = sockets[0][0].getsockname()[1]
    log.info("serving %s on http://%s:%d/v1/ with %d workers", home, host, bound, workers)
    if not reuse_port:
        log.info("the workers share one listening socket here: connections may spread unevenly among them")
    try:
        return Supervisor(home, sockets, limits, access_log, worker_timeout, background).run(workers)
    finally:
        for sock in {sock for own in sockets for sock in own}:
            sock.close()
