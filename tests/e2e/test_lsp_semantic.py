"""The language server's suggestions fused with sentence vectors: a real server, the real model."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from core.export import to_bibtex
from tests.conftest import run_cli
from tests.core.test_semantic import DISTRACTORS, PARAPHRASE, TARGET
from tests.e2e.conftest import complete, open_document, position_of, server_config

HOME = Path(tempfile.mkdtemp(prefix="papercite-e2e-semantic-"))
CAPABILITIES = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True))


def _fill_home() -> None:
    bib = HOME.parent / f"{HOME.name}.bib"
    bib.write_text("".join(to_bibtex(paper) for paper in [TARGET, *DISTRACTORS]))
    done = run_cli(HOME, "ingest", str(bib))
    assert done.returncode == 0, done.stderr


_fill_home()


async def _labels_once_fused(client: LanguageClient, uri: str, position: types.Position) -> list[str]:
    """Completion labels after the sentence's vector is ready: the first answers may be BM25's
    while the model loads (each is marked incomplete, so an editor asks again as the user types)."""
    labels: list[str] = []
    for _ in range(100):
        labels = [item.label for item in await complete(client, uri, position)]
        if "tactilegrasp" in labels[:3]:
            break
        await asyncio.sleep(0.1)
    return labels


@pytest_lsp.fixture(config=server_config(HOME))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config(HOME))
async def client_off(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=CAPABILITIES, initialization_options={"semantic": False})
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_paraphrase_completes_with_its_paper(client: LanguageClient) -> None:
    text, position = position_of(f"{PARAPHRASE}~\\cite{{|}}\n")
    open_document(client, "file:///s/a.tex", text, "latex")
    labels = await _labels_once_fused(client, "file:///s/a.tex", position)
    assert "tactilegrasp" in labels[:3], labels
    # Cite papers for this sentence: the editor's command ranks the same way.
    found = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="papercite.search", arguments=[PARAPHRASE, 5])
    )
    assert "tactilegrasp" in [row["key"] for row in found][:3], found


async def test_the_setting_turns_it_off(client_off: LanguageClient) -> None:
    text, position = position_of(f"{PARAPHRASE}~\\cite{{|}}\n")
    open_document(client_off, "file:///s/b.tex", text, "latex")
    for _ in range(3):
        labels = [item.label for item in await complete(client_off, "file:///s/b.tex", position)]
        assert "tactilegrasp" not in labels[:3], labels
        await asyncio.sleep(0.2)


async def test_a_paraphrase_completes_with_its_paper_over_a_team_server(tmp_path: Path) -> None:
    from tests.e2e.test_team_server import editor
    from tests.team_server import TeamServer, make_token

    token = make_token(HOME, "editor")
    server = TeamServer(HOME).start()
    try:
        async with editor(server.url, token, tmp_path) as client:
            text, position = position_of(f"{PARAPHRASE}~\\cite{{|}}\n")
            uri = (tmp_path / "a.tex").as_uri()
            open_document(client, uri, text, "latex")
            labels = await _labels_once_fused(client, uri, position)
            assert "tactilegrasp" in labels[:3], labels
    finally:
        server.stop()
