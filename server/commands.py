"""Commands that write a document's bibliography: add entries to its .bib, or create one and wire it in.

A file open in the editor is changed through the editor (a workspace edit), so nothing typed there
is lost; any other file is changed on disk by an atomic append that keeps its encoding.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from lsprotocol import types

from core.bibfile import append_entries, appended_text, newline_of
from core.documents import syntax
from core.export import to_bibtex
from core.records import PaperciteError
from server import diagnostics
from server.confinement import confined
from server.positions import LineIndex
from server.server import PaperciteServer, Snapshot, uri_of

ADD_TO_BIBLIOGRAPHY = "papercite.addToBibliography"
CREATE_BIBLIOGRAPHY = "papercite.createBibliography"
COMMANDS = [ADD_TO_BIBLIOGRAPHY, CREATE_BIBLIOGRAPHY]
NEW_BIBLIOGRAPHY = "references.bib"

_BIBLATEX = re.compile(r"\\usepackage\s*(?:\[[^\]]*\])?\s*\{[^}]*\bbiblatex\b")
_BEGIN_DOCUMENT = re.compile(r"(?m)^[ \t]*\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"(?m)^[ \t]*\\end\s*\{document\}")
_FRONT_MATTER_OPEN = re.compile(r"\A---[ \t]*\r?\n")


def add_to_bibliography_command(uri: str, keys: list[str], file_name: str) -> types.Command:
    what = keys[0] if len(keys) == 1 else f"{len(keys)} entries"
    return types.Command(
        title=f"Add {what} to {file_name}", command=ADD_TO_BIBLIOGRAPHY, arguments=[uri, keys]
    )


def create_bibliography_command(uri: str) -> types.Command:
    return types.Command(
        title=f"Create {NEW_BIBLIOGRAPHY} with the cited papers and use it",
        command=CREATE_BIBLIOGRAPHY,
        arguments=[uri],
    )


def bibliography_wiring(text: str, language: str, file_name: str) -> tuple[int, str]:
    """Where and what to insert so the document uses `file_name` as its bibliography."""
    newline = newline_of(text)
    if language == syntax.LATEX:
        if _BIBLATEX.search(text):
            begin = _BEGIN_DOCUMENT.search(text)
            insert = f"\\addbibresource{{{file_name}}}\n"
            return (begin.start() if begin else 0), insert.replace("\n", newline)
        insert = "" if "\\bibliographystyle" in text else "\\bibliographystyle{plain}\n"
        insert += f"\\bibliography{{{Path(file_name).stem}}}\n"
        end = _END_DOCUMENT.search(text)
        if end:
            return end.start(), insert.replace("\n", newline)
        lead = "" if not text or text.endswith("\n") else "\n"
        return len(text), (lead + insert).replace("\n", newline)
    front = _FRONT_MATTER_OPEN.match(text)
    if front:
        return front.end(), f"bibliography: {file_name}\n".replace("\n", newline)
    return 0, f"---\nbibliography: {file_name}\n---\n\n".replace("\n", newline)


async def execute(server: PaperciteServer, command: str, arguments: list[Any]) -> Any:
    """Run one of COMMANDS; a PaperciteError reaches the caller, who tells the user."""
    if command == ADD_TO_BIBLIOGRAPHY and len(arguments) == 2 and isinstance(arguments[1], list):
        return await add_to_bibliography(
            server, snapshot_of(server, arguments[0]), [str(k) for k in arguments[1]]
        )
    if command == CREATE_BIBLIOGRAPHY and len(arguments) == 1:
        return await create_bibliography(server, snapshot_of(server, arguments[0]))
    raise PaperciteError(f"unknown command or arguments: {command} {arguments!r}")


def snapshot_of(server: PaperciteServer, uri: object) -> Snapshot:
    """The open document a command names, or a PaperciteError saying it is not one."""
    snapshot = server.snapshot(str(uri))
    if snapshot is None:
        raise PaperciteError(f"{uri} is not a document papercite serves")
    return snapshot


# A message shown to the user: errors may quote what the editor sent (a command's arguments, an
# identifier), which a client can make a megabyte long.
MAX_MESSAGE_CHARS = 500


def tell(server: PaperciteServer, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    server.window_show_message(types.ShowMessageParams(type=kind, message=message))


async def add_to_bibliography(server: PaperciteServer, snapshot: Snapshot, keys: list[str]) -> dict[str, Any]:
    """Write the entries of `keys` the bibliography lacks into its first .bib; each key only once."""
    bibliography = await server.bibliography_read(snapshot)  # what the file holds now, all of it
    target = bibliography.target
    if target is None:
        raise PaperciteError(
            "the document names no .bib file to add entries to; "
            f"the code action 'Create {NEW_BIBLIOGRAPHY}' makes one"
        )
    path = confined(target.path, server.writable_roots(snapshot))
    wanted = [key for key in keys if key not in bibliography.keys]
    added = await _write_papers(server, path, wanted)
    return {"file": str(path), "added": added}


async def create_bibliography(server: PaperciteServer, snapshot: Snapshot) -> dict[str, Any]:
    """A new references.bib beside the document with every cited paper the index knows, wired in."""
    if snapshot.path is None:
        raise PaperciteError("only a document saved as a file can have a bibliography file beside it")
    if server.resources(snapshot):  # named by the document or its project: add to it instead
        cited = [c.key for c in snapshot.citations()]
        return await add_to_bibliography(server, snapshot, cited)
    path = confined(snapshot.path.parent / NEW_BIBLIOGRAPHY, server.writable_roots(snapshot))
    added = await _write_papers(server, path, [c.key for c in snapshot.citations()], announce=False)
    offset, insert = bibliography_wiring(snapshot.text, snapshot.language, NEW_BIBLIOGRAPHY)
    position = snapshot.lines.position(offset)
    edit = types.TextEdit(range=types.Range(start=position, end=position), new_text=insert)
    await apply_edits(server, snapshot.uri, snapshot.version, [edit])
    tell(
        server,
        f"papercite: created {NEW_BIBLIOGRAPHY} with {len(added)} entries and added it to the document",
    )
    return {"file": str(path), "added": added}


async def _write_papers(
    server: PaperciteServer, path: Path, keys: list[str], *, announce: bool = True
) -> list[str]:
    """Append the entries of those `keys` the index knows and the file does not define yet."""
    library = await server.library()
    keys = list(dict.fromkeys(keys))
    if path.exists() or server.editor_text(path) is not None:
        keys = [key for key in keys if key not in (await server.bibliographies.read(path)).keys]
    papers = await library.get_many(keys)
    added = [key for key in keys if key in papers]
    if added:
        await _write_entries(server, path, [to_bibtex(papers[key]) for key in added])
    elif announce:
        tell(server, f"papercite: {path.name} already has every entry papercite knows of these keys")
    if added and announce:
        tell(server, f"papercite: added {', '.join(added)} to {path.name}")
    diagnostics.schedule_all(server, delay=0)
    return added


async def _write_entries(server: PaperciteServer, path: Path, entries: list[str]) -> None:
    in_editor = server.editor_text(path)
    if in_editor is None:
        await asyncio.to_thread(append_entries, path, entries)
        return
    version, text = in_editor
    uri = uri_of(path)
    document = server.workspace.get_text_document(uri)
    encoding = getattr(document.position_codec.encoding, "value", "utf-16")
    end = LineIndex(text, encoding).position(len(text))
    insertion = appended_text(text, entries, newline_of(text))
    await apply_edits(
        server, uri, version, [types.TextEdit(range=types.Range(start=end, end=end), new_text=insertion)]
    )


async def apply_edits(
    server: PaperciteServer, uri: str, version: int | None, edits: list[types.TextEdit]
) -> None:
    """Change an open document through the editor; the version guards against a stale edit."""
    capabilities = server.client_capabilities.workspace
    edit_support = capabilities.workspace_edit if capabilities else None
    if edit_support and edit_support.document_changes:
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        edit = types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(text_document=identifier, edits=edits)]
        )
    else:
        edit = types.WorkspaceEdit(changes={uri: edits})
    result = await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label="papercite: bibliography")
    )
    if not result.applied:
        raise PaperciteError(
            f"the editor did not apply the change to {uri}: {result.failure_reason or 'no reason given'}"
        )
