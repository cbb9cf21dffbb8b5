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
