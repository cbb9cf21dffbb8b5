"""A team's set-up, end to end: `papercite serve` on loopback with the Slack endpoint, and language
servers (pytest-lsp, over stdio) whose home is the server's URL and a token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from core.records import Paper
from core.remote import RemoteLibrary
from tests.e2e.conftest import DRAFT_TEX, complete, open_document, position_of
from tests.e2e.fake_slack import FakeSlack, command_body, sign, view_submission_body
from tests.e2e.test_lsp import CAPABILITIES
from tests.e2e.test_slack import FORM, SECRET, post
from tests.team_server import TeamServer, make_token

SENTENCE = "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"


class Team:
    def __init__(self, server: TeamServer, writer: str, reader: str) -> None:
        self.server, self.writer, self.reader = server, writer, reader


@pytest.fixture(scope="module")
def team(slack: FakeSlack) -> Iterator[Team]:
    home = Path(tempfile.mkdtemp(prefix="papercite-team-")) / "home"
    writer, reader = make_token(home, "writer", write=True), make_token(home, "reader")
    env = {
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAPERCITE_SLACK_API_URL": slack.api_url,
    }
    # Two workers: a paper the Slack form adds through one is offered by searches through the other
    # (tests/api covers one worker, the default).
    server = TeamServer(home, extra=("--workers", "2"), env=env).start()
    yield Team(server, writer, reader)
    server.stop()


@asynccontextmanager
async def editor(url: str, token: str, tmp: Path, **variables: str) -> AsyncIterator[LanguageClient]:
    """A language server whose home is `url`; no PAPERCITE_HOME or token in its environment, and
    `variables` added to it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PAPERCITE_HOME", "PAPERCITE_TOKEN")}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # where the paper pages go for a URL home
    env.update(variables)
    config = ClientServerConfig(server_command=[sys.executable, "-m", "core.cli", "lsp"], server_env=env)
    client = await config.start()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=CAPABILITIES,
            root_uri=tmp.as_uri(),
            initialization_options={"home": url, "token": token, "maxItems": 10},
        )
    )
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


async def eventually(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_the_editor_over_a_url_completes_hovers_diagnoses_and_defines(
    team: Team, tmp_path: Path
) -> None:
    async with editor(team.server.url, team.reader, tmp_path) as client:
        text, position = position_of("\\section{Intro}\n" + SENTENCE + "As in \\cite{triforc}.\n")
        uri = (tmp_path / "a.tex").as_uri()
        open_document(client, uri, text, "latex")
        items = await complete(client, uri, position)
        assert [i.label for i in items][:1] == ["triforce"] and len(items) == 10
        # The abstract comes with the item (this client does not resolve), from the server.
        assert "hierarchical speculative decoding" in str(items[0].documentation)

        async def published() -> list[types.Diagnostic]:
            return [d for d in client.diagnostics.get(uri, []) if d.code == "unknown-key"]

        unknown = await eventually(published)
        assert len(unknown) == 1 and "did you mean triforce" in unknown[0].message

        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=2, character=14),
            )
        )
        assert hover is None  # on the unknown key: nothing to show
        text2 = "See \\cite{triforce}.\n"
        uri2 = (tmp_path / "b.tex").as_uri()
        open_document(client, uri2, text2, "latex")
        on_key = types.Position(line=0, character=12)
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri2), position=on_key)
        )
        assert hover is not None and "TriForce" in str(hover.contents)
        found = await client.text_document_definition_async(
            types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri2), position=on_key)
        )
        assert isinstance(found, list) and len(found) == 1
        page = Path(found[0].uri.removeprefix("file://"))
        assert page.is_relative_to(tmp_path / "cache") and "@article{triforce," in page.read_text()
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="triforce"))
        assert symbols and symbols[0].name.startswith("triforce")
        assert not [m for m in client.messages if m.type == types.MessageType.Warning]


async def test_a_paper_a_colleague_adds_is_offered_within_two_seconds(team: Team, tmp_path: Path) -> None:
    async with editor(team.server.url, team.reader, tmp_path) as client:
        text, position = position_of("Glacier moraine dating with cosmogenic beryllium~\\cite{|}.\n")
        uri = (tmp_path / "g.tex").as_uri()
        open_document(client, uri, text, "latex")
        assert "colleague2031moraine" not in [i.label for i in await complete(client, uri, position)]
        async with RemoteLibrary(team.server.url, team.writer) as colleague:
            paper = Paper(
                key="colleague2031moraine",
                title="Dating Glacier Moraines with Cosmogenic Beryllium",
                abstract="Cosmogenic beryllium exposure ages date glacier moraines.",
            )
            report = await colleague.add_papers([paper])
        assert report.added == ["colleague2031moraine"]
        added_at = time.monotonic()

        async def offered() -> bool:
            return "colleague2031moraine" in [i.label for i in await complete(client, uri, position)][:3]

        assert await eventually(offered, timeout=2.0)
        assert time.monotonic() - added_at < 2.0


async def test_a_paper_added_through_slacks_form_reaches_a_running_editor(
    team: Team, slack: FakeSlack, tmp_path: Path
) -> None:
    async with editor(team.server.url, team.reader, tmp_path) as client:
        text, position = position_of("Photonic annealing folds small proteins~\\cite{|}.\n")
        uri = (tmp_path / "p.tex").as_uri()
        open_document(client, uri, text, "latex")
        await complete(client, uri, position)
        slack.reset()
        body = command_body("add", slack.response_url())
        assert (await post(team.server.url, body, FORM | sign(SECRET, body)))[0] == 200
        view = (await slack.wait_for("views.open"))[0].payload
        metadata = (
            view["view"] if isinstance(view["view"], dict) else __import__("json").loads(view["view"])
        )["private_metadata"]
        form = view_submission_body(
            {
                "title": "Photonic Annealers Fold Proteins",
                "abstract": "Quantum photonic annealing folds small proteins.",
                "authors": "Qubit, Quinn",
                "year": "2031",
            },
            metadata,
        )
        assert (await post(team.server.url, form, FORM | sign(SECRET, form)))[0] == 200
        added_at = time.monotonic()

        async def offered() -> bool:
            return "qubit2031photonic" in [i.label for i in await complete(client, uri, position)][:3]

        assert await eventually(offered, timeout=2.0)
        assert time.monotonic() - added_at < 2.0


async def test_when_the_server_goes_away_the_editor_says_so_keeps_its_bib_and_recovers(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    token = make_token(home, "me")
    server = TeamServer(home).start()
    (tmp_path / "refs.bib").write_text(
        "@article{mine2031photonic,\n  title = {Annealing Schedules for Protein Folding on Photonic Chips},\n"
        "  author = {Qubit, Quinn},\n  year = {2031}\n}\n"
    )
    text, position = position_of(
        "Speculative decoding with a sparse KV cache~\\cite{|}.\n\\bibliography{refs}\n"
    )
    uri = (tmp_path / "doc.tex").as_uri()
    try:
        async with editor(server.url, token, tmp_path) as client:
            open_document(client, uri, text, "latex")
            labels = [i.label for i in await complete(client, uri, position)]
            assert labels[0] == "triforce" and "mine2031photonic" not in labels  # (ten better ones)

            server.stop(signal.SIGKILL)
            started = time.monotonic()
            labels = [i.label for i in await complete(client, uri, position)]
            assert labels == ["mine2031photonic"]  # the document's own bibliography, at once
            assert time.monotonic() - started < 5
            warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
            assert len(warnings) == 1 and f"cannot reach the papercite server at {server.url}" in warnings[0]
            # Asked again while away: no new message, no wait on the network.
            started = time.monotonic()
            assert [i.label for i in await complete(client, uri, position)] == ["mine2031photonic"]
            assert time.monotonic() - started < 1

            server.start()

            async def back() -> bool:
                return any(
                    m.type == types.MessageType.Info and "is back" in m.message for m in client.messages
                )

            assert await eventually(back, timeout=20)
            assert (await complete(client, uri, position))[0].label == "triforce"
            warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
            assert len(warnings) == 1
    finally:
        server.stop()


def test_neovim_over_the_server_url(team: Team, tmp_path: Path) -> None:
    """The real editor, configured only by PAPERCITE_HOME (the URL) and PAPERCITE_TOKEN."""
    from tests.e2e.test_neovim import at, run_neovim

    tex = tmp_path / "paper.tex"
    lines = DRAFT_TEX
    tex.write_text("\n".join(lines) + "\n")
    env = {
        "PAPERCITE_HOME": team.server.url,
        "PAPERCITE_TOKEN": team.reader,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    results = run_neovim(
        tmp_path,
        [
            {"op": "open", "path": str(tex), "filetype": "tex"},
            {"op": "complete", **at(lines, 2, "{}", 1)},
            {"op": "hover", **at(lines, 3, "relay", 2)},
            {"op": "diagnostics", "count": 1},
        ],
        env=env,
    )
    _, completion, hover, diagnostics = results
    assert completion["labels"][0] == "triforce"  # type: ignore[index]
    assert str(hover["hover"]).startswith("**RELAY**")
    assert "did you mean triforce?" in diagnostics["diagnostics"][0]["message"]  # type: ignore[index]


async def test_a_token_the_server_refuses_is_said_once_and_the_bib_still_completes(
    team: Team, tmp_path: Path
) -> None:
    (tmp_path / "refs.bib").write_text(
        "@article{mine2031photonic,\n  title = {Photonic Chips},\n  year = {2031}\n}\n"
    )
    text, position = position_of(
        "Speculative decoding with a sparse KV cache~\\cite{|}.\n\\bibliography{refs}\n"
    )
    uri = (tmp_path / "doc.tex").as_uri()
    async with editor(team.server.url, "pct_not-a-token", tmp_path) as client:
        open_document(client, uri, text, "latex")
        assert [i.label for i in await complete(client, uri, position)] == ["mine2031photonic"]
        assert [i.label for i in await complete(client, uri, position)] == ["mine2031photonic"]
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 1 and "did not accept the token" in warnings[0]
        assert "pct_not-a-token" not in warnings[0]


@pytest.mark.parametrize(
    ("body", "signed", "status"),
    [("command=/paper&text=x", False, 401), ("payload=notjson", True, 400), ("payload=%5B1%5D", True, 400)],
    ids=["timestamp-abc", "payload-not-json", "payload-an-array"],
)
async def test_the_served_slack_endpoint_refuses_what_the_bot_refuses(
    team: Team, body: str, signed: bool, status: int
) -> None:
    """Mounted in papercite serve through bolt's adapter alone, /slack/events answered these with
    500s (the first needs no secret): it is the bot's own endpoint, with its checks."""
    headers = (
        sign(SECRET, body) if signed else {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
    )
    answer, text = await post(team.server.url, body, FORM | headers)
    assert answer == status, text
