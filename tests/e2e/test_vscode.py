"""A real VS Code: code-server with the packaged extension installed, in Debian's Chromium driven by
playwright-core (vscode/drive.js), talking to `papercite lsp` as a user's VS Code would.

./run-tests installs code-server (.ci/code-server), Chromium and playwright-core; without them this
test fails, naming what is missing, rather than skips — unless PAPERCITE_SKIP_SYSTEM_TESTS=1 (or
PAPERCITE_SKIP_VSCODE=1, for this test alone) opts out on a machine that cannot run them (see
tests/system.py). A failing run leaves screenshots in test-artifacts/vscode/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import PHOTONIC
from tests.fakes.sources import FakeSources
from tests.system import present
from tests.team_server import TeamServer, make_token

DRIVER = Path(__file__).parent / "vscode"
EXTENSION = REPO / "editors" / "vscode"
CODE_SERVER = REPO / ".ci" / "cache" / "code-server" / "node_modules" / ".bin" / "code-server"
SHOTS = REPO / "test-artifacts" / "vscode"


def required(found: str | Path | None, what: str) -> str:
    return present(found, what, also_skipped_by="PAPERCITE_SKIP_VSCODE")


def npm(*args: str, cwd: Path) -> None:
    executable = required(shutil.which("npm"), "npm (Node.js 20 or later)")
    result = subprocess.run([executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def papercite_executable() -> str:
    beside = Path(sys.executable).parent / "papercite"
    return required(beside if beside.exists() else shutil.which("papercite"), "the papercite console script")


@pytest.fixture(scope="module")
def vsix() -> Path:
    """The extension as users get it, packaged from the current sources."""
    if not (EXTENSION / "node_modules").is_dir():
        npm("ci", "--no-audit", "--no-fund", cwd=EXTENSION)
    npm("run", "package", cwd=EXTENSION)
    return EXTENSION / "papercite.vsix"


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    code_server = required(os.environ.get("PAPERCITE_CODE_SERVER") or CODE_SERVER, "code-server")
    chromium = required(os.environ.get("PAPERCITE_CHROMIUM") or shutil.which("chromium"), "Chromium")
    if not (DRIVER / "node_modules" / "playwright-core").is_dir():
        npm("ci", "--no-audit", "--no-fund", cwd=DRIVER)
    return {"code_server": code_server, "chromium": chromium, "node": required(shutil.which("node"), "node")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class VSCode:
    """One code-server on loopback with its own user data, extensions and papercite home."""

    def __init__(
        self,
        root: Path,
        tools: dict[str, str],
        vsix: Path,
        settings: dict[str, object],
        machine: dict[str, object],
    ) -> None:
        self.root, self.tools = root, tools
        self.workspace = root / "workspace"
        self.workspace.mkdir()
        self.user_data = root / "user-data"
        (self.user_data / "User").mkdir(parents=True)
        (self.user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=1))
        # papercite.path and papercite.home belong to the machine that runs the server: in code-server
        # (a remote window) they are Remote settings, which live here.
        self.machine_settings = self.user_data / "Machine" / "settings.json"
        self.machine_settings.parent.mkdir()
        self.machine_settings.write_text(json.dumps(machine, indent=1))
        # The extension host gets this environment, not the user's login shell's (VS Code's server
        # reads that unless VSCODE_CLI=1): no papercite on PATH or in ~/.local/bin, so that the
        # server is found only where the test says.
        path = [
            folder
            for folder in os.environ.get("PATH", "").split(os.pathsep)
            if folder and not (Path(folder) / "papercite").exists()
        ]
        self.env = {
            **os.environ,
            "HOME": str(root),
            "PATH": os.pathsep.join(path),
            "VSCODE_CLI": "1",
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "data"),
            "PAPERCITE_HOME": str(root / "papercite-home"),
            "PAPERCITE_ARXIV_INTERVAL": "0",
        }
        self.base = [
            tools["code_server"],
            "--user-data-dir",
            str(self.user_data),
            "--extensions-dir",
            str(root / "extensions"),
        ]
        installed = subprocess.run(
            [*self.base, "--install-extension", str(vsix)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "successfully installed" in installed.stdout, installed.stdout + installed.stderr
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> int:
        port = free_port()
        self.log = (self.root / "code-server.log").open("w")
        self.process = subprocess.Popen(
            [
                *self.base,
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(300):
            if "HTTP server listening" in (self.root / "code-server.log").read_text():
                break
            assert self.process.poll() is None, (self.root / "code-server.log").read_text()
            subprocess.run(["sleep", "0.1"], check=True)
        return port

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()

    def drive(self, url: str, steps: list[dict[str, object]], name: str) -> list[dict[str, object]]:
        """Run the steps in the browser (see vscode/drive.js); each step's result, in order."""
        out, shots = self.root / "report.json", self.root / "shots"
        env = {
            **self.env,
            "PAPERCITE_VSCODE_URL": url,
            "PAPERCITE_CHROMIUM": self.tools["chromium"],
            "PAPERCITE_VSCODE_STEPS": json.dumps(steps),
            "PAPERCITE_VSCODE_OUT": str(out),
            "PAPERCITE_VSCODE_SHOTS": str(shots),
        }
        run = subprocess.run(
            [self.tools["node"], str(DRIVER / "drive.js")],
            cwd=DRIVER,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        report = json.loads(out.read_text()) if out.exists() else {"error": run.stdout + run.stderr}
        if report.get("error"):
            keep(shots, name)
            server_log = (self.root / "code-server.log").read_text()[-3000:]
            done = json.dumps(report.get("results"))[-2000:]
            pytest.fail(
                f"{report['error']}\n--- steps done ---\n{done}\n--- code-server log ---\n{server_log}"
            )
        results: list[dict[str, object]] = report["results"]
        assert [r["op"] for r in results] == [s["op"] for s in steps]
        return results


def keep(shots: Path, name: str) -> None:
    """Screenshots of a failed run, where CI and people look for them."""
    if shots.is_dir():
        target = SHOTS / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(shots, target)


@pytest.fixture
def vscode(tmp_path: Path, tools: dict[str, str], vsix: Path) -> Iterator[VSCode]:
    settings = {
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.ignoreRecommendations": True,
        "update.mode": "none",
        "git.enabled": False,
        "editor.hover.delay": 100,
    }
    editor = VSCode(tmp_path, tools, vsix, settings, {"papercite.path": papercite_executable()})
    # The web services a DOI is looked up in, as the language server started by VS Code sees them.
    sources = FakeSources.with_samples().start()
    editor.env.update(sources.env())
    try:
        yield editor
    finally:
        editor.stop()
        sources.stop()


@pytest.fixture
def team() -> Iterator[tuple[TeamServer, str]]:
    """A team's `papercite serve` on loopback, and a token it accepts."""
    home = Path(tempfile.mkdtemp(prefix="papercite-vscode-team-")) / "home"
    token = make_token(home, "vscode")
    server = TeamServer(home).start()
    try:
        yield server, token
    finally:
        if server.process is not None:
            server.process.send_signal(signal.SIGCONT)  # a failed run may leave it stopped
        server.stop()
        shutil.rmtree(home.parent, ignore_errors=True)


def rows(result: dict[str, object]) -> list[str]:
    return [str(row["text"]) for row in result["rows"]]  # type: ignore[attr-defined]


NEW_PAPER = (
    "@inproceedings{lee2032tidal, title = {Tidal Batching for Speculative Decoding on Ocean Buoys}, "
    "author = {Lee, Ada and Ng, Bo}, year = {2032}, abstract = {We batch speculative drafts by the tide.}}"
)


def test_vscode_completion_hover_problems_code_actions_definition_and_commands(
    vscode: VSCode, team: tuple[TeamServer, str], request: pytest.FixtureRequest
) -> None:
    ws = vscode.workspace
    bib = ws / "refs.bib"
    bib.write_text("% my references\n\n" + PHOTONIC)
    tex = ws / "paper.tex"
    tex.write_text(
        "\n".join(
            [
                r"\documentclass{article}",
                r"\begin{document}",
                r"We draft tokens from a sparse KV cache in hierarchical speculative decoding",
                r"Looped models~\citep{relay} help, unlike \cite{trifroce}.",
                r"Quantum annealing folds proteins on photonic chips~\cite{mine2031photonic}.",
                r"Each loop iteration of the transformer is aligned with a reasoning step.",
                r"\bibliography{refs}",
                r"\end{document}",
            ]
        )
        + "\n"
    )
    md = ws / "notes.md"
    md.write_text(
        "---\nbibliography: refs.bib\n---\n\n# Notes\n\n"
        "Quantum annealing folds proteins on photonic chips\n\n"
        "We draft tokens from a sparse KV cache in hierarchical speculative decoding.\n\n"
        "Looped transformers align loop iterations with reasoning steps\n"
    )
    # Quarto without the Quarto extension: VS Code calls the file Plain Text.
    (ws / "report.qmd").write_text(
        '---\ntitle: "Report"\nbibliography: refs.bib\n---\n\n'
        "Speculative decoding with a sparse KV cache speeds up long-context generation\n"
    )
    # A folder of Markdown notes only: VS Code starts the extension once a note is open.
    drafts = vscode.root / "drafts"
    drafts.mkdir()
    (drafts / "draft.md").write_text(
        "# Draft\n\nWe draft tokens from a sparse KV cache in hierarchical speculative decoding\n"
    )
    server, token = team
    port = vscode.start()
    results = vscode.drive(
        f"http://127.0.0.1:{port}/?folder={drafts}",
        [
            # The first keystrokes right after opening a file, while VS Code is still loading the
            # extension (or it the server), get papercite's items.
            {"op": "open", "name": "draft.md"},
            {"op": "goto", "line": 3, "end": True},
            {"op": "type", "text": " [@"},
            {"op": "suggest", "until": "triforce", "timeout": 40000},
            {"op": "press", "keys": ["Escape"]},
            # The workspace, in a new window: the key of Cite papers for the current sentence right
            # after opening a file, while the server may still be starting, gets its menu.
            {"op": "navigate", "url": f"http://127.0.0.1:{port}/?folder={ws}"},
            {"op": "open", "name": "paper.tex"},
            {"op": "goto", "line": 6, "column": 10},
            {"op": "press", "keys": ["Control+Alt+C"]},
            {"op": "lightbulb_menu", "until": "Cite papers for this sentence: relay", "timeout": 40000},
            {"op": "press", "keys": ["Escape"]},
            {"op": "goto", "line": 3, "end": True},
            {"op": "type", "text": "~\\cite{"},
            {"op": "suggest", "until": "triforce", "timeout": 40000},
            {"op": "press", "keys": ["Escape"]},
            # papercite: Search papers… inside the citation being written, with Enter pressed as
            # soon as the words are typed (before the search has caught up with them).
            {"op": "type", "text": "relay,"},
            {"op": "press", "keys": ["Escape"]},
            {"op": "command", "title": "papercite: Search papers"},
            {"op": "quickpick", "value": "hierarchical speculative decoding sparse KV cache", "accept": True},
            {"op": "status", "until": "179 papers"},
            {"op": "goto", "line": 4, "column": 24},
            {"op": "hover", "until": "RELAY"},
            {"op": "problems", "until": "trifroce"},
            # Cite papers for this sentence, from the light bulb; the .bib (open) gains the entry.
            {"op": "open", "name": "refs.bib"},
            {"op": "open", "name": "paper.tex"},
            {"op": "goto", "line": 6, "column": 10},
            {
                "op": "lightbulb",
                "until": "Cite papers for this sentence: relay",
                "choose": "Cite papers for this sentence: relay",
            },
            {"op": "save"},
            {"op": "read", "path": str(bib)},
            {"op": "read", "path": str(tex)},
            # Undo in the .bib takes the entry out again.
            {"op": "open", "name": "refs.bib"},
            {"op": "press", "keys": ["Control+Z"]},
            {"op": "save"},
            {"op": "read", "path": str(bib)},
            # Go to definition from a citation lands on the .bib's entry.
            {"op": "open", "name": "paper.tex"},
            {"op": "goto", "line": 5, "column": 62},
            {"op": "press", "keys": ["F12"]},
            {"op": "wait", "ms": 500},
            {"op": "where"},
            # Markdown: Pandoc citations; the .bib's own entry first, with its year and title.
            {"op": "open", "name": "notes.md"},
            {"op": "goto", "line": 7, "end": True},
            {"op": "type", "text": " [@"},
            {"op": "suggest", "until": "mine2031photonic"},
            {"op": "screenshot", "name": "completion", "selector": ".part.editor"},
            {"op": "press", "keys": ["Escape"]},
            # papercite: Cite papers for the current sentence, by its key binding.
            {"op": "goto", "line": 9, "column": 5},
            {"op": "press", "keys": ["Control+Alt+C"]},
            {
                "op": "lightbulb_menu",
                "until": "Cite papers for this sentence: triforce",
                "choose": "Cite papers for this sentence: triforce",
            },
            # papercite: Search papers…, citing the paper chosen at the cursor.
            {"op": "goto", "line": 11, "end": True},
            {"op": "command", "title": "papercite: Search papers"},
            {"op": "quickpick", "value": "looped transformer reasoning", "until": "RELAY", "accept": True},
            {"op": "wait", "ms": 500},
            {"op": "save"},
            {"op": "read", "path": str(md)},
            {"op": "read", "path": str(bib)},
            # Quarto, with no Quarto extension installed.
            {"op": "open", "name": "report.qmd"},
            {"op": "goto", "line": 6, "end": True},
            {"op": "type", "text": " [@"},
            {"op": "suggest", "until": "triforce"},
            {"op": "press", "keys": ["Escape"]},
            # papercite: Add paper by DOI or arXiv link… (pasted BibTeX), then the index's status.
            {"op": "command", "title": "papercite: Add paper by DOI or arXiv link"},
            {"op": "quickpick", "value": NEW_PAPER, "accept": True},
            {"op": "notifications", "until": "added lee2032tidal"},
            {"op": "status", "until": "180 papers"},
            {"op": "command", "title": "papercite: Add paper by DOI or arXiv link"},
            {"op": "quickpick", "value": "https://doi.org/10.1145/3404835.3463238", "accept": True},
            {"op": "notifications", "until": "added lin2021pyserini"},
            {"op": "status", "until": "181 papers"},
            # … and cited where the cursor is, from the message's button.
            {"op": "notification_button", "until": "added lin2021pyserini", "button": "Cite it here"},
            {"op": "wait", "ms": 500},
            {"op": "save"},
            {"op": "read", "path": str(ws / "report.qmd")},
            {"op": "command", "title": "papercite: Show index status"},
            {"op": "notifications", "until": "(connected)"},
            # A team server as the home: the token it asks for goes into VS Code's secret storage
            # from the message's own button; the status bar follows the server away and back.
            {
                "op": "write",
                "path": str(vscode.machine_settings),
                "text": json.dumps({"papercite.path": papercite_executable(), "papercite.home": server.url}),
            },
            {
                "op": "notification_button",
                "until": "did not accept the token",
                "button": "Set team server token",
                "timeout": 30000,
            },
            {"op": "quickpick", "value": token, "accept": True},
            {
                "op": "status",
                "until": f"179 papers in team server {server.url} (connected)",
                "timeout": 30000,
            },
            {"op": "signal", "pid": server.process.pid if server.process else 0, "signal": "SIGSTOP"},
            {"op": "status", "until": f"team server {server.url} is not reachable", "timeout": 30000},
            {"op": "signal", "pid": server.process.pid if server.process else 0, "signal": "SIGCONT"},
            {
                "op": "status",
                "until": f"179 papers in team server {server.url} (connected)",
                "timeout": 30000,
            },
            # No papercite anywhere (papercite.path unset, none on PATH or in ~/.local/bin, no Python
            # extension): a message says how to install it, and its button opens the setting, under
            # Remote in code-server.
            {"op": "write", "path": str(vscode.machine_settings), "text": "{}"},
            {"op": "notifications", "until": "was not found", "timeout": 30000},
            {
                "op": "notification_button",
                "until": "was not found",
                "button": "Open setting",
                "timeout": 30000,
            },
            {"op": "rows", "selector": ".settings-editor .setting-item-title", "until": "Path"},
            {"op": "rows", "selector": ".settings-editor .settings-tabs-widget .action-label.checked"},
            {"op": "status", "until": "not running"},
        ],
        request.node.name,
    )
    by_op: dict[str, list[dict[str, object]]] = {}
    for result in results:
        by_op.setdefault(str(result["op"]), []).append(result)
    draft_completion, tex_completion, md_completion, qmd_completion = (rows(r) for r in by_op["suggest"])
    # The right paper first, its title visible on its row (the seed corpus has no years) …
    assert draft_completion[0].startswith("triforce"), draft_completion
    assert tex_completion[0].startswith("triforce"), tex_completion
    assert "TriForce: Lossless Acceleration" in tex_completion[0], tex_completion
    assert "TriForce" not in tex_completion[1], tex_completion
    # … and for a paper with a year, the year first, then where it is and the title, on every row.
    assert md_completion[0].startswith("mine2031photonic2031 · in refs.bib · Annealing Schedules"), (
        md_completion
    )
    assert qmd_completion[0].startswith("triforce"), qmd_completion
    hover = str(by_op["hover"][0]["text"])
    assert "RELAY" in hover and "Looped Transformers" in hover, hover
    problems = rows(by_op["problems"][0])
    assert any(
        "Unknown citation key 'trifroce'" in row and "did you mean triforce?" in row for row in problems
    ), problems
    first_menu = rows(by_op["lightbulb_menu"][0])
    assert first_menu[0].startswith("Cite papers for this sentence: relay"), first_menu
    actions = rows(by_op["lightbulb"][0])
    assert len([a for a in actions if a.startswith("Cite papers for this sentence: ")]) == 3, actions
    bib_after, tex_after, bib_undone, md_after, bib_last, qmd_after = (str(r["text"]) for r in by_op["read"])
    mine = "% my references\n\n" + PHOTONIC
    # The search's pick went into the key list being typed, and its entry into the .bib; the light
    # bulb's citation added relay's.
    assert r"hierarchical speculative decoding~\cite{relay,triforce}" in tex_after, tex_after
    assert r"reasoning step~\cite{relay}." in tex_after
    assert bib_after.startswith(mine) and bib_after.count("{relay,") == 1, bib_after
    assert bib_after.count("{triforce,") == 1, bib_after
    # Undo in the open .bib took the light bulb's entry out (the search's was written to the file
    # while it was closed).
    assert bib_undone.startswith(mine) and "{relay," not in bib_undone, bib_undone
    assert bib_undone.count("{triforce,") == 1, bib_undone
    where = by_op["where"][0]
    assert where["tab"] == "refs.bib" and str(where["cursor"]).startswith("Ln 3,"), where
    # The key binding's sentence and the search's pick, in Pandoc's syntax; both entries in the .bib.
    assert "hierarchical speculative decoding [@triforce]." in md_after, md_after
    assert md_after.endswith("Looped transformers align loop iterations with reasoning steps [@relay]\n"), (
        md_after
    )
    assert bib_last.count("{triforce,") == 1 and bib_last.count("{relay,") == 1, bib_last
    statuses = [[f"{row['aria']} {row['text']}" for row in r["rows"]] for r in by_op["status"]]  # type: ignore[attr-defined]
    expected = [
        "179 papers",
        "180 papers",
        "181 papers",
        "(connected)",
        "is not reachable",
        "(connected)",
        "not running",
    ]
    assert [
        any(wanted in row for row in status) for wanted, status in zip(expected, statuses, strict=True)
    ] == [True] * len(expected), statuses
    # The paper added by its DOI, cited into the citation the cursor was in.
    assert qmd_after.endswith("long-context generation [@lin2021pyserini]\n"), qmd_after
    shown = rows(by_op["notifications"][-2])
    assert any("papercite: 181 papers in " in row for row in shown), shown
    # Not found: the message names the install command, and the setting is shown where it applies
    # (under Remote, in code-server).
    not_found = [row for row in rows(by_op["notifications"][-1]) if "was not found" in row]
    assert not_found and "pipx install papercite" in not_found[0], not_found
    setting, tab = (rows(r) for r in by_op["rows"])
    assert any(row.startswith("Papercite: Path") for row in setting), setting
    assert tab and tab[0].startswith("Remote"), tab
    # The output channel: how the server was found, and no setting it was sent that it does not know.
    output = "".join(file.read_text() for file in vscode.user_data.glob("logs/**/*papercite*.log"))
    assert "(found by papercite.path)" in output and "unknown setting" not in output, output
    # The token is in VS Code's secret storage only: in no settings file, log or output channel.
    for file in vscode.user_data.rglob("*"):
        if file.is_file():
            assert token.encode() not in file.read_bytes(), file


def test_vscode_shows_a_big_bibliography_being_read_in_its_status_bar(vscode: VSCode) -> None:
    from benchmarks import big_bibliography

    # Enough entries (about 23 MB) that the reading takes seconds after the document opens.
    big_bibliography.write(vscode.workspace / "refs.bib", 30_000)
    (vscode.workspace / "big.tex").write_text("\\bibliography{refs}\nDrafting helps~\\cite{}.\n")
    port = vscode.start()
    results = vscode.drive(
        f"http://127.0.0.1:{port}/?folder={vscode.workspace}",
        [
            {"op": "open", "name": "big.tex"},
            {"op": "status", "until": "Reading refs.bib", "timeout": 60000},
        ],
        "big-bibliography",
    )
    [status] = [result for result in results if result["op"] == "status"]
    shown = [f"{row['aria']} {row['text']}" for row in status["rows"]]  # type: ignore[attr-defined]
    assert any("Reading refs.bib" in row for row in shown), shown
