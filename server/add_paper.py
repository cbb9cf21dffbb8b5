"""*Add this paper and cite it*: on a DOI, an arXiv id or an arXiv/doi.org link in the text, fetch
the paper (Crossref, arXiv, OpenAlex), add it to the index and to the document's .bib, and put the
citation where the link was.

The code action only names the identifier; the lookup runs when the command is chosen, since the
network has no place in a code-action request an editor waits for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from core.documents import syntax
from core.identifiers import Found, find_identifiers
from core.records import PaperciteError
from core.sources import add_identifiers
from server import commands, diagnostics
from server.server import PaperciteServer, Snapshot, log

ADD_PAPER_AND_CITE = "papercite.addPaperAndCite"
TITLE = "Add this paper and cite it"
KIND = types.CodeActionKind.RefactorRewrite
# How far the link may have moved (text typed above it) between the action and the command.
_DRIFT = 2000


@dataclass(frozen=True)
class LinkSpan:
    """What to replace: the identifier, with the markup that only made it a link."""

    start: int
    end: int
    label: str  # a Markdown link's or \\href's own text, kept before the citation


def identifiers_at(snapshot: Snapshot, start: int, end: int) -> list[Found]:
    """Identifiers in the lines of [start, end] that the range touches."""
    text = snapshot.text
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    found = []
    for item in find_identifiers(text[line_start:line_end]):
        item_start, item_end = line_start + item.start, line_start + item.end
        if item_start <= end and start <= item_end:
            found.append(Found(item.identifier, item_start, item_end))
    return found


def render_action(snapshot: Snapshot, found: Found) -> types.CodeAction:
    command = types.Command(
        title=f"{TITLE}: {found.identifier}",
        command=ADD_PAPER_AND_CITE,
        arguments=[snapshot.uri, found.identifier.text, found.start],
    )
    return types.CodeAction(title=command.title, kind=KIND, command=command)


def actions(snapshot: Snapshot, start: int, end: int) -> list[types.CodeAction]:
    return [render_action(snapshot, found) for found in identifiers_at(snapshot, start, end)]


_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?$")
_LATEX_URL = re.compile(r"\\(url|href)\s*\{\s*$")


def link_span(text: str, start: int, end: int, language: str) -> LinkSpan:
    """The identifier at [start, end) with the link markup around it: `<…>` and `[text](…)` in
    Markdown, `\\url{…}` and `\\href{…}{text}` in LaTeX."""
    before = text[max(0, start - 300) : start]
    if language == syntax.LATEX:
        command = _LATEX_URL.search(before)
        closing = text.find("}", end)
        if command and closing >= 0 and not text[end:closing].strip():
            begin = start - (len(before) - command.start())
            if command.group(1) == "url":
                return LinkSpan(begin, closing + 1, "")
            label = re.match(r"\s*\{([^{}]*)\}", text[closing + 1 :])
            if label:
                return LinkSpan(begin, closing + 1 + label.end(), label.group(1).strip())
        return LinkSpan(start, end, "")
    link = _MARKDOWN_LINK.search(before)
    close = re.match(r">?\s*\)", text[end:])
    if link and close:
        return LinkSpan(start - (len(before) - link.start()), end + close.end(), link.group(1).strip())
    if before.endswith("<") and text[end : end + 1] == ">":
        return LinkSpan(start - 1, end + 1, "")
    return LinkSpan(start, end, "")


def citation_for(key: str, language: str, label: str) -> str:
    cite = f"\\cite{{{key}}}" if language == syntax.LATEX else f"[@{key}]"
    if not label:
        return cite
    return f"{label}~{cite}" if language == syntax.LATEX else f"{label} {cite}"


def _locate(snapshot: Snapshot, written: str, near: int) -> Found:
    """The identifier as the document has it now (it may have moved while the paper was fetched)."""
    lo, hi = max(0, near - _DRIFT), min(len(snapshot.text), near + _DRIFT)
    candidates = [
        Found(f.identifier, lo + f.start, lo + f.end)
        for f in find_identifiers(snapshot.text[lo:hi])
        if snapshot.text[lo + f.start : lo + f.end] == written
    ]
    if not candidates:
        raise PaperciteError(f"{written} is no longer in the document; nothing was replaced")
    return min(candidates, key=lambda f: abs(f.start - near))


async def add_paper_and_cite(server: PaperciteServer, uri: str, written: str, near: int) -> dict[str, object]:
    """The command: fetch, add to the index and the .bib, replace the link with the citation."""
    library = await server.library()
    result = await add_identifiers(library, [written])
    if result.errors:
        raise PaperciteError(str(result.errors[0]))
    paper = result.papers[0]
    snapshot = server.snapshot(uri)
    if snapshot is None:
        raise PaperciteError(f"{uri} is not a document papercite serves")
    found = _locate(snapshot, written, near)
    span = link_span(snapshot.text, found.start, found.end, snapshot.language)
    edit = types.TextEdit(
        range=snapshot.lines.range(span.start, span.end),
        new_text=citation_for(paper.key, snapshot.language, span.label),
    )
    written_to: dict[str, object] = {}
    if server.bibliography(snapshot).target is not None:
        written_to = await commands.add_to_bibliography(server, snapshot, [paper.key])
    else:
        commands.tell(
            server,
            f"papercite: added {paper.key} to the index; the document has no .bib yet "
            f"('{commands.create_bibliography_command(uri).title}' makes one)",
        )
    await commands.apply_edits(server, uri, snapshot.version, [edit])
    diagnostics.schedule_all(server, delay=0)
    log.info("added %s for %s", paper.key, written)
    return {"key": paper.key, "status": result.status[paper.key], **written_to}


async def execute(server: PaperciteServer, arguments: list[Any]) -> object:
    """Run ADD_PAPER_AND_CITE; a PaperciteError reaches the caller, who tells the user."""
    if len(arguments) != 3 or not isinstance(arguments[2], int):
        raise PaperciteError(f"{ADD_PAPER_AND_CITE} takes (uri, identifier, offset), not {arguments!r}")
    return await add_paper_and_cite(server, str(arguments[0]), str(arguments[1]), arguments[2])
