"""Work-done progress (`$/progress`) for a bibliography read off the event loop: "Reading refs.bib",
then "40,000 of 100,000 entries", for clients that declare `window.workDoneProgress`."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

_TOKENS = itertools.count(1)
log = logging.getLogger("papercite.server")


def render_begin(path: Path) -> types.WorkDoneProgressBegin:
    # Not cancellable: VS Code's client then shows it in the status bar, not as a notification.
    return types.WorkDoneProgressBegin(title=f"Reading {path.name}", cancellable=False, percentage=0)


def render_report(done: int, total: int) -> types.WorkDoneProgressReport:
    percentage = done * 100 // total if total else 0
    return types.WorkDoneProgressReport(message=f"{done:,} of {total:,} entries", percentage=percentage)


class ReadingProgress:
    """One progress token per file being read; the client creates it before anything is shown."""

    def __init__(self, server: LanguageServer) -> None:
        self._server = server
        self._tokens: dict[Path, tuple[str, asyncio.Future[bool]]] = {}

    @property
    def supported(self) -> bool:
        window = getattr(self._server.client_capabilities, "window", None)
        return bool(getattr(window, "work_done_progress", False))

    def begin(self, path: Path) -> None:
        if not self.supported or path in self._tokens:
            return
        token = f"papercite/reading/{next(_TOKENS)}"
        self._tokens[path] = (token, asyncio.ensure_future(self._create(token, path)))

    async def _create(self, token: str, path: Path) -> bool:
        """Whether the client took the token (a client may refuse, or be gone)."""
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception as error:  # the editor's refusal costs only the progress bar
            log.warning("the editor did not create a progress token: %s", error)
            return False
        self._server.work_done_progress.begin(token, render_begin(path))
        return True

    def report(self, path: Path, done: int, total: int) -> None:
        token, created = self._tokens.get(path, ("", None))
        if created is not None and created.done() and created.result():
            self._server.work_done_progress.report(token, render_report(done, total))

    def end(self, path: Path) -> None:
        found = self._tokens.pop(path, None)
        if found is None:
            return
        token, created = found

        def finish(created: asyncio.Future[bool]) -> None:
            if not created.cancelled() and created.result():
                self._server.work_done_progress.end(token, types.WorkDoneProgressEnd())

        created.add_done_callback(finish)
