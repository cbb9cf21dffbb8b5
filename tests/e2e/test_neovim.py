"""A real editor: Neovim's built-in LSP client, headless, talking to `papercite lsp` over stdio.

Neovim is installed by .ci/run (Debian's `neovim`); without it this test fails rather than skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DRIVER = Path(__file__).parent / "nvim" / "drive.lua"


def run_neovim(tmp_path: Path, files: list[dict[str, object]]) -> list[dict[str, object]]:
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is not installed: .ci/run installs Debian's neovim for this test"
    out = tmp_path / "out.json"
    env = {
        **os.environ,
        "PAPERCITE_HOME": str(tmp_path / "home"),
        "PAPERCITE_NVIM_OUT": str(out),
        "PAPERCITE_NVIM_CMD": json.dumps([sys.executable, "-m", "core.cli", "lsp"]),
        "PAPERCITE_NVIM_FILES": json.dumps(files),
        "PYTHONPATH": str(REPO),
    }
    subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {DRIVER}"],
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=True,
        capture_output=True,
    )
    results = json.loads(out.read_text())
    assert isinstance(results, list), results
    return results


def test_neovim_gets_completion_hover_and_diagnostics(tmp_path: Path) -> None:
    tex = tmp_path / "paper.tex"
    tex_lines = [
        r"\documentclass{article}",
        r"\begin{document}",
        r"We draft tokens from a sparse KV cache in hierarchical speculative decoding~\cite{}.",
        r"Looped models help~\citep{relay}, unlike \cite{trifroce}.",
        r"\end{document}",
    ]
    tex.write_text("\n".join(tex_lines) + "\n")
    md = tmp_path / "notes.md"
    md_lines = ["# Notes", "", "Each loop iteration of the transformer is aligned with a reasoning step [@]."]
    md.write_text("\n".join(md_lines) + "\n")
    results = run_neovim(
        tmp_path,
        [
            {
                "path": str(tex),
                "filetype": "tex",
                "line": 2,
                "character": tex_lines[2].index("{}") + 1,
                "hover_line": 3,
                "hover_character": tex_lines[3].index("relay") + 2,
                "diagnostics": 1,
            },
            {"path": str(md), "filetype": "markdown", "line": 2, "character": md_lines[2].index("@") + 1},
        ],
    )
    tex_result, md_result = results
    assert tex_result["labels"][0] == "triforce"  # type: ignore[index]
    assert str(tex_result["hover"]).startswith("**RELAY**")
    assert tex_result["diagnostics"] == [
        {
            "message": "Unknown citation key 'trifroce': not in the papercite index or the bibliography; "
            "did you mean triforce?",
            "line": 3,
            "col": tex_lines[3].index("trifroce"),
        }
    ]
    assert md_result["labels"][0] == "relay"  # type: ignore[index]
    assert md_result["diagnostics"] == []
