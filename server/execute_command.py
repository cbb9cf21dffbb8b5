"""workspace/executeCommand: papercite's commands, each run by the module that owns it.

A command's own errors (PaperciteError) are told to the user as a warning; anything else is logged
with its traceback and told as a failure. The answer is then None, never an error reply.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from core.records import PaperciteError
from server import add_paper, commands, paper_commands
from server.server import PaperciteServer, log

COMMANDS = [*commands.COMMANDS, *paper_commands.COMMANDS, add_paper.ADD_PAPER_AND_CITE]


async def execute(server: PaperciteServer, command: str, arguments: list[Any]) -> Any:
    try:
        if command in paper_commands.COMMANDS:
            return await paper_commands.execute(server, command, arguments)
        if command == add_paper.ADD_PAPER_AND_CITE:
            return await add_paper.execute(server, arguments)
        return await commands.execute(server, command, arguments)
    except PaperciteError as error:
        log.warning("%s: %s", command, error)
        commands.tell(server, f"papercite: {error}", types.MessageType.Warning)
    except Exception as error:
        log.error("%s failed", command, exc_info=True)
        commands.tell(server, f"papercite: {command} failed: {error}", types.MessageType.Error)
    return None
