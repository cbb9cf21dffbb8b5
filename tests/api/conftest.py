from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.team_server import TeamServer, make_token


@dataclass
class Team:
    server: TeamServer
    writer: str
    reader: str

    @property
    def url(self) -> str:
        return self.server.url


def start_team(extra: tuple[str, ...] = ()) -> Team:
    home = Path(tempfile.mkdtemp(prefix="papercite-team-")) / "home"
    writer = make_token(home, "writer", write=True)
    reader = make_token(home, "reader")
    return Team(TeamServer(home, extra=extra).start(), writer, reader)


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    """One server for a module's tests; tests that write add papers of their own."""
    started = start_team(("--access-log",))
    yield started
    started.server.stop()
