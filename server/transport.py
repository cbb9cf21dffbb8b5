"""Transports: stdio and TCP sessions that feed `FrameReader` and `PaperciteProtocol` and end the
way the specification and editors need: at `exit` (0 after shutdown, 1 without), at the end of the
stream, or at a framing error with one line on stderr; never with a process that lives on unread."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable

from core.index import stop_search_threads
from server.protocol import FrameReader, FramingError, PaperciteProtocol, log

# How long the end of a session waits for the server to close (its library, background work).
CLOSE_SECONDS = 3.0
# When the stream ends, requests read before it still get their answers for this long.
ANSWER_PENDING_SECONDS = 2.0


class StreamWriter:
    """Writes frames to a file descriptor; a client that went away ends the session quietly."""

    def __init__(self, write: Callable[[bytes], object], gone: Callable[[], None]) -> None:
        self._write = write
        self._gone = gone
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self._write(data)
        except OSError:  # BrokenPipeError, ConnectionResetError: nobody reads any more
            self.closed = True
            self._gone()

    def close(self) -> None:
        self.closed = True


async def run_session(
    protocol: PaperciteProtocol, receive: Callable[[], Awaitable[bytes]], close: Callable[[], Awaitable[None]]
) -> int:
    """Read frames until `exit`, the end of the stream or a framing error; the exit code."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[int] = loop.create_future()

    def end(code: int) -> None:
        if not finished.done():
            finished.set_result(code)

    protocol.on_exit = end
    frames = FrameReader()

    async def pump() -> None:
        while not finished.done():
            try:
                data = await receive()
            except OSError as error:  # a connection reset is an end of stream
                log.info("reading from the editor failed: %s", error)
                data = b""
            if not data:
                if not frames.idle:
                    print(
                        "papercite: the editor closed the stream in the middle of a message", file=sys.stderr
                    )
                await protocol.answer_pending(ANSWER_PENDING_SECONDS)
                end(0 if protocol.is_shut_down else 1)
                return
            try:
                for body in frames.feed(data):
                    try:
                        protocol.receive(body)
                    except Exception:  # a bug of ours must not stop the reading
                        log.error("a message from the editor could not be handled", exc_info=True)
                    if finished.done():
                        return
            except FramingError as error:
                print(
                    f"papercite: stopped reading from the editor: {error}. "
                    "Nothing after it can be read as a message; the editor can start papercite again.",
                    file=sys.stderr,
                )
                end(1)

    reading = asyncio.ensure_future(pump())

    def stopped(task: asyncio.Future[None]) -> None:  # a reader that died would leave a deaf server
        if not task.cancelled() and task.exception() is not None:
            end(1)

    reading.add_done_callback(stopped)
    try:
        code = await finished
    finally:
        reading.cancel()
        try:
            await asyncio.wait_for(close(), CLOSE_SECONDS)
        except asyncio.TimeoutError:
            log.warning("the session ended before the server finished closing")
    return code


def serve_stdio(protocol: PaperciteProtocol, close: Callable[[], Awaitable[None]]) -> int:
    """Serve one client on stdin/stdout; the exit code the specification asks for."""
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[bytes] = asyncio.Queue()

        def read() -> None:
            # os.read, not sys.stdin.buffer: a thread blocked here holds no lock the exit needs.
            while True:
                try:
                    data = os.read(stdin, 65536)
                except OSError:
                    data = b""
                try:
                    loop.call_soon_threadsafe(chunks.put_nowait, data)
                except RuntimeError:  # the session is over
                    return
                if not data:
                    return

        def write(data: bytes) -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(stdout, view) :]

        protocol.set_writer(StreamWriter(write, lambda: protocol.finish(1)))
        threading.Thread(target=read, name="papercite-stdin", daemon=True).start()
        return await run_session(protocol, chunks.get, close)

    loop = asyncio.new_event_loop()
    try:
        code = loop.run_until_complete(main())
        loop.run_until_complete(_cancel_remaining())
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()  # the default executor is shut down without waiting for its threads
    stop_search_threads()
    if _threads_outlive(CLOSE_SECONDS):
        # A worker still blocked (on a lock another process holds) would keep an exited server
        # alive until it gives up; the store is transactional, so nothing is cut half-way.
        log.warning("exiting with worker threads still blocked")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


async def _cancel_remaining() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _threads_outlive(seconds: float) -> bool:
    """Whether threads the interpreter would wait for at exit are still running after `seconds`."""
    deadline = time.monotonic() + seconds
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    return any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.current_thread()
    )


async def serve_tcp(
    host: str, port: int, session: Callable[[], tuple[PaperciteProtocol, Callable[[], Awaitable[None]]]]
) -> None:
    """Serve clients one after another, each with a fresh server; a client leaving ends only its session."""
    turn = asyncio.Lock()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        async with turn:  # one editor at a time: a second waits until the first leaves
            protocol, close = session()
            protocol.set_writer(StreamWriter(writer.write, lambda: protocol.finish(1)))
            try:
                code = await run_session(protocol, lambda: reader.read(65536), close)
                log.info("client %s left (exit code %s)", peer, code)
            except Exception:
                log.error("the session with %s failed", peer, exc_info=True)
            finally:
                writer.close()

    listening = await asyncio.start_server(connected, host, port)
    where = ", ".join(str(s.getsockname()) for s in listening.sockets)
    log.info("listening on %s", where)
    async with listening:
        await listening.serve_forever()
