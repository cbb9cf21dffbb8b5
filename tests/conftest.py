from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from core.library import Library
from tests.e2e.fake_slack import FakeSlack

if TYPE_CHECKING:
    from tests.postgres import Cluster

# The property tests draw the same examples on every run of the test command, so a red run is
# reproducible and a green one stays green; `pytest --hypothesis-profile=explore` draws new ones to
# look for new failures (keep each one found as an @example).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
DEV_SENTENCES = DATA / "eval" / "citing-sentences-dev.jsonl"
ACMCR_SAMPLE = DATA / "acm-cr-sample"


def sentence_files() -> list[Path]:
    """The development half always; a held-out half too when PAPERCITE_HELDOUT_SENTENCES names it."""
    held_out = os.environ.get("PAPERCITE_HELDOUT_SENTENCES")
    return [DEV_SENTENCES, *([Path(held_out)] if held_out else [])]


def free_port() -> int:
    """A loopback port no one listens on (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    """Slack's Web API on loopback, for the bot to post to."""
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole run (tests/postgres.py); each test takes its
    own database in it."""
    from tests.postgres import Cluster

    cluster = Cluster()
    yield cluster
    cluster.close()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """A new, empty database's URL."""
    return postgres_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """Each store test runs twice: over the home's SQLite file (None) and over a new PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def backend(store_url: str | None, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The store every papercite of the test opens: the home's SQLite file, or `store_url`'s database
    (a module runs its tests on both with `pytestmark = pytest.mark.usefixtures("backend")`)."""
    if store_url is None:
        monkeypatch.delenv("PAPERCITE_STORE", raising=False)
    else:
        monkeypatch.setenv("PAPERCITE_STORE", store_url)
    return store_url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
async def library(home: Path) -> AsyncIterator[Library]:
    lib = await Library.open(home)
    yield lib
    await lib.close()


def run_cli(
    home: str | Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = 60,
    variables: Mapping[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`papercite …` in a subprocess, with its own home (a folder or a server's URL), and
    `variables` set in its environment (None: removed from it)."""
    env = {**os.environ, "PAPERCITE_HOME": str(home), "PYTHONUTF8": "1"}
    for name, value in (variables or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )
