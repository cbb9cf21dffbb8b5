"""This checkout's language server against another checkout's, interleaved on one machine.

    python -m benchmarks.versions OTHER [--rounds N] [--python PATH] [--size BYTES]

OTHER is another checkout of papercite (a git worktree at an older commit, say) with its own
virtualenv in OTHER/.venv (or --python). Each round runs `benchmarks/version_probe.py` once with
each checkout's code, alternating, so the load of a shared machine falls on both alike; the table
gives each measure's best median over the rounds. Measures, in process (the server's own time):
completion after 180 citing sentences on the seed corpus (a client without Markdown or lazy
documentation, so every item's documentation is rendered), hover on a cited key, and diagnostics
and a completion at the end of a generated LaTeX and Markdown document (benchmarks/document_scan.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import document_scan
from benchmarks.citing_sentences import DEFAULT_SENTENCES, load_sentences
from benchmarks.lsp_latency import documents
from core.documents.syntax import LATEX, MARKDOWN

REPO = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("version_probe.py")
HOVERED = ["triforce", "skipdecode", "contextkvcache", "relay", "lookahead"]


def work(size: int, runs: int) -> dict[str, object]:
    texts = [s.text for s in load_sentences(DEFAULT_SENTENCES)]
    completions = [(uri, text, p.line, p.character) for uri, text, p in documents(texts)]
    hovers = []
    for number in range(200):
        key = HOVERED[number % len(HOVERED)]
        line = f"As shown before~\\cite{{{key}}}."
        hovers.append((f"file:///bench/hover{number}.tex", line + "\n", 0, line.index(key) + 2))
    large = {language: document_scan.document(language, size) for language in (LATEX, MARKDOWN)}
    return {"completions": completions, "hovers": hovers, "documents": large, "runs": runs}


def probe(checkout: Path, python: Path, work_file: Path) -> dict[str, float]:
    # Run from the checkout with its code first on the path; runpy adds no folder of ours to it.
    code = f"import runpy; runpy.run_path({str(PROBE)!r}, run_name='__main__')"
    result = subprocess.run(
        [str(python.absolute()), "-c", code, str(work_file)],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"{checkout}: the probe failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def revision(checkout: Path) -> str:
    described = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return described.stdout.strip() or checkout.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout")
    parser.add_argument("--python", type=Path, help="its Python (default: OTHER/.venv/bin/python)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=1_000_000, help="characters of the large documents")
    parser.add_argument("--runs", type=int, default=3, help="diagnostics runs per round")
    args = parser.parse_args()
    other = args.other.resolve()
    sides = [(other, args.python or other / ".venv" / "bin" / "python"), (REPO, Path(sys.executable))]
    best: list[dict[str, float]] = [{}, {}]
    with tempfile.TemporaryDirectory() as scratch:
        work_file = Path(scratch) / "work.json"
        work_file.write_text(json.dumps(work(args.size, args.runs)))
        for _ in range(args.rounds):
            for side, (checkout, python) in enumerate(sides):
                for name, seconds in probe(checkout, python, work_file).items():
                    best[side][name] = min(best[side].get(name, seconds), seconds)
    names = [revision(checkout) for checkout, _ in sides]
    print(f"| best median of {args.rounds} rounds, ms | {names[0]} | {names[1]} (this checkout) |")
    print("|---|---|---|")
    for name in best[1]:
        before = f"{1000 * best[0][name]:.2f}" if name in best[0] else "—"
        print(f"| {name} | {before} | {1000 * best[1][name]:.2f} |")


if __name__ == "__main__":
    main()
