"""The programs some tests drive — editors, pandoc, reverse proxies, a browser — found, or the test
stopped naming the package that provides them.

`./run-tests` installs every one of them, so on the full test command a missing program is a
failure, never a silent skip. On a machine where they cannot be installed (another OS, no root),
`PAPERCITE_SKIP_SYSTEM_TESTS=1 python -m pytest` runs everything else and skips each test that
needs a missing program, naming it in the summary (`-ra`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

SKIP_VARIABLE = "PAPERCITE_SKIP_SYSTEM_TESTS"


def skipping_missing() -> bool:
    """Whether tests whose programs are missing are skipped (PAPERCITE_SKIP_VSCODE=1, the older
    opt-out, still skips the VS Code test alone)."""
    return os.environ.get(SKIP_VARIABLE) == "1"


def missing(what: str, *, also_skipped_by: str | None = None) -> NoReturn:
    """Stop the test: skipped when asked for, else failed with the way to install `what`."""
    if skipping_missing() or (also_skipped_by and os.environ.get(also_skipped_by) == "1"):
        asked = SKIP_VARIABLE if skipping_missing() else also_skipped_by
        pytest.skip(f"skipped: needs {what}, which is not installed ({asked}=1)")
    pytest.fail(
        f"{what} is not installed: ./run-tests installs it (or set {SKIP_VARIABLE}=1 to skip the "
        "tests that need a missing program)"
    )


def program(name: str, package: str, *, also_in: str = "") -> str:
    """The path of `name` on PATH (or in the `:`-separated folders `also_in`, for programs in sbin)."""
    search = os.environ.get("PATH", "") + (f":{also_in}" if also_in else "")
    found = shutil.which(name, path=search)
    if found is None:
        missing(f"{name} (Debian package {package})")
    return found


def present(found: str | Path | None, what: str, *, also_skipped_by: str | None = None) -> str:
    """`found` when it names a file that exists; else the test stops as for a missing program."""
    if found and Path(found).exists():
        return str(found)
    missing(what, also_skipped_by=also_skipped_by)
