"""The CLI with a server's URL as its home behaves as with a folder."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from core.remote import RemoteLibrary, open_library
from tests.api.conftest import Team
from tests.conftest import REPO, run_cli
from tests.fakes.sources import FakeSources, synthetic_oai_records
from tests.fakes.zotero import ZoteroDatabase

DATA = REPO / "tests" / "core" / "data"


def cli(
    home: str | Path, *args: str, token: str | None = None, cache: Path | None = None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`papercite …` with `token` as its only token and, with `cache`, the client's cache of the
    server (platformdirs' user cache folder) there."""
    chosen: dict[str, str | None] = {**variables, "PAPERCITE_TOKEN": token}
    if cache is not None:
        chosen["XDG_CACHE_HOME"] = str(cache)
    return run_cli(home, *args, variables=chosen)


def test_search_show_and_stats_through_the_server_match_the_folder(team: Team) -> None:
    folder = team.server.home
    for args in [
        ("search", "--json", "speculative decoding with a sparse KV cache", "-k", "5"),
        ("search", "--json", "attention", "--year-from", "2020", "--author", "a"),
        ("show", "triforce", "--bibtex"),
        ("show", "triforce", "--json"),
    ]:
        local, remote = cli(folder, *args), cli(team.url, *args, token=team.reader)
        assert remote.returncode == 0, remote.stderr
        assert remote.stdout == local.stdout, args
    batch = cli(team.url, "search", "--json", "-", token=team.reader)
    assert batch.returncode == 0
    local_stats = json.loads(cli(folder, "stats", "--json").stdout)
    remote_stats = json.loads(cli(team.url, "stats", "--json", token=team.reader).stdout)
    assert remote_stats["home"] == team.url
    assert {k: v for k, v in remote_stats.items() if k != "home"} == {
        k: v for k, v in local_stats.items() if k not in ("home",)
    }
    # An unknown key is the same clear error.
    local, remote = cli(folder, "show", "triforc"), cli(team.url, "show", "triforc", token=team.reader)
    assert (remote.returncode, remote.stderr) == (local.returncode, local.stderr) == (1, local.stderr)
    assert "did you mean triforce" in remote.stderr


def test_ingest_uploads_and_reports_as_a_folder_does_and_a_read_token_is_refused(team: Team) -> None:
    refused = cli(team.url, "ingest", str(DATA / "zotero.json"), token=team.reader)
    assert refused.returncode == 1
    assert "--write" in refused.stderr and team.url in refused.stderr
    done = cli(team.url, "ingest", str(DATA / "broken.bib"), str(DATA / "zotero.json"), token=team.writer)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("added ")
    assert "failed 2" in done.stdout
    # Failures are named by the client's own file names and lines.
    assert f"{DATA / 'broken.bib'}:12: Unexpected block start" in done.stderr
    again = cli(team.url, "ingest", "--json", str(DATA / "zotero.json"), token=team.writer)
    assert json.loads(again.stdout)["added"] == 0
    missing = cli(team.url, "remove", "no-such-key", token=team.writer)
    assert missing.returncode == 1 and "no paper with key 'no-such-key'" in missing.stderr


def test_a_zotero_library_goes_to_the_server_and_then_only_what_changed(team: Team, tmp_path: Path) -> None:
    zotero = ZoteroDatabase(tmp_path / "zotero.sqlite")
    zotero.add_item(
        "journalArticle", {"title": "Shared Libraries of a Lab", "abstractNote": "Teams pool papers."}
    )
    changing = zotero.add_item(
        "preprint", {"title": "Citation Servers", "abstractNote": "One index for a team."}
    )

    def ingest(token: str) -> subprocess.CompletedProcess[str]:
        return cli(team.url, "ingest", "--json", "--zotero", str(zotero.path), token=token, cache=tmp_path)

    refused = ingest(team.reader)
    assert refused.returncode == 1 and "--write" in refused.stderr
    first = json.loads(ingest(team.writer).stdout)
    assert (first["read"], first["added"]) == (2, 2)
    hits = json.loads(cli(team.url, "search", "--json", "one index for a team", token=team.reader).stdout)
    assert hits[0]["title"] == "Citation Servers"
    assert json.loads(ingest(team.writer).stdout)["read"] == 0
    zotero.set_field(changing, "abstractNote", "One index for a whole team, served.")
    assert json.loads(ingest(team.writer).stdout) | {"zotero": ""} == {
        "zotero": "", "read": 1, "since": "2024-01-01 10:00:00", "added": 0, "updated": 1, "unchanged": 0,
        "removed": [],
    }  # fmt: skip
    zotero.close()


def test_a_harvest_goes_to_the_server_and_the_next_run_takes_only_what_is_new(
    team: Team, tmp_path: Path
) -> None:
    with FakeSources() as fake:
        fake.oai = synthetic_oai_records(250, per_day=100)  # 2024-01-01 … 2024-01-03

        def harvest(token: str) -> subprocess.CompletedProcess[str]:
            variables = fake.env() | {"PAPERCITE_ARXIV_INTERVAL": "0"}
            return cli(
                team.url,
                "harvest",
                "arxiv",
                "--set",
                "cs",
                "--json",
                token=token,
                cache=tmp_path,
                **variables,
            )

        refused = harvest(team.reader)
        assert refused.returncode == 1 and "--write" in refused.stderr
        before = json.loads(cli(team.url, "stats", "--json", token=team.reader).stdout)["papers"]
        first = json.loads(harvest(team.writer).stdout)
        assert (first["added"], first["complete"]) == (250, True)
        assert (
            json.loads(cli(team.url, "stats", "--json", token=team.reader).stdout)["papers"] == before + 250
        )
        second = json.loads(harvest(team.writer).stdout)
        # The mark kept beside the server: from the last day on (inclusive), not from the start.
        assert fake.served("oai")[-1].query["from"] == "2024-01-03"
        assert (second["added"], second["unchanged"]) == (0, 50)


def test_without_a_token_or_a_server_the_cli_says_what_to_do(team: Team) -> None:
    anonymous = cli(team.url, "stats")
    assert anonymous.returncode == 1
    assert "PAPERCITE_TOKEN" in anonymous.stderr and "papercite token create" in anonymous.stderr
    from tests.team_server import free_port

    gone = cli(f"http://127.0.0.1:{free_port()}", "stats", token=team.reader)
    assert gone.returncode == 1
    assert "cannot reach the papercite server at http://127.0.0.1:" in gone.stderr
    assert "Traceback" not in gone.stderr


def test_serve_and_token_refuse_a_url_home(team: Team) -> None:
    done = cli(team.url, "token", "list")
    assert done.returncode == 2 and "the server's own folder" in done.stderr


async def test_concurrent_clients_all_get_answers_while_one_writes(team: Team) -> None:
    readers = [RemoteLibrary(team.url, team.reader) for _ in range(20)]
    writer = await open_library(team.url, token=team.writer)
    queries = ["sparse attention", "speculative decoding", "retrieval augmented generation", "kv cache"]

    async def read(library: RemoteLibrary, n: int) -> list[str]:
        firsts = []
        for i in range(10):
            hits = await library.search(queries[(n + i) % len(queries)], 5)
            firsts.append(hits[0].key)
        return firsts

    async def write() -> int:
        from core.records import Paper

        added = 0
        for i in range(5):
            report = await writer.add_papers(
                [Paper(key="", title=f"Concurrent Paper Number {i} on Glacier Moraines")]
            )
            added += len(report.added)
        return added

    try:
        results = await asyncio.gather(write(), *(read(lib, n) for n, lib in enumerate(readers)))
    finally:
        await asyncio.gather(writer.close(), *(lib.close() for lib in readers))
    assert results[0] == 5
    expected = {q: (await _first(team, q)) for q in queries}
    for n, firsts in enumerate(results[1:]):
        assert firsts == [expected[queries[(n + i) % len(queries)]] for i in range(10)]


async def _first(team: Team, query: str) -> str:
    async with RemoteLibrary(team.url, team.reader) as library:
        return (await library.search(query, 1))[0].key


async def test_a_key_with_a_slash_is_shown_through_the_server(team: Team) -> None:
    from core.records import Paper

    async with RemoteLibrary(team.url, team.writer) as library:
        report = await library.add_papers([Paper(key="10.1145/slashed", title="A Key With a Slash in It")])
        assert report.added == ["10.1145/slashed"]
        assert (await library.get("10.1145/slashed")).title == "A Key With a Slash in It"


def test_papercite_add_through_the_server(team: Team, tmp_path: Path) -> None:
    """`papercite add` with a URL home: the member's machine looks the identifiers up (local fakes of
    Crossref and arXiv here), the server stores them and says under which keys."""
    from tests.fakes.sources import FakeSources

    with FakeSources.with_samples() as sources:
        env = {**sources.env(), "PAPERCITE_ARXIV_INTERVAL": "0.05", "XDG_CACHE_HOME": str(tmp_path)}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "core.cli",
                "--home",
                team.url,
                "add",
                "--json",
                "10.1145/3404835.3463238",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **env, "PAPERCITE_TOKEN": team.writer},
            cwd=REPO,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    (paper,) = json.loads(done.stdout)["papers"]
    assert paper["title"].startswith("Pyserini") and paper["status"] == "added"
    shown = cli(team.url, "show", paper["key"], "--json", token=team.reader)
    assert json.loads(shown.stdout)["doi"] == "10.1145/3404835.3463238"
