"""A 1 MB document through the language server: the citation scan, diagnostics and completion.

    python -m benchmarks.document_scan [--size BYTES] [--runs N]

One LaTeX and one Markdown document of generated sentences (the scale benchmark's word chain), a
citation every third sentence (keys of the seed index and unknown ones, one to three per citation),
a section heading, a comment, a code block or verbatim environment and some math every 40 sentences.
Reports, for each: the scan alone (every cited key with its place), diagnostics as the server
computes them for a document (scan, bibliography, index look-ups, rendering), and a completion at an
unfinished citation near the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.workspace import Workspace

from benchmarks import synthetic
from core.documents.citations import find_citations
from core.documents.syntax import LATEX, MARKDOWN
from server import completion
from server.diagnostics import diagnostics_for
from server.server import PaperciteServer

SEED_KEYS = ["triforce", "skipdecode", "contextkvcache", "relay", "lookahead"]


def _cite(language: str, keys: list[str], rng: random.Random) -> str:
    if language == LATEX:
        command = rng.choice(["cite", "citep", "citet", "parencite"])
        return f"~\\{command}{{{', '.join(keys)}}}"
    if rng.random() < 0.2:
        return f" {{cite:p}}`{','.join(keys)}`"
    return " [" + "; ".join(f"@{k}" for k in keys) + "]"


def document(language: str, size: int, seed: int = 5) -> str:
    """About `size` characters of prose with citations, ending in an unfinished one."""
    rng = random.Random(seed)
    sentences = synthetic.citing_sentences(400, seed=seed)
    parts: list[str] = []
    length = 0
    number = 0
    while length < size:
        sentence = rng.choice(sentences)
        if language == LATEX:  # a bare % or $ would start a comment or math
            sentence = sentence.replace("\\%", "%").replace("%", "\\%").replace("$", "\\$")
        if number % 3 == 0:
            keys = [rng.choice(SEED_KEYS) if rng.random() < 0.7 else f"missing{rng.randrange(500)}"]
            keys += [rng.choice(SEED_KEYS) for _ in range(rng.randrange(3))]
            sentence += _cite(language, keys, rng)
        part = sentence + ". "
        if number % 40 == 0:
            if language == LATEX:
                part = f"\n\n\\section{{Part {number}}}\n% a comment with \\cite{{ignored}}\n{part}$x_{{{number}}}$ "
                part += "\n\\begin{verbatim}\n\\cite{not_a_key}\n\\end{verbatim}\n"
            else:
                part = f"\n\n## Part {number}\n\n{part}$x_{{{number}}}$ `@code`\n\n```\n@not_a_key\n```\n\n"
        parts.append(part)
        length += len(part)
        number += 1
    tail = "\\cite{" if language == LATEX else "[@"
    # Lines of about 80 characters, as people write them.
    text = re.sub(r"(.{72}\S*) ", "\\1\n", "".join(parts))
    return text + "Finally, a citation being typed " + tail


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), min(samples)


async def measure(home: Path, size: int, runs: int) -> list[str]:
    server = PaperciteServer(home)
    server.protocol._workspace = Workspace(None)
    server.protocol.client_capabilities = types.ClientCapabilities()
    library = await server.library()
    rows = []
    try:
        for language, name in ((LATEX, "paper.tex"), (MARKDOWN, "paper.md")):
            text = document(language, size)
            uri = f"file:///bench/{name}"
            scan_median, scan_best = best_of(runs, functools.partial(find_citations, text, language))
            cited = len(find_citations(text, language))
            diagnose, complete, count = [], [], 0
            for version in range(runs):
                server.workspace.put_text_document(
                    types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)
                )
                snapshot = server.snapshot(uri)
                assert snapshot is not None
                started = time.perf_counter()
                found = await diagnostics_for(server, snapshot, server.bibliography(snapshot))
                diagnose.append(time.perf_counter() - started)
                count = len(found)
                lines = text.split("\n")
                position = types.Position(line=len(lines) - 1, character=len(lines[-1]))
                params = types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=position
                )
                started = time.perf_counter()
                result = await completion.complete(server, params)
                complete.append(time.perf_counter() - started)
                assert result.items, "no completion at the unfinished citation"
            rows.append(
                f"| {language} | {len(text) / 1e6:.2f} MB | {cited:,} | "
                f"{1000 * scan_median:.0f} / {1000 * scan_best:.0f} | "
                f"{1000 * statistics.median(diagnose):.0f} / {1000 * min(diagnose):.0f} | {count:,} | "
                f"{1000 * statistics.median(complete):.1f} / {1000 * min(complete):.1f} |"
            )
    finally:
        await library.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="characters per document")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rows = asyncio.run(measure(Path(scratch) / "home", args.size, args.runs))
    print(
        "| document | size | cited keys | scan ms median / best | diagnostics ms median / best "
        "| diagnostics | completion at the end ms median / best |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
