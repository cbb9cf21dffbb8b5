"""The language server as a raw JSON-RPC peer: frames written byte for byte, answers read back.

No client library stands between the test and the server, so a test can send what no well-behaved
client would (broken headers, invalid params, requests out of order) and see exactly what comes back.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
# Long enough for a first start on a loaded machine; a healthy answer takes milliseconds.
ANSWER_SECONDS = 20.0


def frame(message: object) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def request(msg_id: int | str, method: str, params: object = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str, params: object = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


INITIALIZE = request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})


class Wire:
    """One server process on pipes."""

    def __init__(self, process: asyncio.subprocess.Process, errors: IO[bytes]) -> None:
        self.process = process
        self.errors = errors  # a file, not a pipe: a pipe nobody drains would stall a chatty server
        self.received: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, home: Path, *args: str) -> Wire:
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "core.cli",
            "lsp",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
            cwd=REPO,
            env={**os.environ, "PAPERCITE_HOME": str(home)},
        )
        return cls(process, errors)

    async def send(self, *messages: object) -> None:
        assert self.process.stdin is not None
        for message in messages:
            self.process.stdin.write(message if isinstance(message, bytes) else frame(message))
        await self.process.stdin.drain()

    async def next_message(self, seconds: float = ANSWER_SECONDS) -> dict[str, Any]:
        assert self.process.stdout is not None
        header = await asyncio.wait_for(self.process.stdout.readuntil(b"\r\n\r\n"), seconds)
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        body = await asyncio.wait_for(self.process.stdout.readexactly(length), seconds)
        message: dict[str, Any] = json.loads(body)
        self.received.append(message)
        return message

    async def answer(self, msg_id: int | str | None, seconds: float = ANSWER_SECONDS) -> dict[str, Any]:
        """The reply to `msg_id`, skipping notifications and requests the server sends meanwhile."""
        for message in self.received:
            if "method" not in message and message.get("id") == msg_id:
                self.received.remove(message)
                return message
        while True:
            message = await self.next_message(seconds)
            if "method" not in message and message.get("id") == msg_id:
                self.received.remove(message)
                return message

    async def call(self, msg_id: int, method: str, params: object = None) -> dict[str, Any]:
        await self.send(request(msg_id, method, params))
        return await self.answer(msg_id)

    async def initialized(self) -> dict[str, Any]:
        await self.send(INITIALIZE)
        reply = await self.answer(1)
        await self.send(notification("initialized", {}))
        return reply

    async def exit_code(self, seconds: float = ANSWER_SECONDS) -> int:
        return await asyncio.wait_for(self.process.wait(), seconds)

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.errors.close()
