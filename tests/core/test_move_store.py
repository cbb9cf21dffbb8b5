"""`papercite migrate --to postgresql://…`: a folder home moved into an empty PostgreSQL store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

from core import follows
from core.library import Library
from core.records import Paper
from core.tokens import create_token, token_check
from tests.conftest import run_cli
from tests.postgres import PASSWORD

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)


async def test_a_folder_moves_with_its_keys_provenance_tokens_and_marks(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = tmp_path / "folder"
    async with await Library.open(folder, store=None) as library:
        await library.ingest([DATA / "broken.bib"])
        await library.add_papers(
            [Paper(key="", title="A Harvested Paper", year=2024, origin="oai:1", format="arxiv")],
            meta={"harvest:arxiv:cs": json.dumps({"token": "resume-here"})},
        )
        await library.remove(["triforce"])
        token = create_token(library.store.location, "ops", write=True)
        followed = await follows.add_follow(library, "C1", query="citation recommendation", now=NOW)
        arrived = await follows.arrival_head(library)
        before = {key: paper async for key, paper in _papers(library)}
        formats = (await library.stats())["formats"]

    moved = run_cli(folder, "migrate", "--to", postgres_url, "--json", variables={"PAPERCITE_STORE": None})
    assert moved.returncode == 0, moved.stderr
    counts = json.loads(moved.stdout)
    assert counts["papers"] == len(before) and counts["tokens"] == 1 and counts["marks"] == 1

    async with await Library.open(tmp_path / "node", store=postgres_url) as node:
        after = {key: paper async for key, paper in _papers(node)}
        assert after == before  # every key and record as it was (the removed paper stays removed)
        assert (await node.stats())["formats"] == formats
        assert json.loads(await node.store.get_meta("harvest:arxiv:cs") or "{}") == {"token": "resume-here"}
        assert node.index.num_docs == len(before)
        # Slack's follows come along, and papers arriving after the move number on from the folder's.
        assert await follows.follows(node, "C1") == [followed]
        assert await follows.arrival_head(node) == arrived
        await node.add_papers([Paper(key="", title="Arrived After The Move", year=2026)])
        assert await follows.arrival_head(node) == arrived + 1
        hits = await node.search("manually annotated citation recommendation collection", 1)
        assert hits[0].key == "boudin2021acm"
    check = token_check(postgres_url)
    try:
        granted = check.token(token)
        assert granted is not None and granted.name == "ops" and granted.can_write
    finally:
        check.close()

    # A database holding papers is refused, by name and without the password; --replace empties it.
    again = run_cli(folder, "migrate", "--to", postgres_url, variables={"PAPERCITE_STORE": None})
    assert again.returncode == 1
    assert "already holds" in again.stderr and "--replace" in again.stderr and PASSWORD not in again.stderr
    replaced = run_cli(
        folder, "migrate", "--to", postgres_url, "--replace", variables={"PAPERCITE_STORE": None}
    )
    assert replaced.returncode == 0, replaced.stderr
    assert PASSWORD not in replaced.stdout
    async with await Library.open(tmp_path / "node2", store=postgres_url) as node:
        assert await node.count() == len(before)


async def _papers(library: Library) -> AsyncIterator[tuple[str, Paper]]:
    async for batch in library.store.iter_papers():
        for paper in batch:
            yield paper.key, paper


async def test_follows_move_with_what_their_digests_would_bring(tmp_path: Path, postgres_url: str) -> None:
    import datetime as dt

    from core import follows
    from core.digests import channel_digest

    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
    spec = [
        Paper(
            key="",
            title=f"Speculative decoding with draft trees {name}",
            abstract="Speculative decoding: a draft model proposes tokens the target model verifies.",
            authors=("Doe, Jane",),
            year=2026,
            origin=f"test:{name}",
            format="test",
        )
        for name in ("one", "two", "three")
    ]
    folder = tmp_path / "folder"
    async with await Library.open(folder, store=None) as library:
        await library.add_papers(spec[:1])
        await follows.remember_channel_papers(library, "C2", ["triforce"], "shared")
        await follows.add_follow(library, "C1", query="speculative decoding", now=now)
        await library.add_papers(spec[1:])
        (follow,) = await follows.follows(library, "C1")
        before = await channel_digest(library, "C1", [follow])
        assert sorted(hit.paper.title for part in before.parts for hit in part.hits) == sorted(
            p.title for p in spec[1:]
        )
        await follows.record_digest(library, "C1", [follow], [before.keys[0]], follow.last_arrival, now)

    moved = run_cli(folder, "migrate", "--to", postgres_url, variables={"PAPERCITE_STORE": None})
    assert moved.returncode == 0, moved.stderr

    async with await Library.open(tmp_path / "node", store=postgres_url) as node:
        (follow,) = await follows.follows(node, "C1")
        assert follow.query == "speculative decoding"
        assert await follows.channel_papers(node, "C2") == ["triforce"]
        after = await channel_digest(node, "C1", [follow])
        # The paper already shown stays shown; the other new one is still new, and only it.
        assert [hit.paper.key for part in after.parts for hit in part.hits] == before.keys[1:]
        await node.add_papers(
            [spec[0].replace(title="Speculative decoding, a fourth draft tree", origin="test:four")]
        )
        newest = await channel_digest(node, "C1", [follow])
        assert len(newest.keys) == 2

    # Moved again over it (--replace): the digest still brings the same papers.
    again = run_cli(folder, "migrate", "--to", postgres_url, "--replace", variables={"PAPERCITE_STORE": None})
    assert again.returncode == 0, again.stderr
    async with await Library.open(tmp_path / "node", store=postgres_url) as node:
        (follow,) = await follows.follows(node, "C1")
        after = await channel_digest(node, "C1", [follow])
        assert [hit.paper.key for part in after.parts for hit in part.hits] == before.keys[1:]
