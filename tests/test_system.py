"""The tests' way to a system program: found; a failure naming what to install; or, when asked
for with PAPERCITE_SKIP_SYSTEM_TESTS=1, a skip that says what it skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import system


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH of one folder holding one program, `found-here`."""
    (tmp_path / "found-here").write_text("#!/bin/sh\n")
    (tmp_path / "found-here").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(system.SKIP_VARIABLE, raising=False)
    monkeypatch.delenv("PAPERCITE_SKIP_VSCODE", raising=False)
    return tmp_path


def test_a_program_on_path_is_found(bare_path: Path) -> None:
    assert system.program("found-here", "a-package") == str(bare_path / "found-here")


def test_a_program_in_a_further_folder_is_found(
    bare_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sbin = tmp_path_factory.mktemp("sbin")
    (sbin / "nginx").write_text("#!/bin/sh\n")
    (sbin / "nginx").chmod(0o755)
    assert system.program("nginx", "nginx", also_in=f"/nonexistent:{sbin}") == str(sbin / "nginx")


def test_a_missing_program_fails_the_test_naming_its_package_and_the_command(bare_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        system.program("nvim", "neovim")
    assert str(failed.value).startswith(
        "nvim (Debian package neovim) is not installed: ./run-tests installs it"
    )
    assert "PAPERCITE_SKIP_SYSTEM_TESTS=1" in str(failed.value)


def test_asked_to_skip_a_missing_program_skips_saying_what(
    bare_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(system.SKIP_VARIABLE, "1")
    with pytest.raises(pytest.skip.Exception) as skipped:
        system.program("caddy", "caddy")
    assert str(skipped.value) == (
        "skipped: needs caddy (Debian package caddy), which is not installed (PAPERCITE_SKIP_SYSTEM_TESTS=1)"
    )
    # A program that is there still runs its tests.
    assert system.program("found-here", "a-package") == str(bare_path / "found-here")


def test_the_vscode_opt_out_skips_only_where_it_is_named(
    bare_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCITE_SKIP_VSCODE", "1")
    with pytest.raises(pytest.skip.Exception, match=r"needs Chromium, .*\(PAPERCITE_SKIP_VSCODE=1\)"):
        system.present(None, "Chromium", also_skipped_by="PAPERCITE_SKIP_VSCODE")
    with pytest.raises(pytest.fail.Exception):
        system.program("emacs", "emacs-nox")
