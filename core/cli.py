"""`papercite`: a thin command line over the library; library errors become plain messages."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from core.export import to_bibtex
from core.interface import PaperLibrary
from core.library import EMBED_AT_ONCE, STORE_VARIABLE, Library, default_store, open_store
from core.records import EmptyQuery, IngestReport, Paper, PaperciteError
from core.remote import home_from, open_library
from core.search import MAX_RESULTS, Hit

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _result_count(text: str) -> int:
    """`-k`: a whole number from 1 to MAX_RESULTS, or a usage error saying so."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_RESULTS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_RESULTS}, not {text!r}")
    return count


def _worker_count(text: str) -> int:
    """`serve --workers`: a whole number from 1 to 64, or a usage error saying so."""
    count = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64, not {text!r}")
    return count


def _harvest_spec(text: str) -> Any:
    from core.harvest_schedule import parse_harvest_spec

    try:
        return parse_harvest_spec(text)
    except PaperciteError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _duration(text: str) -> float:
    from core.schedule import parse_duration

    try:
        return float(parse_duration(text))
    except PaperciteError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _background_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--harvest",
        action="append",
        default=[],
        type=_harvest_spec,
        metavar="SPEC",
        help="harvest on a schedule: arxiv:cs.CL, arxiv:cs (a set), openalex:FILTER (repeatable)",
    )
    parser.add_argument(
        "--harvest-every",
        type=_duration,
        default=6 * 3600.0,
        metavar="DURATION",
        help="how often the harvests run, across every process on the store: 6h (default), 90m, 1d",
    )


def _background(args: argparse.Namespace) -> Any:
    from core.harvest_schedule import Background

    return Background(tuple(args.harvest), args.harvest_every)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papercite",
        description="Citations ranked by the sentence you are writing: "
        "search, ingest and serve an index of papers.",
    )
    parser.add_argument(
        "--home",
        help="folder of the store and index, or a `papercite serve` URL (default: $PAPERCITE_HOME)",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="postgresql://USER@HOST[:PORT]/DB: keep the papers there (the home then holds only this "
        "node's index; default: $PAPERCITE_STORE, else the home's own file)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="add BibTeX, CSL-JSON, arXiv metadata or JSON Lines files")
    ingest.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (recursive)")
    ingest.add_argument(
        "--zotero",
        nargs="?",
        const="",
        metavar="PATH",
        help="read a Zotero library from its database (zotero.sqlite or its folder; default: Zotero's data folder)",
    )
    ingest.add_argument(
        "--collection", metavar="NAME", help="with --zotero: only this collection (and its subcollections)"
    )
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument(
        "--no-embed",
        action="store_true",
        help="leave the new papers without sentence vectors (`papercite embed` makes them later)",
    )

    add = commands.add_parser("add", help="add papers by DOI, arXiv id or link, or OpenAlex work id")
    add.add_argument(
        "identifiers",
        nargs="+",
        metavar="ID",
        help="10.1145/…, doi:…, arXiv:2404.11912, an arxiv.org or doi.org link, W…",
    )
    add.add_argument(
        "--keep-without-abstract", action="store_true", help="add papers no source has an abstract for"
    )
    add.add_argument("--json", action="store_true", help="print the outcome as JSON")

    harvest = commands.add_parser("harvest", help="add every paper of an arXiv set or an OpenAlex filter")
    sources = harvest.add_subparsers(dest="source", required=True, metavar="SOURCE")
    arxiv = sources.add_parser("arxiv", help="arXiv over OAI-PMH; run again to go on or to take what is new")
    arxiv.add_argument(
        "--set", default="", help="an OAI-PMH set: cs, math, physics:hep-th … (default: all of arXiv)"
    )
    arxiv.add_argument("--category", default="", help="keep papers listed under this category, e.g. cs.CL")
    arxiv.add_argument(
        "--from", dest="date_from", default="", metavar="DATE", help="changed on or after YYYY-MM-DD"
    )
    arxiv.add_argument("--until", default="", metavar="DATE", help="changed on or before YYYY-MM-DD")
    arxiv.add_argument("--json", action="store_true", help="print the report as JSON")
    openalex = sources.add_parser("openalex", help="OpenAlex works by cursor paging; run again to go on")
    openalex.add_argument(
        "--filter",
        required=True,
        help='an OpenAlex filter, e.g. "concepts.id:C41008148,publication_year:2024"',
    )
    openalex.add_argument(
        "--max", type=int, default=None, metavar="N", help="read at most N works in this run"
    )
    openalex.add_argument("--json", action="store_true", help="print the report as JSON")

    search = commands.add_parser("search", help="papers for a sentence or keywords")
    search.add_argument("query", nargs="+", help="the text to search for; '-' reads one query per stdin line")
    search.add_argument(
        "-k",
        "--limit",
        type=_result_count,
        default=10,
        help=f"how many results, 1 to {MAX_RESULTS} (default 10)",
    )
    search.add_argument("--json", action="store_true", help="print hits as a JSON array")
    search.add_argument("--year-from", type=int, help="only papers from this year on")
    search.add_argument("--year-to", type=int, help="only papers up to this year")
    search.add_argument("--author", help="only papers with this author (any part of the name)")
    search.add_argument(
        "--semantic",
        choices=["on", "off"],
        help="re-rank by sentence vectors where the home has them (default: on, or $PAPERCITE_SEMANTIC)",
    )

    embed = commands.add_parser(
        "embed", help="give every paper its sentence vector (resumable: run again after a stop)"
    )
    embed.add_argument("--rebuild", action="store_true", help="make every vector anew")

    show = commands.add_parser("show", help="one paper by key")
    show.add_argument("key")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--bibtex", action="store_true", help="print a BibTeX entry")
    fmt.add_argument("--json", action="store_true", help="print the record as JSON")

    export = commands.add_parser(
        "export", help="BibTeX or CSL-JSON of papers by key, or of every paper documents cite"
    )
    export.add_argument("keys", nargs="*", metavar="KEY")
    export.add_argument(
        "--cited",
        nargs="+",
        default=[],
        metavar="DOCUMENT",
        help="the papers these LaTeX or Markdown documents cite (with the files a LaTeX one inputs)",
    )
    export.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="add the entries FILE lacks (created if missing) instead of printing; .json means CSL-JSON",
    )
    export.add_argument("--format", choices=["bibtex", "csl-json"], help="default: BibTeX, or FILE's")

    remove = commands.add_parser("remove", help="remove papers by key")
    remove.add_argument("keys", nargs="+", metavar="KEY")

    stats = commands.add_parser("stats", help="what the index holds")
    stats.add_argument("--json", action="store_true")

    commands.add_parser("reindex", help="rebuild the search index from the store")

    lsp = commands.add_parser("lsp", help="run the language server (stdio by default)")
    lsp.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")

    slack = commands.add_parser("slack", help="run the Slack bot")
    mode = slack.add_mutually_exclusive_group(required=True)
    mode.add_argument("--socket", action="store_true", help="Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN)")
    mode.add_argument("--http", action="store_true", help="HTTP (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN)")
    slack.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    _background_arguments(slack)
    slack.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default 0.0.0.0)")

    digest = commands.add_parser(
        "digest", help="send the Slack digests due now: each following channel's new papers"
    )
    digest.add_argument("--all", action="store_true", help="every follow's digest now, whatever its schedule")
    digest.add_argument("--dry-run", action="store_true", help="print what would be posted; post nothing")

    serve = commands.add_parser("serve", help="serve the index over HTTP to a team (and Slack, if set up)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    serve.add_argument("--max-body-mb", type=int, default=64, help="largest upload in MB (default 64)")
    serve.add_argument("--rate", type=float, default=100.0, help="requests a second per token (0: no limit)")
    serve.add_argument("--access-log", action="store_true", help="log every request (never its token)")
    _background_arguments(serve)
    serve.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        help="processes answering on the same address (default 1; more for more cores)",
    )
    serve.add_argument(
        "--worker-timeout",
        type=float,
        metavar="SECONDS",
        help="with --workers: replace a worker silent this long (default 60)",
    )

    migrate = commands.add_parser(
        "migrate", help="copy this folder's papers, keys, tokens and marks into a PostgreSQL store"
    )
    migrate.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST[:PORT]/DB")
    migrate.add_argument(
        "--replace", action="store_true", help="empty a database that already holds papers or tokens first"
    )
    migrate.add_argument("--json", action="store_true", help="print the counts as JSON")

    token = commands.add_parser("token", help="make, list and revoke the tokens `serve` accepts")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="make a token; it is printed once, as the last line")
    create.add_argument("name")
    create.add_argument("--write", action="store_true", help="may also add and remove papers")
    token_commands.add_parser("list", help="the tokens' names and scopes")
    revoke = token_commands.add_parser("revoke", help="stop a token from working")
    revoke.add_argument("name")
    return parser


# --- rendering (pure) -------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render_hits_table(hits: Sequence[Hit], width: int) -> str:
    if not hits:
        return "No papers match."
    key_width = min(max(len(h.key) for h in hits), 28)
    title_width = max(width - key_width - 24, 20)
    lines = [f"{'#':>2}  {'key':<{key_width}}  {'year':<4}  {'score':>6}  title"]
    for hit in hits:
        paper = hit.paper
        year = str(paper.year) if paper.year else ""
        author = f" — {paper.first_author_surname}" if paper.authors else ""
        lines.append(
            f"{hit.rank:>2}  {_clip(hit.key, key_width):<{key_width}}  {year:<4}  {hit.score:>6.2f}  "
            f"{_clip(paper.title + author, title_width)}"
        )
    return "\n".join(lines)


def render_paper(paper: Paper) -> str:
    lines = [paper.title + ("  (title derived from the abstract)" if paper.title_derived else "")]
    details = [
        ("key", paper.key),
        ("authors", "; ".join(paper.authors)),
        ("year", str(paper.year or "")),
        ("venue", paper.venue),
        ("doi", paper.doi),
        ("url", paper.url or paper.link),
        ("arXiv", paper.arxiv_id),
        ("keywords", ", ".join(paper.keywords)),
    ]
    lines += [f"{name:>9}: {value}" for name, value in details if value]
    if paper.abstract:
        lines += ["", paper.abstract]
    return "\n".join(lines)


def paper_json(paper: Paper) -> dict[str, Any]:
    return Hit(paper, 0.0, 0).to_json() | {
        "entry_type": paper.entry_type,
        "title_derived": paper.title_derived,
    }


def render_report(report: IngestReport) -> str:
    lines = [f"{problem}" for problem in [*report.failed, *report.warnings]]
    lines.append(report.summary())
    return "\n".join(lines)


# --- commands ---------------------------------------------------------------------------------


async def _ingest(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    if not args.paths and args.zotero is None:
        raise PaperciteError("name files or folders to ingest, or --zotero")
    if args.collection is not None and args.zotero is None:
        raise PaperciteError("--collection goes with --zotero")
    if args.zotero is not None:
        from core.sources.zotero import ingest_zotero

        zotero = await ingest_zotero(library, Path(args.zotero) if args.zotero else None, args.collection)
        if args.json:
            counts = {name: len(getattr(zotero.report, name)) for name in ("added", "updated", "unchanged")}
            print(
                json.dumps(
                    {"zotero": str(zotero.database), "read": zotero.read, "since": zotero.since}
                    | counts
                    | {"removed": zotero.removed}
                ),
                file=out,
            )
        else:
            print(zotero.summary(), file=out)
        if not args.paths:
            return EXIT_OK
    from tqdm import tqdm

    with tqdm(unit=" papers", disable=not sys.stderr.isatty(), file=sys.stderr, leave=False) as bar:

        def progress(path: str, count: int) -> None:
            bar.set_description(_clip(Path(path).name, 30))
            bar.update(count)

        report = await library.ingest(args.paths, progress)
    changed = len(report.added) + len(report.updated)
    if isinstance(library, Library) and library.semantic and changed and not args.no_embed:
        if changed <= EMBED_AT_ONCE:
            await _embed_with_progress(library)
        else:
            print(
                f"papercite: {changed} papers wait for their sentence vectors (searches rank them by "
                "BM25 until then): run `papercite embed`",
                file=sys.stderr,
            )
    if args.json:
        print(
            json.dumps(
                {
                    "added": len(report.added),
                    "updated": len(report.updated),
                    "unchanged": len(report.unchanged),
                    "failed": [{"path": f.path, "line": f.line, "reason": f.reason} for f in report.failed],
                    "skipped": [str(path) for path in report.skipped],
                    "warnings": [
                        {"path": w.path, "line": w.line, "reason": w.reason} for w in report.warnings
                    ],
                }
            ),
            file=out,
        )
    else:
        for problem in [*report.failed, *report.warnings]:
            print(problem, file=sys.stderr)
        print(report.summary(), file=out)
    nothing_read = not (report.added or report.updated or report.unchanged)
    return EXIT_ERROR if report.failed and nothing_read else EXIT_OK


async def _search_one(library: PaperLibrary, args: argparse.Namespace, query: str) -> list[Hit]:
    return await library.search(
        query,
        args.limit,
        year_from=args.year_from,
        year_to=args.year_to,
        author=args.author,
        semantic=None if args.semantic is None else args.semantic == "on",
    )


async def _search(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    if args.query == ["-"]:
        # Batch mode: one query per line in, one JSON array (or table) per line out.
        for line in sys.stdin:
            try:
                hits = await _search_one(library, args, line.strip())
            except EmptyQuery:
                hits = []
            if args.json:
                print(json.dumps([h.to_json() for h in hits], ensure_ascii=False), file=out, flush=True)
            else:
                print(render_hits_table(hits, shutil.get_terminal_size().columns) + "\n", file=out)
        return EXIT_OK
    hits = await _search_one(library, args, " ".join(args.query))
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2), file=out)
    else:
        print(render_hits_table(hits, shutil.get_terminal_size().columns), file=out)
    return EXIT_OK


async def _show(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    paper = await library.get(args.key)
    if args.bibtex:
        out.write(to_bibtex(paper))
    elif args.json:
        print(json.dumps(paper_json(paper), ensure_ascii=False, indent=2), file=out)
    else:
        print(render_paper(paper), file=out)
    return EXIT_OK


async def _export(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    from core.export_command import export, format_of

    if not args.keys and not args.cited:
        raise PaperciteError("name keys to export, or documents with --cited")
    output = Path(args.output) if args.output else None
    result = await export(
        library, args.keys, [Path(d) for d in args.cited], format_of(output, args.format), output
    )
    for problem in [*result.problems, *result.unknown]:
        print(f"papercite: {problem}", file=sys.stderr)
    if output is None:
        out.write(result.text)
    else:
        already = f" ({len(result.present)} already there)" if result.present else ""
        print(f"{output}: added {len(result.written)} entries{already}", file=out)
    return EXIT_ERROR if result.problems or result.unknown else EXIT_OK


async def _remove(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    removed = await library.remove(args.keys)
    print(f"removed {len(removed)}: {', '.join(removed)}", file=out)
    return EXIT_OK


async def _stats(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    stats = await library.stats()
    if args.json:
        print(json.dumps(stats, indent=2), file=out)
    else:
        years = stats["years"]
        store = stats.get("store")
        kept = f" (papers kept in {store})" if store and not store.startswith(str(stats["home"])) else ""
        print(f"{stats['papers']} papers in {stats['home']}{kept}", file=out)
        counts = (stats["with_abstract"], stats["with_doi"], stats["with_arxiv_id"])
        print("  with abstract: {}, DOI: {}, arXiv id: {}".format(*counts), file=out)
        if years:
            print(f"  years: {years[0]}–{years[1]}", file=out)
        for name, count in stats["formats"].items():
            print(f"  from {name}: {count}", file=out)
        if "vectors" in stats:
            print(f"  with a sentence vector: {stats['vectors']}", file=out)
    return EXIT_OK


async def _embed(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    if not isinstance(library, Library):
        raise PaperciteError("embed works on a home folder; a team server embeds its own papers")
    embedded = await _embed_with_progress(library, rebuild=args.rebuild)
    print(f"embedded {embedded} papers; {library.vectors.count} have a vector", file=out)
    return EXIT_OK


async def _embed_with_progress(library: Library, *, rebuild: bool = False) -> int:
    from tqdm import tqdm

    with tqdm(
        unit=" papers", desc="embedding", disable=not sys.stderr.isatty(), file=sys.stderr, leave=False
    ) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return await library.embed_pending(progress, rebuild=rebuild)


async def _reindex(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    count = await library.reindex()
    print(f"reindexed {count} papers", file=out)
    return EXIT_OK


async def _add(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    from core.sources import add_identifiers

    result = await add_identifiers(
        library, args.identifiers, keep_without_abstract=args.keep_without_abstract
    )
    if args.json:
        papers = [
            paper_json(p) | {"status": result.status[p.key], "asked": result.asked[p.key]}
            for p in result.papers
        ]
        errors = [{"id": e.text, "kind": e.kind, "reason": e.reason} for e in result.errors]
        print(json.dumps({"papers": papers, "errors": errors}, ensure_ascii=False, indent=2), file=out)
    else:
        for error in result.errors:
            print(f"papercite: {error}", file=sys.stderr)
        for paper in result.papers:
            print(f"{result.status[paper.key]:<9} {paper.key:<24} {_clip(paper.title, 70)}", file=out)
    return EXIT_ERROR if result.errors else EXIT_OK


async def _harvest(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    from dataclasses import asdict

    from tqdm import tqdm

    from core.sources.harvest import harvest_arxiv, harvest_openalex

    with tqdm(unit=" records", disable=not sys.stderr.isatty(), file=sys.stderr, leave=False) as bar:

        def progress(done: int, total: int | None) -> None:
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        if args.source == "arxiv":
            report = await harvest_arxiv(
                library,
                set_spec=args.set,
                category=args.category,
                date_from=args.date_from,
                until=args.until,
                progress=progress,
            )
        else:
            if args.max is not None and args.max < 1:
                raise PaperciteError("--max must be at least 1")
            report = await harvest_openalex(
                library, filter_text=args.filter, max_records=args.max, progress=progress
            )
    if args.json:
        print(json.dumps(asdict(report)), file=out)
    else:
        print(report.summary(), file=out)
    return EXIT_OK


async def _digest(library: PaperLibrary, args: argparse.Namespace, out: TextIO) -> int:
    from bots.main import digest_command  # Slack's client is only imported when asked for

    sent = await digest_command(library, every=args.all, dry_run=args.dry_run, out=out)
    return EXIT_OK if sent else EXIT_ERROR


_LIBRARY_COMMANDS: dict[str, Callable[[PaperLibrary, argparse.Namespace, TextIO], Awaitable[int]]] = {
    "ingest": _ingest,
    "add": _add,
    "harvest": _harvest,
    "search": _search,
    "show": _show,
    "export": _export,
    "remove": _remove,
    "stats": _stats,
    "reindex": _reindex,
    "embed": _embed,
    "digest": _digest,
}


async def _run_library_command(args: argparse.Namespace, out: TextIO) -> int:
    library = await open_library(args.home)
    try:
        return await _LIBRARY_COMMANDS[args.command](library, args, out)
    finally:
        await library.close()


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    try:
        home = home_from(args.home)
        if args.store:
            # (the environment carries it to serve's workers and the language server's children)
            os.environ[STORE_VARIABLE] = args.store
        if default_store() is not None and not isinstance(home, Path):
            raise PaperciteError(
                f"{STORE_VARIABLE} (--store) is for a node's own folder home, not for a server's URL {home}"
            )
        if args.command in ("serve", "token", "migrate"):
            if not isinstance(home, Path):
                print(
                    f"papercite: {args.command} works on the server's own folder, not on {home}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            if args.command == "migrate":
                return asyncio.run(_migrate(home, args, out))
            return _serve(home, args) if args.command == "serve" else asyncio.run(_token(home, args, out))
        if args.command == "lsp":
            from server.main import serve  # the language server is only imported when asked for

            return serve(home, args.tcp)
        if args.command == "slack":
            from bots.main import serve as serve_slack

            return serve_slack(
                home, socket_mode=args.socket, host=args.host, port=args.port, background=_background(args)
            )
        return asyncio.run(_run_library_command(args, out))
    except PaperciteError as error:
        print(f"papercite: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        if args.command == "harvest":
            print(
                "papercite: interrupted; the pages stored so far are kept: run it again to go on",
                file=sys.stderr,
            )
        else:
            print(
                "papercite: interrupted; the store keeps its state from before this command", file=sys.stderr
            )
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def _serve(home: Path, args: argparse.Namespace) -> int:
    from api.app import Limits
    from api.serve import serve

    limits = Limits(
        max_body_bytes=args.max_body_mb * 1024 * 1024, rate=args.rate, burst=max(2 * args.rate, 1)
    )
    return serve(
        home,
        args.host,
        args.port,
        limits,
        access_log=args.access_log,
        workers=args.workers,
        worker_timeout=args.worker_timeout,
        background=_background(args),
    )


async def _migrate(home: Path, args: argparse.Namespace, out: TextIO) -> int:
    from core.move_store import move_home
    from core.store_postgres import redacted

    report = await move_home(home, args.to, replace=args.replace)
    if args.json:
        print(json.dumps(report.__dict__), file=out)
    else:
        print(
            f"copied {report.papers} papers ({report.provenance} sources), {report.tokens} tokens and "
            f"{report.marks} marks from {home} into {redacted(args.to)}",
            file=out,
        )
        print(f"serve nodes use it with {STORE_VARIABLE}={redacted(args.to)}", file=out)
    return EXIT_OK


async def _token(home: Path, args: argparse.Namespace, out: TextIO) -> int:
    from core.tokens import create_token, list_tokens, revoke_token

    home.mkdir(parents=True, exist_ok=True)
    store = await open_store(home, default_store())  # (brings an older store's schema up to date)
    await store.close()
    path = store.location
    if args.token_command == "create":
        token = create_token(path, args.name, write=args.write)
        scope = "read and write" if args.write else "read"
        print(f"token {args.name!r} ({scope}); it is shown only now, keep it somewhere safe:", file=out)
        print(token, file=out)
    elif args.token_command == "list":
        for known in list_tokens(path):
            print(f"{known.name}\t{known.scope}\t{known.created_at}", file=out)
    else:
        revoke_token(path, args.name)
        print(f"revoked {args.name!r}", file=out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
