"""Code actions: cite papers for this sentence, did you mean …, add the entries the .bib lacks,
and create a bibliography for a document that has none."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from core.documents import syntax
from core.documents.citations import CitedKey
from core.query import context_terms
from server import add_paper, commands
from server.bibliography import DocumentBibliography
from server.completion import Candidate, search_with_bibliography
from server.context import SentenceSite, sentence_at
from server.diagnostics import SOURCE, UNKNOWN_KEY, CitationCheck, check_citations
from server.server import PaperciteServer, Snapshot, safely

QUICKFIX = types.CodeActionKind.QuickFix
CITE = types.CodeActionKind.RefactorRewrite
SENTENCE_CANDIDATES = 3
# Every action citing the sentence starts with the title the README promises, then names its paper.
CITE_SENTENCE = "Cite papers for this sentence"
# A sentence with fewer words that mean something is a heading or a fragment, not a claim to cite.
_MIN_SENTENCE_TERMS = 3


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def citation_text(key: str, language: str) -> str:
    return f"~\\cite{{{key}}}" if language == syntax.LATEX else f" [@{key}]"


def render_did_you_mean(
    cited: CitedKey,
    suggestion: str,
    snapshot: Snapshot,
    diagnostics: list[types.Diagnostic],
    first: bool,
) -> types.CodeAction:
    edit = types.TextEdit(range=snapshot.lines.range(cited.start, cited.end), new_text=suggestion)
    return types.CodeAction(
        title=f"Did you mean '{suggestion}'?",
        kind=QUICKFIX,
        diagnostics=diagnostics or None,
        is_preferred=first,
        edit=types.WorkspaceEdit(changes={snapshot.uri: [edit]}),
    )


def render_cite(
    snapshot: Snapshot, site: SentenceSite, candidate: Candidate, target: str | None
) -> types.CodeAction:
    key = candidate.paper.key
    position = snapshot.lines.position(site.insert_at)
    edit = types.TextEdit(
        range=types.Range(start=position, end=position), new_text=citation_text(key, snapshot.language)
    )
    command = None
    if target and not candidate.source:
        command = commands.add_to_bibliography_command(snapshot.uri, [key], target)
    return types.CodeAction(
        title=f"{CITE_SENTENCE}: {key} ({candidate.paper.short_title(60)})",
        kind=CITE,
        edit=types.WorkspaceEdit(changes={snapshot.uri: [edit]}),
        command=command,
    )


def _diagnostics_for(key: str, code: str, context: types.CodeActionContext) -> list[types.Diagnostic]:
    return [
        d
        for d in context.diagnostics
        if d.source == SOURCE and d.code == code and (d.data or {}).get("key") == key
    ]


async def _cite_for_sentence(
    server: PaperciteServer, snapshot: Snapshot, offset: int, bibliography: DocumentBibliography
) -> list[types.CodeAction]:
    site = sentence_at(snapshot.text, offset, snapshot.language, server.settings.context_window)
    if site is None or any(site.start <= c.start < site.end + 1 for c in snapshot.citations()):
        return []
    terms = context_terms(site.context)
    if len(terms) < _MIN_SENTENCE_TERMS:
        return []
    library = await server.library()
    ranked = await search_with_bibliography(library, bibliography, terms, SENTENCE_CANDIDATES)
    ranked = ranked[:SENTENCE_CANDIDATES]
    target = bibliography.target.path.name if bibliography.target else None
    return [render_cite(snapshot, site, candidate, target) for candidate in ranked]


def _bibliography_fixes(
    snapshot: Snapshot, bibliography: DocumentBibliography, check: CitationCheck, in_range: list[CitedKey]
) -> tuple[list[types.CodeAction], list[types.CodeAction]]:
    """(the fixes for the keys under the cursor, the fixes for the whole document)."""
    at_cursor, whole = [], []
    target = bibliography.target
    if target is not None:
        for cited in in_range:
            if cited.key in check.not_in_bibliography:
                command = commands.add_to_bibliography_command(snapshot.uri, [cited.key], target.path.name)
                at_cursor.append(types.CodeAction(title=command.title, kind=QUICKFIX, command=command))
        if len(check.not_in_bibliography) > 1 or (check.not_in_bibliography and not at_cursor):
            keys = check.not_in_bibliography
            command = commands.add_to_bibliography_command(snapshot.uri, keys, target.path.name)
            title = f"Add all missing entries to {target.path.name} ({', '.join(keys)})"
            whole.append(types.CodeAction(title=title, kind=QUICKFIX, command=command))
    elif not bibliography.resources and not bibliography.inline and snapshot.citations() and snapshot.path:
        command = commands.create_bibliography_command(snapshot.uri)
        whole.append(types.CodeAction(title=command.title, kind=QUICKFIX, command=command))
    return at_cursor, whole


def no_actions() -> list[types.CodeAction]:
    return []


@safely(no_actions)
async def code_actions(server: PaperciteServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    snapshot = server.snapshot(params.text_document.uri)
    if snapshot is None:
        return []
    only = params.context.only
    start, end = snapshot.lines.offset(params.range.start), snapshot.lines.offset(params.range.end)
    bibliography = server.bibliography(snapshot)
    cited = snapshot.citations()
    in_range = [c for c in cited if c.start <= end and start <= c.end]
    # Menus default to the first action (eglot, Neovim): what the cursor is on comes first — the fixes
    # for the key under it, else the papers for its sentence — and the whole document's fixes last.
    actions: list[types.CodeAction] = []
    whole_document: list[types.CodeAction] = []
    if wanted(QUICKFIX, only):
        check = await check_citations(server, cited, bibliography)
        for citation in in_range:
            suggestions = check.unknown.get(citation.key, [])
            linked = _diagnostics_for(citation.key, UNKNOWN_KEY, params.context)
            actions += [
                render_did_you_mean(citation, s, snapshot, linked, i == 0) for i, s in enumerate(suggestions)
            ]
        at_cursor, whole_document = _bibliography_fixes(snapshot, bibliography, check, in_range)
        actions += at_cursor
    if wanted(CITE, only) and not in_range:
        # A DOI or arXiv link under the cursor is what it is on: adding that paper comes first.
        on_link = add_paper.actions(snapshot, start, end)
        actions += on_link or await _cite_for_sentence(server, snapshot, start, bibliography)
    return actions + whole_document
