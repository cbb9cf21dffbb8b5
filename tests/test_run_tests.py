"""The README's test command is ./run-tests, CI runs exactly it, and docs/testing.md names every
package it installs."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from markdown_it import MarkdownIt

from tests.conftest import REPO

SCRIPTS = ["run-tests", ".ci/run", ".ci/node", ".ci/code-server"]


def installed_packages() -> set[str]:
    """The Debian packages ./run-tests installs where missing, read from its `missing+=` lines."""
    script = (REPO / "run-tests").read_text()
    names = set()
    for listed in re.findall(r"missing\+=\(([^)]*)\)", script):
        names.update(word for word in listed.split() if not word.startswith('"$'))
    for listed in re.findall(r"for (?:package|tool) in ([^;]+); do", script):
        names.update(listed.split())
    return names


def test_the_readme_test_command_is_run_tests_and_ci_runs_exactly_it() -> None:
    tokens = MarkdownIt().parse((REPO / "README.md").read_text())
    heading = next(i for i, t in enumerate(tokens) if t.type == "inline" and t.content == "Run the tests")
    first_block = next(t for t in tokens[heading:] if t.type == "fence")
    assert first_block.content == "./run-tests\n"
    commands = [
        line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert commands[-1] == "exec ./run-tests"


def test_docs_testing_names_every_package_run_tests_installs() -> None:
    packages = installed_packages()
    assert {"neovim", "emacs-nox", "chromium", "nginx", "caddy", "postgresql-15", "pandoc"} <= packages
    page = (REPO / "docs" / "testing.md").read_text()
    assert sorted(name for name in packages if f"`{name}`" not in page) == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_scripts_are_executable_bash(script: str) -> None:
    path = REPO / script
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
