from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_core_imports_no_adapter_library() -> None:
    """core/ must stay usable without pygls, lsprotocol or slack: load every module and check."""
    script = (
        "import pkgutil, importlib, sys, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'): importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'pygls','lsprotocol','slack_bolt','slack_sdk'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_a_language_server_over_a_folder_never_loads_the_http_client() -> None:
    """aiohttp is a tenth of the language server's start-up; only a team server or a lookup needs it."""
    script = "import sys, server.main, core.cli\nprint('aiohttp' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
