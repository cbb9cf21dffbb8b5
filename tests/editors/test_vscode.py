"""The VS Code extension: its own tests under Node (settings → server command, and that command
serving completions over stdio), and the .vsix it packages.

VS Code itself cannot be downloaded here; everything short of it runs. Node.js and npm are
installed by .ci/run; without them these tests fail rather than skip.
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

from tests.conftest import REPO

EXTENSION = REPO / "editors" / "vscode"


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("npm")
    assert executable, "npm is not installed: .ci/run installs Node.js for the VS Code extension"
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
    assert passed and int(passed.group(1)) >= 6, output
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), output


def test_the_vsix_holds_the_compiled_extension_and_its_language_client() -> None:
    result = npm("run", "package")
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(EXTENSION / "papercite.vsix") as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
    assert manifest["main"] == "./out/extension.js"
    assert {"extension/out/extension.js", "extension/out/config.js"} <= names
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert not [name for name in names if name.startswith(("extension/src/", "extension/out/test/"))]
