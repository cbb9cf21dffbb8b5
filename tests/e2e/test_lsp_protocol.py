"""The protocol's rules over a real pipe (and TCP), byte for byte: every request is answered, with
the error code the specification names when it cannot be served; a stream that can no longer be
read ends the server with a line on stderr instead of leaving it alive and deaf."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import SHARED_HOME
from tests.e2e.lsp_wire import ANSWER_SECONDS, INITIALIZE, REPO, Wire, frame, notification, request

DOC = "file:///protocol/paper.tex"
CITING = "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{"


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    found = await Wire.start(SHARED_HOME)
    yield found
    await found.close()


def open_doc(text: str, uri: str = DOC) -> dict[str, object]:
    item = {"uri": uri, "languageId": "latex", "version": 1, "text": text}
    return notification("textDocument/didOpen", {"textDocument": item})


def at(line: int, character: int, uri: str = DOC) -> dict[str, object]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


async def labels(wire: Wire, msg_id: int, line: int, character: int, uri: str = DOC) -> list[str]:
    reply = await wire.call(msg_id, "textDocument/completion", at(line, character, uri))
    return [item["label"] for item in reply["result"]["items"]]


async def test_invalid_params_get_32602_naming_the_problem_and_the_server_goes_on(wire: Wire) -> None:
    await wire.initialized()
    await wire.send(open_doc(CITING + "}\n"))
    cases = {
        2: at(-1, 0),
        3: {"position": {"line": 0, "character": 0}},
        4: [1, 2, 3],
        5: {"textDocument": {"uri": 7}, "position": {"line": "x", "character": 0}},
    }
    for msg_id, params in cases.items():
        reply = await wire.call(msg_id, "textDocument/completion", params)
        assert reply["error"]["code"] == -32602, reply
        assert "Invalid params for textDocument/completion" in reply["error"]["message"]
    replies = {i: (await wire.call(i, "textDocument/hover", cases[i]))["error"]["message"] for i in (2, 3)}
    assert "Position.line should be in range [0:2147483647], but was -1 @ params.position" in replies[2]
    assert "required field missing @ params.textDocument" in replies[3]
    assert (await labels(wire, 9, 0, len(CITING)))[:1] == ["triforce"]


async def test_requests_before_initialize_get_32002_and_after_shutdown_32600(wire: Wire) -> None:
    reply = await wire.call(7, "textDocument/hover", at(0, 0))
    assert reply["error"]["code"] == -32002
    await wire.send(open_doc(CITING + "}\n"))  # dropped: a notification before initialize
    assert "capabilities" in (await wire.initialized())["result"]
    again = await wire.call(8, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    assert again["error"]["code"] == -32600
    unknown = await wire.call(9, "papercite/noSuchMethod", {})
    assert unknown["error"]["code"] == -32601
    assert (await wire.call(10, "textDocument/hover", at(0, 0)))["result"] is None  # not open: dropped
    assert (await wire.call(11, "shutdown"))["result"] is None
    late = await wire.call(12, "textDocument/completion", at(0, len(CITING)))
    assert late["error"]["code"] == -32600 and "after shutdown" in late["error"]["message"]
    await wire.send(notification("exit"))
    assert await wire.exit_code() == 0


async def test_exit_without_shutdown_ends_the_process_with_1(wire: Wire) -> None:
    await wire.initialized()
    await wire.send(open_doc(CITING + "}\n"))
    await wire.send(notification("exit"))
    assert await wire.exit_code() == 1
    assert "Traceback" not in wire.stderr()


async def test_exit_before_initialize_ends_the_process_with_1(wire: Wire) -> None:
    await wire.send(notification("exit"))
    assert await wire.exit_code() == 1


async def test_malformed_json_rpc_gets_its_error_and_the_server_goes_on(wire: Wire) -> None:
    await wire.initialized()
    await wire.send(frame(b'{"jsonrpc": "2.0", "id": 3, "method": '))
    assert (await wire.answer(3))["error"]["code"] == -32700  # the id it could read is given back
    await wire.send(frame(b'{"method": "x", "id": 3'))
    assert (await wire.answer(None))["error"]["code"] == -32700
    await wire.send(frame(b"[1, 2]"), frame(b'"text"'))
    for _ in range(2):
        assert (await wire.answer(None))["error"]["code"] == -32600
    await wire.send(frame({"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}))
    assert (await wire.answer(None))["error"]["code"] == -32600
    await wire.send(frame({"jsonrpc": "1.0", "id": 4, "method": "shutdown"}))
    assert (await wire.answer(4))["error"]["code"] == -32600
    await wire.send(frame(b"[" * 100_000 + b"]" * 100_000))  # deeper than any JSON reader recurses
    assert (await wire.answer(None))["error"]["code"] == -32700
    deep = b'"\\ud800"'
    for _ in range(900):  # readable JSON, but too deep for the code that walks it
        deep = b"[" + deep + b"]"
    await wire.send(
        frame(b'{"jsonrpc":"2.0","id":6,"method":"workspace/symbol","params":{"query":%s}}' % deep)
    )
    assert (await wire.answer(6))["error"]["code"] == -32600
    await wire.send(open_doc(CITING + "}\n"))
    assert (await labels(wire, 5, 0, len(CITING)))[:1] == ["triforce"]


async def test_unpaired_surrogates_are_replaced_and_completion_still_works(wire: Wire) -> None:
    await wire.initialized()
    text = "Caf\ud800 and \udfff: " + CITING + "}\n"
    await wire.send(frame(json.dumps(open_doc(text)).encode()))  # json escapes them as \ud800, \udfff
    position = len("Caf\ud800 and \udfff: " + CITING)
    assert (await labels(wire, 2, 0, position))[:1] == ["triforce"]
    change = {
        "textDocument": {"uri": DOC, "version": 2},
        "contentChanges": [
            {
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "text": "\udc00",
            }
        ],
    }
    await wire.send(frame(json.dumps(notification("textDocument/didChange", change)).encode()))
    assert (await labels(wire, 3, 0, position + 1))[:1] == ["triforce"]


BROKEN_FRAMES = {
    "missing": (b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}", "without a Content-Length header"),
    "non-numeric": (b"Content-Length: twelve\r\n\r\n{}", "Content-Length is not a number of bytes"),
    "negative": (b"Content-Length: -1\r\n\r\n{}", "Content-Length is not a number of bytes"),
    "huge": (b"Content-Length: 99999999999999\r\n\r\n", "more than papercite reads in one message"),
    "too short": (
        b'Content-Length: 20\r\n\r\n{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}',
        "not a message header",
    ),
    "garbage header": (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a message header: 'GET / HTTP/1.1'"),
}


@pytest.mark.parametrize("case", list(BROKEN_FRAMES))
async def test_broken_framing_ends_the_server_with_a_message(wire: Wire, case: str) -> None:
    data, problem = BROKEN_FRAMES[case]
    await wire.initialized()
    await wire.send(data, request(6, "shutdown"))
    assert await wire.exit_code() == 1  # at once: the editor is not left talking to a deaf server
    error = wire.stderr()
    assert "papercite: stopped reading from the editor" in error and problem in error, error
    assert "Traceback" not in error


async def test_a_stream_that_ends_mid_message_is_said_so(wire: Wire) -> None:
    await wire.initialized()
    await wire.send(b"Content-Length: 100\r\n\r\n{")
    assert wire.process.stdin is not None
    wire.process.stdin.close()
    assert await wire.exit_code() == 1
    assert "closed the stream in the middle of a message" in wire.stderr()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    for _ in range(200):
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the server never listened")


async def read_reply(reader: asyncio.StreamReader, msg_id: int) -> dict[str, object]:
    while True:
        header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_SECONDS)
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        message = json.loads(await asyncio.wait_for(reader.readexactly(length), ANSWER_SECONDS))
        if message.get("id") == msg_id and "method" not in message:
            return dict(message)


async def test_tcp_serves_one_client_after_another(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        "--home",
        str(SHARED_HOME),
        "lsp",
        "--tcp",
        f"127.0.0.1:{port}",
        cwd=REPO,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        _, bare = await connect(port)  # connect and close at once, as a port probe does
        bare.close()
        reader, writer = await connect(port)  # a client that breaks the framing
        writer.write(b"nonsense\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), ANSWER_SECONDS) == b""  # its session is closed
        writer.close()
        for round_ in range(2):  # then two editors, one after the other, each from initialize on
            reader, writer = await connect(port)
            writer.write(frame(INITIALIZE))
            assert "capabilities" in (await read_reply(reader, 1))["result"]  # type: ignore[operator]
            writer.write(frame(request(2, "shutdown")))
            await read_reply(reader, 2)
            writer.write(frame(notification("exit")))
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), ANSWER_SECONDS) == b"", round_
            writer.close()
        assert process.returncode is None
    finally:
        process.kill()
        await process.wait()


def test_tcp_names_a_bad_address_or_a_port_in_use() -> None:
    import subprocess

    def lsp_tcp(address: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core.cli", "--home", str(SHARED_HOME), "lsp", "--tcp", address],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=ANSWER_SECONDS,
        )

    bad = lsp_tcp("localhost")
    assert bad.returncode == 1 and "--tcp wants HOST:PORT with a port number, not 'localhost'" in bad.stderr
    superscript = lsp_tcp("127.0.0.1:\u00b2")  # a digit to isdigit(), not to int()
    assert superscript.returncode == 1 and "--tcp wants HOST:PORT" in superscript.stderr, superscript.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = lsp_tcp(f"127.0.0.1:{port}")
    assert busy.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "Traceback" not in bad.stderr + busy.stderr


async def test_shutdown_and_exit_do_not_wait_for_another_process_to_let_go_of_the_store(
    tmp_path: Path,
) -> None:
    """The library is opening, waiting (up to two minutes here) for the write lock another process
    holds: the editor's shutdown is still answered, and exit still ends the process, in moments."""
    from core.lock import WriteLock

    held = WriteLock(tmp_path / "write.lock", "a long ingest elsewhere")
    held.acquire()
    os.environ["PAPERCITE_LOCK_TIMEOUT"] = "120"
    try:
        wire = await Wire.start(tmp_path)
    finally:
        del os.environ["PAPERCITE_LOCK_TIMEOUT"]
    try:
        await wire.initialized()  # the server starts opening (and seeding) the home now
        await asyncio.sleep(0.5)
        assert (await wire.call(2, "shutdown"))["result"] is None
        await wire.send(notification("exit"))
        assert await wire.exit_code() == 0
    finally:
        held.release()
        await wire.close()


async def test_a_storm_of_cancels_then_shutdown_while_the_index_opens_is_quiet(tmp_path: Path) -> None:
    """20,000 cancels of requests that are long answered, then shutdown while a new home is still
    being seeded: no 'internal error' shown to the user, and no line per cancel on stderr."""
    wire = await Wire.start(tmp_path / "home")
    try:
        await wire.initialized()  # the server starts opening (and seeding) the new home
        cancels = (notification("$/cancelRequest", {"id": n}) for n in range(20_000))
        await wire.send(b"".join(frame(message) for message in cancels))
        assert (await wire.call(2, "shutdown"))["result"] is None
        await wire.send(notification("exit"))
        assert await wire.exit_code() == 0
        assert wire.process.stdout is not None
        rest = await wire.process.stdout.read()  # anything sent after the shutdown answer
        shown = [m for m in wire.received if m.get("method") == "window/showMessage"]
        assert shown == [] and b"showMessage" not in rest and wire.stderr() == ""
    finally:
        await wire.close()


async def test_a_server_that_searched_exits_without_a_warning(wire: Wire) -> None:
    """The index's idle search threads were taken for work still blocked: every exit after a
    completion waited three seconds and said 'exiting with worker threads still blocked'."""
    await wire.initialized()
    await wire.send(open_doc(CITING))
    assert await labels(wire, 2, 0, len(CITING))
    assert (await wire.call(3, "shutdown"))["result"] is None
    await wire.send(notification("exit"))
    assert await wire.exit_code() == 0
    assert "blocked" not in wire.stderr()


async def test_a_command_with_a_megabyte_argument_is_refused_in_a_short_message(wire: Wire) -> None:
    """The refusal quoted the arguments whole: a window message of a million characters."""
    await wire.initialized()
    for n, command in enumerate(("papercite.cite", "papercite.addPaper")):
        params = {"command": command, "arguments": ["x" * 1_000_000]}
        assert (await wire.call(10 + n, "workspace/executeCommand", params))["result"] is None
    shown = [m["params"]["message"] for m in wire.received if m.get("method") == "window/showMessage"]
    assert len(shown) == 2 and all(len(m) <= 500 and m.startswith("papercite: ") for m in shown)


async def test_a_home_that_cannot_be_opened_is_said_plainly_not_as_an_internal_error(
    wire: Wire, tmp_path: Path
) -> None:
    """A home setting naming a file showed 'papercite hit an internal error and carried on:
    core.records.PaperciteError: …', and each request logged a traceback."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a home")
    params = {
        "processId": None,
        "rootUri": None,
        "capabilities": {},
        "initializationOptions": {"home": str(a_file)},
    }
    await wire.send(request(1, "initialize", params))
    await wire.answer(1)
    await wire.send(notification("initialized", {}), open_doc(CITING))
    assert await labels(wire, 2, 0, len(CITING)) == []
    await asyncio.sleep(0.5)  # the document's diagnostics
    assert (await wire.call(3, "shutdown"))["result"] is None
    shown = [m["params"]["message"] for m in wire.received if m.get("method") == "window/showMessage"]
    assert shown == [
        f"papercite cannot open its index: the home {a_file} is a file; the home must be a folder"
    ]
    assert "Traceback" not in wire.stderr()
