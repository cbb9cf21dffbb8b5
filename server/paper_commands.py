"""Commands an editor's own interface calls (VS Code's palette, Quick Pick and status bar): search the
index, cite a paper at the cursor in the file's syntax, say what the index holds, add a paper."""

from __future__ import annotations

import re
from typing import Any

from lsprotocol import types

from core.documents import syntax
from core.formats import parse_text
from core.highlight import best_sentence_index, sentences
from core.library import Library
from core.query import text_terms
from core.records import PaperciteError, ParseFailure
from core.sources import add_identifiers
from server import commands
from server.completion import Candidate, search_with_bibliography
from server.context import cite_site_at
from server.server import VERSION, PaperciteServer, Snapshot

SEARCH = "papercite.search"
# A search the user asked for waits for its text's vector (the model's first load included).
COMMAND_WAIT = 10.0
CITE = "papercite.cite"
STATUS = "papercite.status"
ADD_PAPER = "papercite.addPaper"
COMMANDS = [SEARCH, CITE, STATUS, ADD_PAPER]
SEARCH_LIMIT = 20

_MYST_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`")


def render_search_hit(candidate: Candidate, terms: dict[str, float]) -> dict[str, Any]:
    """One row of a paper search: what a picker shows, and the key it cites."""
    paper = candidate.paper
    best = best_sentence_index(paper.abstract, terms)
    return {
        "key": paper.key,
        "title": paper.title,
        "authors": paper.author_line(3),
        "year": paper.year,
        "venue": paper.venue,
        "sentence": sentences(paper.abstract)[best] if best is not None else "",
        "source": candidate.source,
    }


def citation_edit(text: str, offset: int, language: str, key: str, myst: bool) -> tuple[int, int, str]:
    """Where and what to write to cite `key` at `offset`: into the key list of a citation the cursor
    is in, else a new citation in the file's syntax."""
    site = cite_site_at(text, offset, language)
    if site is not None:
        if not site.prefix:
            return site.replace_start, site.replace_end, key
        separator = "; @" if site.command == "pandoc" else ","
        return site.replace_end, site.replace_end, separator + key
    before = text[offset - 1] if offset > 0 else "\n"
    if language == syntax.LATEX:
        tie = "" if before.isspace() or before in "({[~" else "~"
        return offset, offset, f"{tie}\\cite{{{key}}}"
    space = "" if before.isspace() or before in "([" else " "
    if myst:
        # A role glued to the word before it (cache{cite}`key`) reads as a typo.
        return offset, offset, f"{space}{{cite}}`{key}`"
    return offset, offset, f"{space}[@{key}]"


def _uses_myst(server: PaperciteServer, snapshot: Snapshot) -> bool:
    document = server.workspace.get_text_document(snapshot.uri)
    return document.language_id == "myst" or bool(_MYST_ROLE.search(snapshot.text))


async def search(server: PaperciteServer, query: str, limit: int, uri: str | None) -> list[dict[str, Any]]:
    """The best papers for free text; with a document, its bibliography's entries rank among them."""
    terms = text_terms(query)
    if not terms:
        return []
    library = await server.library()
    snapshot = server.snapshot(uri) if uri else None
    meaning = query if server.settings.semantic else ""
    if snapshot is not None:
        ranked = await search_with_bibliography(
            library, server.bibliography(snapshot), terms, limit, meaning=meaning, wait=COMMAND_WAIT
        )
    else:
        hits = await library.search(terms, limit, meaning=meaning, semantic=server.settings.semantic)
        ranked = [Candidate(hit.paper, hit.score) for hit in hits]
    return [render_search_hit(candidate, terms) for candidate in ranked[:limit]]


async def cite(server: PaperciteServer, snapshot: Snapshot, position: Any, key: str) -> dict[str, Any]:
    """Cite `key` at the position, and add its entry to the document's .bib when it lacks it."""
    library = await server.library()
    bibliography = server.bibliography(snapshot)
    if key not in bibliography.keys and await library.find(key) is None:
        raise PaperciteError(f"no paper has the key {key!r}")
    at = types.Position(line=int(position["line"]), character=int(position["character"]))
    offset = snapshot.lines.offset(at)
    start, end, insert = citation_edit(
        snapshot.text, offset, snapshot.language, key, _uses_myst(server, snapshot)
    )
    edit = types.TextEdit(range=snapshot.lines.range(start, end), new_text=insert)
    await commands.apply_edits(server, snapshot.uri, snapshot.version, [edit])
    added: list[str] = []
    if bibliography.target is not None and key not in bibliography.keys:
        added = (await commands.add_to_bibliography(server, snapshot, [key]))["added"]
    return {"inserted": insert, "added": added}


async def status(server: PaperciteServer) -> dict[str, Any]:
    """What the index holds and where it is; a team server that does not answer is not connected."""
    home = str(server.settings.home or "") or None
    try:
        library = await server.library()
        # A count, not stats(): the status bar asks every few seconds, and stats() takes seconds at
        # a million papers (a team server's too).
        papers = await library.count()
    except Exception as error:
        return {"connected": False, "home": home, "error": str(error), "version": VERSION}
    where = str(library.home) if isinstance(library, Library) else home
    return {"connected": True, "home": where, "papers": papers, "version": VERSION}


async def add_paper(server: PaperciteServer, text: str) -> dict[str, Any]:
    """Add a paper to the index: by DOI or arXiv id or link (through the web sources), or from pasted
    BibTeX entries."""
    text = text.strip()
    library = await server.library()
    if not text.startswith("@"):
        if not isinstance(library, Library):
            raise PaperciteError(
                "adding papers by DOI or arXiv id needs a papercite home folder, not a server"
            )
        result = await add_identifiers(library, [text])
        if result.errors:
            raise PaperciteError(str(result.errors[0]))
        return {
            "added": [key for key, state in result.status.items() if state == "added"],
            "updated": [key for key, state in result.status.items() if state == "updated"],
            "unchanged": [key for key, state in result.status.items() if state == "unchanged"],
        }
    papers, problems = [], []
    for item in parse_text(text, "pasted BibTeX", "bibtex"):
        if isinstance(item, ParseFailure):
            problems.append(f"line {item.line}: {item.reason}")
        else:
            papers.append(item.replace(format="editor"))
    if problems:
        raise PaperciteError(f"the pasted BibTeX cannot be read: {'; '.join(problems)}")
    if not papers:
        raise PaperciteError("no BibTeX entry found in what was pasted")
    report = await library.add_papers(papers)
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged}


async def execute(server: PaperciteServer, command: str, arguments: list[Any]) -> Any:
    """Run one of COMMANDS; a PaperciteError reaches the caller, who tells the user."""
    if command == SEARCH and arguments and isinstance(arguments[0], str):
        limit = arguments[1] if len(arguments) > 1 and isinstance(arguments[1], int) else SEARCH_LIMIT
        uri = arguments[2] if len(arguments) > 2 and isinstance(arguments[2], str) else None
        return await search(server, arguments[0], max(1, min(limit, 200)), uri)
    if command == CITE and len(arguments) == 3 and isinstance(arguments[1], dict):
        return await cite(server, commands.snapshot_of(server, arguments[0]), arguments[1], str(arguments[2]))
    if command == STATUS:
        return await status(server)
    if command == ADD_PAPER and len(arguments) == 1 and isinstance(arguments[0], str):
        return await add_paper(server, arguments[0])
    raise PaperciteError(f"unknown command or arguments: {command} {arguments!r}")
