"""Wiring: one place registers every feature on the server, and `serve` runs it."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from core.documents.syntax import LATEX_TRIGGERS, MARKDOWN_TRIGGERS
from core.records import PaperciteError
from server import (
    code_actions,
    completion,
    definition,
    diagnostics,
    execute_command,
    hover,
    references,
    symbols,
)
from server.bibliography import BIBLIOGRAPHY_SUFFIXES
from server.positions import QuickPositionCodec
from server.protocol import ClientErrorsInOneLine, PaperciteProtocol
from server.server import PaperciteServer, ShuttingDown, log
from server.settings import SECTION
from server.transport import serve_stdio, serve_tcp


def build_server(home: Path | str | None = None) -> PaperciteServer:
    server = PaperciteServer(home)
    # A server's index changed (a colleague's papers) or came back: diagnose the open documents again.
    server.on_library_change = lambda: diagnostics.schedule_all(server, delay=0)  # type: ignore[method-assign]
    # A big bibliography file's reading landed: its entries are no longer unknown keys.
    server.on_bibliography_read = lambda path: diagnostics.schedule_all(server, delay=0)  # type: ignore[method-assign]

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: PaperciteServer, params: types.InitializeParams) -> None:
        # pygls has just made the workspace; documents take its codec when they open.
        ls.workspace._position_codec = QuickPositionCodec(ls.workspace.position_encoding)
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: PaperciteServer, params: types.InitializedParams) -> None:
        await refresh_configuration(ls)
        if ls.shut_down:  # the editor gave up before we were ready
            return
        try:
            await ls.library()  # open (and seed, on first use) before the first keystroke
        except ShuttingDown:  # the editor shut down while the index opened: nothing went wrong
            return
        except PaperciteError as error:  # a home that is a file, a store another process holds…
            message = f"papercite cannot open its index: {error}"
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))
        if not ls.shut_down:
            ls.watcher = asyncio.ensure_future(diagnostics.watch_bibliographies(ls))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(ls: PaperciteServer, params: types.DidChangeConfigurationParams) -> None:
        if params.settings:
            ls.apply_settings(params.settings)
        else:
            await refresh_configuration(ls)
        for uri in list(ls.workspace.text_documents):
            diagnostics.schedule(ls, uri)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(
            trigger_characters=sorted(set(LATEX_TRIGGERS + MARKDOWN_TRIGGERS)), resolve_provider=True
        ),
    )
    async def on_completion(ls: PaperciteServer, params: types.CompletionParams) -> types.CompletionList:
        return await completion.complete(ls, params)

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    async def on_resolve(ls: PaperciteServer, item: types.CompletionItem) -> types.CompletionItem:
        return await completion.resolve(ls, item)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: PaperciteServer, params: types.HoverParams) -> types.Hover | None:
        return await hover.hover(ls, params)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(ls: PaperciteServer, params: types.DefinitionParams) -> list[types.Location]:
        return await definition.definition(ls, params)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def on_references(ls: PaperciteServer, params: types.ReferenceParams) -> list[types.Location]:
        return await references.references(ls, params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[code_actions.QUICKFIX, code_actions.CITE]),
    )
    async def on_code_action(ls: PaperciteServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return await code_actions.code_actions(ls, params)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def on_workspace_symbol(
        ls: PaperciteServer, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation]:
        return await symbols.workspace_symbols(ls, params)

    for name in execute_command.COMMANDS:
        register_command(server, name)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: PaperciteServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)  # a document reopened starts again at its first version
        changed(ls, params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: PaperciteServer, params: types.DidChangeTextDocumentParams) -> None:
        changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: PaperciteServer, params: types.DidSaveTextDocumentParams) -> None:
        changed(ls, params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: PaperciteServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls.pending_diagnostics.pop(uri, None)
        if pending:
            pending.cancel()
        ls.forget(uri)
        ls.bibliography_seen.pop(uri, None)
        # A bibliography no open document uses any more is read again (and indexed) if one does.
        used = {
            r.path for snapshot in ls.open_snapshots() if snapshot.uri != uri for r in ls.resources(snapshot)
        }
        ls.bibliographies.forget(used)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: PaperciteServer, params: None) -> None:
        await ls.shut_down_now()

    return server


def register_command(server: PaperciteServer, name: str) -> None:
    @server.command(name)
    async def on_command(ls: PaperciteServer, *arguments: Any) -> object:
        return await execute_command.execute(ls, name, list(arguments))


def changed(ls: PaperciteServer, uri: str, delay: float = diagnostics.DEBOUNCE_SECONDS) -> None:
    """A document opened or changed: diagnose it; a bibliography file: the documents that use it
    (which shows its own problems), and a .bib's problems even if no open document uses it."""
    if ls.snapshot(uri) is not None:
        diagnostics.schedule(ls, uri, delay=delay)
        return
    path = to_fs_path(uri)
    if path and path.lower().endswith(".bib"):
        pending = ls.pending_diagnostics.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.pending_diagnostics[uri] = asyncio.ensure_future(
            diagnostics.publish_file_when_read(ls, Path(path))
        )
    if path and path.lower().endswith(BIBLIOGRAPHY_SUFFIXES):
        diagnostics.schedule_all(ls, delay=delay)


async def refresh_configuration(ls: PaperciteServer) -> None:
    """Ask the client for the `papercite` section, if it can answer."""
    capabilities = ls.client_capabilities
    if not (capabilities and capabilities.workspace and capabilities.workspace.configuration):
        return
    try:
        values = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
    except Exception:
        log.warning("the client did not answer workspace/configuration", exc_info=True)
        return
    if values and values[0] is not None:
        ls.apply_settings(values[0])


def serve(home: Path | str | None, tcp: str | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="papercite: %(levelname)s %(message)s"
    )
    log.setLevel(logging.INFO)  # ours, not pygls's message-by-message trace
    logging.getLogger("pygls.protocol.json_rpc").addFilter(ClientErrorsInOneLine())
    try:
        if tcp:
            host, _, port = tcp.rpartition(":")
            if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
                raise PaperciteError(f"--tcp wants HOST:PORT with a port number, not {tcp!r}")
            try:
                asyncio.run(serve_tcp(host or "127.0.0.1", int(port), lambda: session(home)))
            except OSError as error:
                raise PaperciteError(f"cannot listen on {tcp}: {error.strerror or error}") from error
            return 0
        return serve_stdio(*session(home))
    except KeyboardInterrupt:
        return 1


def session(home: Path | str | None) -> tuple[PaperciteProtocol, Callable[[], Awaitable[None]]]:
    """A fresh server for one client: its protocol, and what closes it when the client is gone."""
    server = build_server(home)
    return server.protocol, server.shut_down_now
