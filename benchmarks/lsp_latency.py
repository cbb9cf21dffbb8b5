"""Completion latency of the language server: in-process (server side) and through the protocol.

    python -m benchmarks.lsp_latency [--home DIR] [--queries N]

Queries are the citing sentences of tests/data/eval, each written before `~\\cite{`. Reports:
- server side: the completion handler's own time (what the editor waits for, minus transport);
- the same with the document's own synthetic .bib of N entries ranked beside the index (--bib N);
- round trip: a real client over stdio, request to response;
- cold start: launching `papercite lsp` to the first completion answered.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.workspace import Workspace

from benchmarks import synthetic
from benchmarks.citing_sentences import DEFAULT_SENTENCES, load_sentences
from core.export import to_bibtex
from core.records import Paper
from server import completion
from server.server import PaperciteServer


@dataclass(frozen=True)
class Latency:
    label: str
    samples: list[float]

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def row(self) -> str:
        ms = [
            1000 * v for v in (statistics.median(self.samples), self.percentile(0.95), self.percentile(0.99))
        ]
        return f"| {self.label} | {len(self.samples)} | {ms[0]:.2f} | {ms[1]:.2f} | {ms[2]:.2f} |"


def documents(texts: list[str], bibliography: Path | None = None) -> list[tuple[str, str, types.Position]]:
    """(uri, text, cursor) for each sentence written before an empty `\\cite{`, after a
    `\\bibliography` line if one is given."""
    head = f"\\bibliography{{{bibliography.with_suffix('')}}}\n" if bibliography else ""
    made = []
    for number, sentence in enumerate(texts):
        # A bare % would start a LaTeX comment and hide the citation.
        line = sentence.rstrip().rstrip(".").replace("%", "\\%") + "~\\cite{"
        position = types.Position(line=head.count("\n"), character=len(line))
        made.append((f"file:///bench/{number}.tex", head + line + "}.\n", position))
    return made


def write_bibliography(path: Path, count: int) -> Path:
    """A .bib of `count` synthetic papers (the scale benchmark's generator) with their abstracts."""
    entries = []
    for number, record in enumerate(synthetic.records(count, seed=3)):
        authors = tuple(f"{family}, {given}" for family, given, _ in record["authors_parsed"])  # type: ignore[attr-defined]
        paper = Paper(
            key=f"own{number}",
            title=str(record["title"]),
            abstract=str(record["abstract"]),
            authors=authors,
            year=int(str(record["update_date"])[:4]),
        )
        entries.append(to_bibtex(paper))
    path.write_text("\n".join(entries))
    return path


async def server_side(
    home: Path,
    docs: list[tuple[str, str, types.Position]],
    label: str = "server side",
    *,
    semantic: bool = True,
) -> Latency:
    server = PaperciteServer(home)
    server.settings = dataclasses.replace(server.settings, semantic=semantic)
    # What `initialize` sets up, for a server driven in-process without a client.
    server.protocol._workspace = Workspace(None)
    server.protocol.client_capabilities = types.ClientCapabilities()
    library = await server.library()
    try:
        for uri, text, _ in docs:
            server.workspace.put_text_document(
                types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=text)
            )
        samples = []
        for uri, _, position in docs:
            params = types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=position
            )
            started = time.perf_counter()
            result = await completion.complete(server, params)
            samples.append(time.perf_counter() - started)
            assert result.items, uri
        return Latency(label, samples)
    finally:
        await library.close()


# What VS Code declares: Markdown documentation, filled in lazily through completionItem/resolve.
EDITOR_CAPABILITIES = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(
                documentation_format=[types.MarkupKind.Markdown],
                resolve_support=types.ClientCompletionItemResolveOptions(properties=["documentation"]),
            )
        )
    )
)


async def start_client(home: Path) -> LanguageClient:
    client = LanguageClient("papercite-bench", "1")
    await client.start_io(sys.executable, "-m", "core.cli", "--home", str(home), "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=EDITOR_CAPABILITIES))
    client.initialized(types.InitializedParams())
    return client


async def stop_client(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


def request(uri: str, position: types.Position) -> types.CompletionParams:
    return types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)


def open_params(uri: str, text: str) -> types.DidOpenTextDocumentParams:
    return types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=text)
    )


async def round_trips(home: Path, docs: list[tuple[str, str, types.Position]]) -> Latency:
    return (await round_trips_and_memory(home, docs))[0]


async def round_trips_and_memory(
    home: Path, docs: list[tuple[str, str, types.Position]]
) -> tuple[Latency, int]:
    """Completion round trips over stdio, and the server's resident memory afterwards (bytes)."""
    import psutil

    client = await start_client(home)
    try:
        samples = []
        for uri, text, position in docs:
            client.text_document_did_open(open_params(uri, text))
            started = time.perf_counter()
            await client.text_document_completion_async(request(uri, position))
            samples.append(time.perf_counter() - started)
        server = client._server
        rss = psutil.Process(server.pid).memory_info().rss if server else 0
        return Latency("round trip (stdio)", samples), rss
    finally:
        await stop_client(client)


async def cold_start(home: Path, doc: tuple[str, str, types.Position], runs: int = 3) -> Latency:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        client = await start_client(home)
        client.text_document_did_open(open_params(doc[0], doc[1]))
        await client.text_document_completion_async(request(doc[0], doc[2]))
        samples.append(time.perf_counter() - started)
        await stop_client(client)
    return Latency("cold start → first completion", samples)


async def run(home: Path | None, limit: int, bib_entries: int) -> list[Latency]:
    texts = [s.text for s in load_sentences(DEFAULT_SENTENCES)][:limit]
    docs = documents(texts)
    with tempfile.TemporaryDirectory() as scratch:
        where = home or Path(scratch) / "home"
        server = await server_side(where, docs)  # also seeds a fresh home before the clients start
        results = [server, await round_trips(where, docs), await cold_start(where, docs[0])]
        if bib_entries:
            bib = write_bibliography(Path(scratch) / "own.bib", bib_entries)
            label = f"server side, with a {bib_entries:,}-entry .bib"
            results.insert(1, await server_side(where, documents(texts, bib), label))
        return results


def table(results: list[Latency]) -> str:
    lines = ["| measure | n | median ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    return "\n".join(lines + [r.row() for r in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an existing home to measure (default: a fresh seeded one)")
    parser.add_argument("--queries", type=int, default=180)
    parser.add_argument("--bib", type=int, default=5000, help="entries of the document's own .bib (0: none)")
    args = parser.parse_args()
    print(table(asyncio.run(run(args.home, args.queries, args.bib))))


if __name__ == "__main__":
    main()
