"""A real editor: Neovim's built-in LSP client, headless, talking to `papercite lsp` over stdio.

Neovim is installed by ./run-tests (Debian's `neovim`); without it this test fails rather than skips
(see tests/system.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import REPO
from tests.e2e.conftest import DRAFT_TEX, PHOTONIC
from tests.system import program

DRIVER = Path(__file__).parent / "nvim" / "drive.lua"
HOME = Path(tempfile.mkdtemp(prefix="papercite-nvim-"))


def run_neovim(
    tmp_path: Path, steps: list[dict[str, object]], env: dict[str, str] | None = None
) -> list[dict[str, object]]:
    """Run the steps in Neovim (see nvim/drive.lua); each step's result, in order. `env` adds to
    (or replaces) the environment the server starts with."""
    nvim = program("nvim", "neovim")
    out = tmp_path / "out.json"
    env = {
        **os.environ,
        "PAPERCITE_HOME": str(HOME),
        "PAPERCITE_NVIM_OUT": str(out),
        "PAPERCITE_NVIM_CMD": json.dumps([sys.executable, "-m", "core.cli", "lsp"]),
        "PAPERCITE_NVIM_STEPS": json.dumps(steps),
        "PYTHONPATH": str(REPO),
        **(env or {}),
    }
    subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {DRIVER}"],
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=True,
        capture_output=True,
    )
    report = json.loads(out.read_text())
    assert not report.get("error"), report["error"]
    results = report["results"]
    assert [r["op"] for r in results] == [s["op"] for s in steps]
    return results


def at(lines: list[str], line: int, text: str, offset: int = 0) -> dict[str, int]:
    return {"line": line, "character": lines[line].index(text) + offset}


def test_neovim_gets_completion_hover_and_diagnostics(tmp_path: Path) -> None:
    tex = tmp_path / "paper.tex"
    tex_lines = DRAFT_TEX
    tex.write_text("\n".join(tex_lines) + "\n")
    md = tmp_path / "notes.md"
    md_lines = ["# Notes", "", "Each loop iteration of the transformer is aligned with a reasoning step [@]."]
    md.write_text("\n".join(md_lines) + "\n")
    results = run_neovim(
        tmp_path,
        [
            {"op": "open", "path": str(tex), "filetype": "tex"},
            {"op": "complete", **at(tex_lines, 2, "{}", 1)},
            {"op": "hover", **at(tex_lines, 3, "relay", 2)},
            {"op": "diagnostics", "count": 1},
            {"op": "open", "path": str(md), "filetype": "markdown"},
            {"op": "complete", **at(md_lines, 2, "@", 1)},
            {"op": "diagnostics", "count": 0},
        ],
    )
    _, tex_completion, hover, tex_diagnostics, _, md_completion, md_diagnostics = results
    assert tex_completion["labels"][0] == "triforce"  # type: ignore[index]
    assert str(hover["hover"]).startswith("**RELAY**")
    assert tex_diagnostics["diagnostics"] == [
        {
            "message": "Unknown citation key 'trifroce': not in the papercite index or the bibliography; "
            "did you mean triforce?",
            "line": 3,
            "col": tex_lines[3].index("trifroce"),
        }
    ]
    assert md_completion["labels"][0] == "relay"  # type: ignore[index]
    assert md_diagnostics["diagnostics"] == []


def test_neovim_with_a_local_bib_definition_and_code_actions(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("% my references\n\n" + PHOTONIC)
    tex = tmp_path / "paper.tex"
    lines = [
        r"\documentclass{article}",
        r"\begin{document}",
        r"Quantum annealing folds proteins on photonic chips~\cite{}.",
        r"We draft with a sparse KV cache in hierarchical speculative decoding.",
        r"Looped models~\cite{mine2031photonic} help, unlike \cite{trifroce}.",
        r"\bibliography{refs}",
        r"\end{document}",
    ]
    tex.write_text("\n".join(lines) + "\n")
    results = run_neovim(
        tmp_path,
        [
            {"op": "open", "path": str(bib), "filetype": "bib"},
            {"op": "open", "path": str(tex), "filetype": "tex"},
            {"op": "complete", **at(lines, 2, "{}", 1)},
            {"op": "definition", **at(lines, 4, "mine2031photonic", 3)},
            {
                "op": "code_action",
                **at(lines, 4, "trifroce", 2),
                "choose": "Did you mean",
                "changes_buffer": True,
            },
            {
                "op": "code_action",
                **at(lines, 3, "sparse"),
                "choose": "Cite papers for this sentence: triforce",
                "changes_buffer": True,
            },
            {"op": "wait_text", "path": str(bib), "contains": "@misc{triforce,"},
            {"op": "diagnostics", "count": 0},
            {"op": "write_all"},
        ],
    )
    completion, definition, did_you_mean, cite = results[2:6]
    assert completion["labels"][0] == "mine2031photonic"  # type: ignore[index]
    assert str(completion["details"][0]).startswith("in refs.bib · ")  # type: ignore[index]
    assert definition["path"] == str(bib) and definition["line"] == 2
    assert str(definition["text"]).startswith("@article{mine2031photonic,")
    assert did_you_mean["chosen"] == "Did you mean 'triforce'?"
    assert str(cite["chosen"]).startswith("Cite papers for this sentence: triforce (TriForce")
    offered = [str(t) for t in cite["titles"]]  # type: ignore[attr-defined]
    # The papers for the sentence under the cursor first (the menu's default is the first), then,
    # since "Did you mean" cited triforce and refs.bib lacks it, the fix for the whole document.
    assert [t.startswith("Cite papers for this sentence: ") for t in offered] == [True] * 3 + [False]
    assert offered[3] == "Add all missing entries to refs.bib (triforce)"
    written = tex.read_text().split("\n")
    assert (
        written[3] == r"We draft with a sparse KV cache in hierarchical speculative decoding~\cite{triforce}."
    )
    assert written[4] == r"Looped models~\cite{mine2031photonic} help, unlike \cite{triforce}."
    # The .bib was open in Neovim: the entry went into its buffer, and `:wall` saved it.
    saved = bib.read_text()
    assert saved.startswith("% my references\n\n" + PHOTONIC) and saved.count("{triforce,") == 1


def test_neovim_references_symbols_bibliography_problems_and_a_new_bibliography(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{good, title={Good}}\n\n@article{broken, title={Unclosed\n\n@misc{other, title={Other}}\n"
    )
    tex = tmp_path / "paper.tex"
    tex_lines = [r"Loops \cite{good,relay}.", r"\bibliography{refs,missing}"]
    tex.write_text("\n".join(tex_lines) + "\n")
    md = tmp_path / "notes.md"
    md_lines = ["# Notes", "", "Loops [@relay] and drafts [@triforce]."]
    md.write_text("\n".join(md_lines) + "\n")
    results = run_neovim(
        tmp_path,
        [
            {"op": "open", "path": str(md), "filetype": "markdown"},
            {"op": "open", "path": str(tex), "filetype": "tex"},
            {"op": "diagnostics", "count": 2},
            {"op": "diagnostics", "path": str(bib), "count": 1},
            {"op": "references", **at(tex_lines, 0, "relay", 1)},
            {"op": "workspace_symbol", "query": "sparse KV cache hierarchical speculative decoding"},
            {"op": "open", "path": str(md), "filetype": "markdown"},
            {
                "op": "code_action",
                **at(md_lines, 2, "Loops"),
                "choose": "Create references.bib",
                "changes_buffer": True,
            },
            {"op": "wait_text", "path": str(tmp_path / "references.bib"), "contains": "{triforce,"},
            {"op": "write_all"},
        ],
    )
    tex_problems, bib_problems, references, symbols = (r for r in results[2:6])
    assert [d["line"] for d in tex_problems["diagnostics"]] == [0, 1]  # type: ignore[index]
    lacking, missing = tex_problems["diagnostics"]  # type: ignore[misc]
    assert lacking["message"] == "'relay' is in the papercite index but not in refs.bib yet"
    assert missing["message"].startswith("Bibliography file 'missing' not found")
    assert missing["col"] == tex_lines[1].index("missing")
    assert bib_problems["diagnostics"][0]["line"] == 2  # type: ignore[index]
    assert bib_problems["diagnostics"][0]["message"].startswith("papercite cannot read this entry")  # type: ignore[index]
    assert [(r["path"], r["line"]) for r in references["items"]] == [(str(md), 2), (str(tex), 0)]  # type: ignore[index]
    first_symbol = symbols["items"][0]  # type: ignore[index]
    assert "triforce: TriForce" in first_symbol["text"] and first_symbol["path"].endswith("triforce.bib")
    created = (tmp_path / "references.bib").read_text()
    assert created.count("@") == 2 and "{relay," in created and "{triforce," in created
    assert md.read_text().startswith("---\nbibliography: references.bib\n---\n\n# Notes\n")
