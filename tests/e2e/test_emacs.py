"""A real editor: Emacs with eglot, in batch mode, set up with docs/editors.md's config, talking to
`papercite lsp` over stdio.

Emacs, eglot and markdown-mode are installed by ./run-tests (Debian's `emacs-nox`, `elpa-eglot`,
`elpa-markdown-mode`); without them this test fails rather than skips. Debian's eglot is 1.9, which
sends the language id of a project's first file for every file it opens: these tests open a `.md`
after a `.tex`, and a `.tex` after a `.bib`.
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

FOLDER = Path(__file__).parent / "emacs"
CONFIG = FOLDER / "papercite.el"
HOME = Path(tempfile.mkdtemp(prefix="papercite-emacs-"))


def run_emacs(tmp_path: Path, steps: list[dict[str, object]]) -> tuple[list[dict[str, object]], list[str]]:
    """Run the steps in Emacs (see emacs/drive.el): each step's result, in order, and what Emacs
    asked the user."""
    emacs = program("emacs", "emacs-nox, with elpa-eglot and elpa-markdown-mode")
    # The config runs `papercite lsp` as docs/editors.md says: this `papercite` is this checkout's.
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    launcher = bin_folder / "papercite"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m core.cli "$@"\n')
    launcher.chmod(0o755)
    out = tmp_path / "out.json"
    env = {
        **os.environ,
        "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "PAPERCITE_HOME": str(HOME),
        "PAPERCITE_EMACS_CONFIG": str(CONFIG),
        "PAPERCITE_EMACS_OUT": str(out),
        "PAPERCITE_EMACS_STEPS": json.dumps(steps),
    }
    project = tmp_path / "project"
    subprocess.run(
        [emacs, "--batch", "-q", "-l", str(FOLDER / "drive.el")],
        env=env,
        cwd=project,
        timeout=180,
        check=True,
        capture_output=True,
    )
    report = json.loads(out.read_text())
    assert report["error"] is None, report["error"]
    results = report["results"]
    assert [r["op"] for r in results] == [s["op"] for s in steps]
    return results, report["questions"]


def at(lines: list[str], line: int, text: str, offset: int = 0) -> dict[str, int]:
    return {"line": line, "character": lines[line].index(text) + offset}


def test_the_editors_page_shows_the_tested_config() -> None:
    page = (REPO / "docs" / "editors.md").read_text()
    assert f"```elisp\n{CONFIG.read_text()}```" in page


def test_emacs_completes_in_a_tex_and_then_a_md_of_one_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    tex = project / "paper.tex"
    tex_lines = DRAFT_TEX
    tex.write_text("\n".join(tex_lines) + "\n")
    md = project / "notes.md"
    md_lines = [
        "# Notes",
        "",
        "Each loop iteration of the transformer is aligned with a reasoning step [@].",
        "",
        "Drafts [@trifroce].",
    ]
    md.write_text("\n".join(md_lines) + "\n")
    # A chapter \input by the paper: Emacs guesses plain-tex-mode for it.
    chapter = project / "chapter.tex"
    chapter.write_text("Loops \\cite{relay} and \\cite{relya}.\n")
    results, questions = run_emacs(
        tmp_path,
        [
            {"op": "open", "path": str(tex)},
            {"op": "complete", **at(tex_lines, 2, "{}", 1), "choose": "triforce"},
            {"op": "hover", **at(tex_lines, 2, "{}", 3)},
            {"op": "diagnostics", "count": 1},
            {
                "op": "code_action",
                **at(tex_lines, 3, "trifroce", 2),
                "choose": "Did you mean",
                "changes_buffer": True,
            },
            {"op": "diagnostics", "count": 0},
            {"op": "open", "path": str(md)},
            {"op": "complete", **at(md_lines, 2, "@", 1), "choose": "relay"},
            {"op": "diagnostics", "count": 1},
            {"op": "open", "path": str(chapter)},
            {"op": "diagnostics", "count": 1},
            {"op": "save_all"},
        ],
    )
    opened_tex, completed, hover, problems, did_you_mean, fixed = results[:6]
    opened_md, md_completed, md_problems, opened_chapter, chapter_problems = results[6:11]
    assert opened_tex["major_mode"] == "latex-mode" and opened_tex["language_id"] == "latex"
    for opened in (opened_tex, opened_md):
        assert opened["completion_key"] == "completion-at-point" and opened["eglot_completes"] is True
    assert completed["labels"][0] == "triforce"  # type: ignore[index]
    assert completed["line"] == tex_lines[2].replace("{}", "{triforce}") + "\n"
    # The title is the hover's first line: what eldoc's one-line echo area shows.
    title = (
        "TriForce: Lossless Acceleration of Long Sequence Generation with Hierarchical Speculative Decoding"
    )
    assert str(hover["hover"]).split("\n")[0] == title
    # With eldoc-echo-area-use-multiline-p nil, the echo area shows the title (cut at the width).
    assert len(str(hover["echo_area"])) > 60 and title.startswith(str(hover["echo_area"]))
    # markdown-mode shows Markdown's escapes as typed: only what could start markup is escaped.
    assert "With large language models (LLMs) widely deployed" in str(hover["hover"])
    assert problems["diagnostics"] == [
        {
            "line": 3,
            "col": tex_lines[3].index("trifroce"),
            "text": "trifroce",
            "message": "papercite [unknown-key]: Unknown citation key 'trifroce': not in the papercite index or "
            "the bibliography; did you mean triforce?",
        }
    ]
    assert did_you_mean["default"] == did_you_mean["chosen"] == "Did you mean 'triforce'?"
    assert did_you_mean["line"] == tex_lines[3].replace("trifroce", "triforce") + "\n"
    assert fixed["diagnostics"] == []
    # eglot 1.9 calls the .md "latex" too; papercite reads it as Markdown all the same.
    assert opened_md["major_mode"] == "markdown-mode" and opened_md["language_id"] == "latex"
    assert md_completed["labels"][0] == "relay"  # type: ignore[index]
    assert md_completed["line"] == md_lines[2].replace("[@]", "[@relay]") + "\n"
    assert [(d["line"], d["col"], d["text"]) for d in md_problems["diagnostics"]] == [(4, 9, "trifroce")]  # type: ignore[index]
    assert opened_chapter["major_mode"] == "plain-tex-mode"
    assert [d["text"] for d in chapter_problems["diagnostics"]] == ["relya"]  # type: ignore[index]
    assert questions == []
    assert tex.read_text().split("\n")[2:4] == [
        tex_lines[2].replace("{}", "{triforce}"),
        tex_lines[3].replace("trifroce", "triforce"),
    ]
    assert md.read_text().split("\n")[2] == md_lines[2].replace("[@]", "[@relay]")


def test_emacs_cites_a_sentence_and_adds_entries_with_code_actions(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    bib = project / "refs.bib"
    bib.write_text("% my references\n\n" + PHOTONIC)
    tex = project / "paper.tex"
    lines = [
        r"\documentclass{article}",
        r"\begin{document}",
        r"We draft with a sparse KV cache in hierarchical speculative decoding.",
        r"Each loop iteration of the transformer is aligned with a reasoning step~\cite{}.",
        r"Annealing folds proteins~\cite{mine2031photonic}.",
        r"\bibliography{refs}",
        r"\end{document}",
    ]
    tex.write_text("\n".join(lines) + "\n")
    results, questions = run_emacs(
        tmp_path,
        [
            {"op": "open", "path": str(bib)},
            {"op": "open", "path": str(tex)},
            {"op": "diagnostics", "count": 0},
            {
                "op": "code_action",
                **at(lines, 2, "sparse"),
                "choose": "Cite papers for this sentence: triforce",
                "changes_buffer": True,
            },
            {"op": "wait_text", "path": str(bib), "contains": "{triforce,"},
            {"op": "complete", **at(lines, 3, "{}", 1), "choose": "relay"},
            {"op": "diagnostics", "count": 1},
            {"op": "code_action", **at(lines, 3, "{}", 3), "choose": "Add relay to refs.bib"},
            {"op": "wait_text", "path": str(bib), "contains": "{relay,"},
            {"op": "diagnostics", "count": 0},
            {"op": "save_all"},
            {"op": "symbols", "query": "sparse KV cache hierarchical speculative decoding"},
            {"op": "symbols", "query": "Kangaroo self-speculative decoding double early exiting"},
        ],
    )
    opened_bib, opened_tex, _, cite, _, completed, lacking, add = results[:8]
    in_bib, in_index = results[-2:]
    # eglot 1.9 calls the .tex "bibtex", as the first file of the project; it is read as LaTeX.
    assert opened_bib["language_id"] == opened_tex["language_id"] == "bibtex"
    assert opened_tex["major_mode"] == "latex-mode"
    # The papers for the sentence under the cursor are the menu's first items and its default.
    titles = [str(t) for t in cite["titles"]]  # type: ignore[attr-defined]
    assert [t.startswith("Cite papers for this sentence: ") for t in titles] == [True] * 3
    assert cite["default"] == cite["chosen"] == titles[0]
    assert titles[0].startswith("Cite papers for this sentence: triforce (TriForce")
    assert cite["line"] == lines[2].replace("decoding.", "decoding~\\cite{triforce}.") + "\n"
    # eglot 1.9 ignores a completion item's command: the entry is not added, and papercite says so…
    assert completed["line"] == lines[3].replace("{}", "{relay}") + "\n"
    assert lacking["diagnostics"][0]["message"] == (  # type: ignore[index]
        "papercite [not-in-bibliography]: 'relay' is in the papercite index but not in refs.bib yet"
    )
    # …and the code action adds it, into refs.bib's buffer, after eglot asks.
    assert add["default"] == add["chosen"] == "Add relay to refs.bib"
    assert len(questions) == 2 and all("refs.bib" in q for q in questions)
    saved = bib.read_text()
    assert saved.startswith("% my references\n\n" + PHOTONIC)
    assert saved.count("{triforce,") == saved.count("{relay,") == 1
    assert tex.read_text().split("\n")[2:4] == [
        lines[2].replace("decoding.", "decoding~\\cite{triforce}."),
        lines[3].replace("{}", "{relay}"),
    ]
    # xref-find-apropos lists each paper by the line its symbol points at: the title in refs.bib…
    assert in_bib["items"][0] == {  # type: ignore[index]
        "summary": "  title = {{TriForce: Lossless Acceleration of Long Sequence Generation with Hierarchical "
        "Speculative Decoding}},",
        "file": str(bib),
    }
    # …and key and title on the page of a paper only the index has.
    first = in_index["items"][0]  # type: ignore[index]
    assert first["summary"].startswith("% kangaroo: Kangaroo: Lossless Self-Speculative Decoding")
    assert first["file"].endswith("kangaroo.bib")
