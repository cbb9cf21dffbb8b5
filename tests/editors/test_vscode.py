"""The VS Code extension: its own tests under Node (settings → server command, and that command
serving completions over stdio), and the .vsix it packages.

VS Code itself runs in tests/e2e/test_vscode.py; everything short of it runs here. Node.js and npm
are installed by ./run-tests; without them these tests fail rather than skip (see tests/system.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from markdown_it import MarkdownIt

from tests.conftest import REPO
from tests.system import present

EXTENSION = REPO / "editors" / "vscode"


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    executable = present(shutil.which("npm"), "npm (Node.js 20 or later)")
    if not (EXTENSION / "node_modules").is_dir():
        subprocess.run(
            [executable, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True, capture_output=True
        )
    return subprocess.run(
        [executable, *args],
        cwd=EXTENSION,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )


def papercite_executable() -> str:
    beside = Path(sys.executable).parent / "papercite"
    found = str(beside) if beside.exists() else shutil.which("papercite")
    assert found, "the papercite console script is not installed (pip install -e .)"
    return found


def test_the_extension_compiles_and_its_node_tests_pass(tmp_path: Path) -> None:
    env = {**os.environ, "PAPERCITE_EXECUTABLE": papercite_executable(), "TMPDIR": str(tmp_path)}
    result = npm("test", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 9, output
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), output


def test_the_vsix_holds_the_bundled_extension_ready_to_publish() -> None:
    result = npm("run", "package")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    with zipfile.ZipFile(EXTENSION / "papercite.vsix") as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
        bundle = vsix.read("extension/out/extension.js").decode()
        readme = vsix.read("extension/readme.md").decode()
    assert manifest["main"] == "./out/extension.js"
    # One bundled file holds the extension and its language client; no node_modules travel.
    assert "vscode-languageclient" in bundle or "LanguageClient" in bundle
    assert not [name for name in names if name.startswith(("extension/node_modules/", "extension/src/"))]
    assert {
        "extension/images/icon.png",
        "extension/LICENSE.txt",
        "extension/changelog.md",
        "extension/readme.md",
    } <= names
    assert manifest["icon"] == "images/icon.png" and manifest["license"] == "MIT"
    # The README's picture of completion is an image (an unbalanced [ in its alt text once made it
    # a line of text and a link), and the .vsix holds it.
    images = [
        child.attrs["src"]
        for token in MarkdownIt().parse(readme)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "image"
    ]
    assert images == ["images/completion.png"], images
    assert {f"extension/{image}" for image in images} <= names
    assert {"citation", "bibtex", "latex", "markdown"} <= set(manifest["keywords"])
