"""Settings from the editor, a shared home written by another process, and the TCP transport."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import REPO, free_port, run_cli
from tests.e2e.conftest import complete, open_document, position_of, server_config

WRITABLE_HOME = Path(tempfile.mkdtemp(prefix="papercite-e2e-writable-"))

CAPABILITIES = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True))


@pytest_lsp.fixture(config=server_config(WRITABLE_HOME))
async def client(lsp_client: LanguageClient):
    lsp_client.set_configuration({"papercite": {"maxItems": 3}})
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=CAPABILITIES, initialization_options={"maxItems": "lots", "languages": ["cobol"]}
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_bad_settings_are_shown_and_defaults_used(client: LanguageClient) -> None:
    for _ in range(100):
        if len(client.messages) >= 2:
            break
        await asyncio.sleep(0.05)
    messages = [m.message for m in client.messages]
    assert any("'maxItems' must be a whole number from 1 to 200; using 20" in m for m in messages)
    assert any("'languages'" in m for m in messages)
    assert all(m.type == types.MessageType.Warning for m in client.messages)
    # workspace/configuration then set maxItems to 3, and LaTeX is still enabled.
    text, position = position_of("Looped transformers align reasoning steps~\\cite{|}\n")
    open_document(client, "file:///s/a.tex", text, "latex")
    assert len(await complete(client, "file:///s/a.tex", position)) == 3


async def test_papers_added_by_another_process_are_offered(client: LanguageClient, tmp_path: Path) -> None:
    sentence = "Quantum annealing schedules for protein folding on photonic chips"
    text, position = position_of(f"{sentence}~\\cite{{|}}\n")
    open_document(client, "file:///s/b.tex", text, "latex")
    before = [i.label for i in await complete(client, "file:///s/b.tex", position)]
    assert "qubit2031annealing" not in before
    bib = tmp_path / "new.bib"
    bib.write_text(
        "@article{qubit2031annealing, title={Annealing Schedules for Protein Folding on Photonic Quantum Chips},"
        " author={Qubit, Quinn}, year={2031}, abstract={Quantum annealing folds proteins on photonic chips.}}\n"
    )
    assert run_cli(WRITABLE_HOME, "ingest", str(bib)).returncode == 0
    await asyncio.sleep(0.6)  # the server looks for other processes' writes every half second
    after = [i.label for i in await complete(client, "file:///s/b.tex", position)]
    assert after[0] == "qubit2031annealing"


async def test_tcp_transport_survives_invalid_utf8(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core.cli",
            "--home",
            str(tmp_path / "home"),
            "lsp",
            "--tcp",
            f"127.0.0.1:{port}",
        ],
        cwd=REPO,
    )
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the server never listened")
        # A frame of invalid UTF-8 first: the server must shrug it off and answer what follows.
        garbage = b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"x":"\xff\xfe\xc3"}}'
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(garbage), garbage))
        body = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}'
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        frames = []
        while not any(b'"id": 1' in f or b'"id":1' in f for f in frames):
            header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            frames.append(await reader.readexactly(length))
        assert b"was not valid UTF-8" in frames[0]
        assert b'"completionProvider"' in frames[-1] and b'"hoverProvider"' in frames[-1]
        writer.close()
    finally:
        server.kill()
        server.wait()
