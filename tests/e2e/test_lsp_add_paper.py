"""*Add this paper and cite it* over the protocol: a DOI or arXiv link in the text is fetched from
the (fake) services, added to the index and the .bib, and replaced by the citation."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import PHOTONIC, Editor
from tests.e2e.test_lsp_bibliography import CAPABILITIES, actions_at, execute, read_code_actions_as_editors_do
from tests.fakes.sources import FakeSources

# The services the server fetches from, for the whole module (the server is started once).
FAKE = FakeSources.with_samples().start()
HOME = Path(tempfile.mkdtemp(prefix="papercite-add-paper-"))


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "core.cli", "lsp"],
        server_env={**os.environ, **FAKE.env(), "PAPERCITE_HOME": str(HOME), "PAPERCITE_ARXIV_INTERVAL": "0"},
    )
)
async def client(lsp_client: LanguageClient):
    read_code_actions_as_editors_do(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(capabilities=CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


async def until(condition, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def test_a_doi_link_becomes_a_citation_and_a_bib_entry(client: LanguageClient, tmp_path: Path) -> None:
    editor = Editor(client)
    bib = tmp_path / "refs.bib"
    bib.write_text(PHOTONIC)
    uri = (tmp_path / "paper.tex").as_uri()
    text = "\\bibliography{refs}\nWe index with \\url{https://doi.org/10.1145/3404835.3463238} for speed.\n"
    editor.open(uri, text, "latex")
    actions = await actions_at(client, uri, text, "doi.org")
    first = actions[0]
    assert first.title == "Add this paper and cite it: doi:10.1145/3404835.3463238"
    assert first.command is not None
    result = await execute(client, first.command)
    assert isinstance(result, dict) and result["key"] == "lin2021pyserini", client.messages
    assert editor.text(uri) == "\\bibliography{refs}\nWe index with \\cite{lin2021pyserini} for speed.\n"
    written = bib.read_text()
    assert written.startswith(PHOTONIC) and "@inproceedings{lin2021pyserini," in written
    assert "A toolkit for reproducible retrieval research" in written
    assert [r.path for r in FAKE.served("crossref")][-1].endswith("/works/10.1145/3404835.3463238")


async def test_an_arxiv_link_in_markdown_keeps_its_label(client: LanguageClient, tmp_path: Path) -> None:
    editor = Editor(client)
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    uri = (tmp_path / "notes.md").as_uri()
    text = "---\nbibliography: refs.bib\n---\n\nWe draft with [TriForce](https://arxiv.org/abs/2404.11912v3) today.\n"
    editor.open(uri, text, "markdown")
    [action] = [
        a for a in await actions_at(client, uri, text, "2404") if a.title.startswith("Add this paper")
    ]
    assert action.command is not None
    await execute(client, action.command)
    assert editor.text(uri).endswith("We draft with TriForce [@triforce] today.\n")
    entry = (tmp_path / "refs.bib").read_text().split("\n}\n")[1]
    assert "{triforce," in entry and "author = {Hanshi Sun and Zhuoming Chen" in entry


async def test_a_paper_no_service_knows_is_said_and_nothing_changes(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    uri = (tmp_path / "paper.tex").as_uri()
    text = "\\bibliography{refs}\nSee doi:10.9999/nowhere.at.all for details.\n"
    editor.open(uri, text, "latex")
    [action] = await actions_at(client, uri, text, "10.9999")
    assert action.command is not None
    assert await execute(client, action.command) is None
    await until(lambda: any("neither Crossref nor OpenAlex knows" in m.message for m in client.messages))
    assert editor.text(uri) == text and (tmp_path / "refs.bib").read_text() == PHOTONIC
