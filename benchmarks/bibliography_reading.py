"""Reading a big bibliography while the language server answers: the ACL Anthology's shape and size.

    python -m benchmarks.bibliography_reading [--sizes 1000 10000 100000] [--scratch DIR] [--compare]

For each size, a generated `.bib` (benchmarks/big_bibliography.py; 100,000 entries ≈ 77 MB) is:
- read in-process: the first reading (decode, parse, search index, identities) and a re-reading after
  a one-entry edit (the entries whose text did not change are reused);
- opened through a real `papercite lsp` over stdio, with a second document naming no bibliography:
  completions in both documents and hovers are sent one after another while the file is read, and
  the slowest answer is reported, with the time from opening to the file's entries being offered and
  the server's resident memory before opening and after the reading landed (with two documents naming
  the file, so that a second copy per document would show).
`--compare` also measures the event loop's longest stall while the file is read in a thread and in a
process (whose papers are sent back pickled), the choice behind `server/bibliography.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks import big_bibliography
from core.formats import read_text
from server.bibliography import BibFile, _read, read_bib_file

CAPABILITIES = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
# Between two requests sent while the file is read, as someone typing.
REQUEST_GAP_SECONDS = 0.05


@dataclass
class Reading:
    entries: int
    megabytes: float
    first: float
    again: float
    slowest: float = 0.0
    requests: int = 0
    offered: float = 0.0
    rss_before: float = 0.0
    rss_after: float = 0.0

    def row(self) -> str:
        return (
            f"| {self.entries:,} | {self.megabytes:.1f} | {self.first:.2f} | {self.again:.2f} | "
            f"{1000 * self.slowest:.0f} ({self.requests}) | {self.offered:.1f} | "
            f"{self.rss_before:.0f} → {self.rss_after:.0f} |"
        )


def generated(scratch: Path, entries: int) -> Path:
    path = scratch / f"anthology-{entries}.bib"
    if not path.exists():
        big_bibliography.write(path, entries)
    return path


def one_entry_edited(text: str) -> str:
    """The file with the title of its middle entry changed, as a user's fix would."""
    starts = [m.start() for m in re.finditer(r"^@", text, re.MULTILINE)]
    middle = starts[len(starts) // 2]
    title = text.index('title = "', middle) + len('title = "')
    return text[:title] + "Revised: " + text[title:]


def in_process(path: Path) -> tuple[float, float]:
    """Seconds for the first reading, and for a reading after a one-entry edit."""
    started = time.perf_counter()
    first = _read(path, None, None)
    first_seconds = time.perf_counter() - started
    edited = one_entry_edited(read_text(path))
    started = time.perf_counter()
    read_bib_file(path, edited, first).prepare()
    return first_seconds, time.perf_counter() - started


def rss_mb(client: LanguageClient) -> float:
    server = client._server  # type: ignore[attr-defined]
    return psutil.Process(server.pid).memory_info().rss / 2**20 if server else 0.0


async def through_the_server(path: Path, home: Path, reading: Reading) -> None:
    client = LanguageClient("papercite-bench", "1")
    await client.start_io(sys.executable, "-m", "core.cli", "--home", str(home), "lsp")
    ended: asyncio.Event = asyncio.Event()

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def create(client: LanguageClient, params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.PROGRESS)
    def progress(client: LanguageClient, params: types.ProgressParams) -> None:
        value = params.value
        kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
        if kind == "end":
            ended.set()

    try:
        await client.initialize_async(types.InitializeParams(capabilities=CAPABILITIES))
        client.initialized(types.InitializedParams())
        other_text = "Speculative decoding drafts tokens with a small model~\\cite{}.\n"
        other = path.parent.joinpath("other.tex").as_uri()
        at_other = types.Position(line=0, character=other_text.index("{") + 1)
        last = re.findall(r"^@\w+\{([^,]+),", path.read_text(), re.MULTILINE)[-1]
        big_text = f"\\bibliography{{{path.stem}}}\nDrafting helps~\\cite{{{last[:-1]}}}.\n"
        at_big = types.Position(line=1, character=big_text.splitlines()[1].index("}"))

        def open_document(uri: str, text: str) -> None:
            item = types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=text)
            client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))

        async def complete(uri: str, position: types.Position) -> list[str]:
            result = await client.text_document_completion_async(
                types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
            )
            return [item.label for item in (result.items if isinstance(result, types.CompletionList) else [])]

        open_document(other, other_text)
        await complete(other, at_other)  # the index is open
        reading.rss_before = rss_mb(client)
        opened = time.perf_counter()
        open_document(path.parent.joinpath("big.tex").as_uri(), big_text)
        open_document(path.parent.joinpath("big2.tex").as_uri(), big_text)
        big = path.parent.joinpath("big.tex").as_uri()
        slowest, requests = 0.0, 0
        while True:
            for uri, position in ((other, at_other), (big, at_big)):
                started = time.perf_counter()
                labels = await complete(uri, position)
                slowest = max(slowest, time.perf_counter() - started)
                started = time.perf_counter()
                await client.text_document_hover_async(
                    types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
                )
                slowest = max(slowest, time.perf_counter() - started)
                requests += 2
                if uri == big and last in labels:
                    reading.offered = time.perf_counter() - opened
            if reading.offered:
                break
            await asyncio.sleep(REQUEST_GAP_SECONDS)
        await asyncio.wait_for(ended.wait(), 60)
        reading.slowest, reading.requests = slowest, requests
        reading.rss_after = rss_mb(client)
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()


def _read_in_process(path: Path) -> bytes:
    """A reading in a worker process, sent back as the parent would receive it."""
    bib = read_bib_file(path, read_text(path))
    return pickle.dumps((bib.papers, bib.lines, bib.failures))


async def longest_stall(path: Path, in_thread: bool) -> tuple[float, float]:
    """(the event loop's longest stall, seconds until the file was ready) while it is read."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    if in_thread:
        with ThreadPoolExecutor(1) as pool:
            future = loop.run_in_executor(pool, _read, path, None, None)
            stall = await _watch(future)
    else:
        with ProcessPoolExecutor(1) as processes, ThreadPoolExecutor(1) as pool:
            shipped = loop.run_in_executor(processes, _read_in_process, path)
            stall = await _watch(shipped)
            # Unpickled and indexed in a thread too: on the loop, 100k papers stall it for seconds.
            data = shipped.result()
            future = loop.run_in_executor(pool, lambda: _unpickled(path, data))
            stall = max(stall, await _watch(future))
    return stall, time.perf_counter() - started


def _unpickled(path: Path, data: bytes) -> BibFile:
    papers, lines, failures = pickle.loads(data)
    return BibFile(path, papers, lines, failures).prepare()


async def _watch(future: asyncio.Future[object]) -> float:
    worst = 0.0
    while not future.done():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        worst = max(worst, time.perf_counter() - started - 0.01)
    return worst


async def run(sizes: list[int], scratch: Path, compare: bool) -> list[str]:
    home = scratch / "home"
    rows = [
        "| entries | MB | first reading s | re-reading after a one-entry edit s | slowest answer meanwhile ms "
        "(requests) | opened → entries offered s | server RSS MB (before → after) |",
        "|---|---|---|---|---|---|---|",
    ]
    stalls = [
        "| entries | off the loop in | longest event-loop stall ms | ready after s |",
        "|---|---|---|---|",
    ]
    for entries in sizes:
        path = generated(scratch / str(entries), entries)
        first, again = in_process(path)
        reading = Reading(entries, path.stat().st_size / 2**20, first, again)
        await through_the_server(path, home, reading)
        rows.append(reading.row())
        if compare:
            for in_thread in (True, False):
                stall, ready = await longest_stall(path, in_thread)
                where = "a thread" if in_thread else "a process (papers pickled back)"
                stalls.append(f"| {entries:,} | {where} | {1000 * stall:.0f} | {ready:.1f} |")
    return rows + (["", *stalls] if compare else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument(
        "--scratch", type=Path, help="where generated files are kept (default: a temporary folder)"
    )
    parser.add_argument(
        "--compare", action="store_true", help="also compare reading in a thread and a process"
    )
    args = parser.parse_args()
    if args.scratch:
        args.scratch.mkdir(parents=True, exist_ok=True)
        print("\n".join(asyncio.run(run(args.sizes, args.scratch, args.compare))))
        return
    with tempfile.TemporaryDirectory() as scratch:
        print("\n".join(asyncio.run(run(args.sizes, Path(scratch), args.compare))))


if __name__ == "__main__":
    main()
