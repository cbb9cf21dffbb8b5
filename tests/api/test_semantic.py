"""A team server's searches fused with its own sentence vectors, and the fields that steer it."""

from __future__ import annotations

import aiohttp

from tests.api.conftest import Team
from tests.core.test_semantic import PARAPHRASE

TERMS = {"machin": 1.0, "pick": 1.0, "unfamiliar": 1.0, "object": 1.0, "feel": 1.0}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _hits(http: aiohttp.ClientSession, team: Team, body: dict[str, object]) -> list[dict[str, object]]:
    async with http.post(f"{team.url}/v1/search", json=body, headers=bearer(team.reader)) as answer:
        assert answer.status == 200, await answer.text()
        return list((await answer.json())["hits"])


async def test_semantic_and_meaning_steer_the_ranking(team: Team) -> None:
    query = "speculative decoding with a sparse KV cache"
    async with aiohttp.ClientSession() as http:
        fused = await _hits(http, team, {"query": query, "k": 3})
        plain = await _hits(http, team, {"query": query, "k": 3, "semantic": False})
        assert 0 < float(fused[0]["score"]) <= 1 < float(plain[0]["score"])  # type: ignore[arg-type]
        # Weighted terms alone rank by BM25; with a `meaning` they are fused.
        by_terms = await _hits(http, team, {"terms": TERMS, "k": 3})
        with_meaning = await _hits(http, team, {"terms": TERMS, "k": 3, "meaning": PARAPHRASE})
        assert float(by_terms[0]["score"]) > 1 >= float(with_meaning[0]["score"])  # type: ignore[arg-type]


async def test_bad_semantic_fields_get_400(team: Team) -> None:
    async with aiohttp.ClientSession() as http:
        for body, words in [
            ({"query": "decoding", "semantic": "yes"}, "'semantic' must be true or false"),
            ({"query": "decoding", "meaning": 5}, "'meaning' must be text"),
            ({"query": "decoding", "meaning": "x" * 100_001}, "'meaning' may hold at most"),
        ]:
            async with http.post(f"{team.url}/v1/search", json=body, headers=bearer(team.reader)) as answer:
                assert answer.status == 400
                assert words in (await answer.json())["error"]


async def test_an_editor_gets_the_servers_sentence_similarities(team: Team) -> None:
    body = {
        "text": "hierarchical speculative decoding with a sparse KV cache",
        "keys": ["triforce", "relay", "nope"],
    }
    async with aiohttp.ClientSession() as http:
        found = None
        for _ in range(100):  # null until the server's model has loaded and the vector is made
            async with http.post(
                f"{team.url}/v1/similarities", json={**body, "wait": 0.2}, headers=bearer(team.reader)
            ) as answer:
                assert answer.status == 200, await answer.text()
                found = (await answer.json())["similarities"]
            if found is not None:
                break
        assert found is not None and set(found) == {"triforce", "relay"}
        assert found["triforce"] > found["relay"]
        for bad, words in [
            ({"text": 5, "keys": []}, "'text' must be text"),
            ({"text": "x" * 100_001, "keys": []}, "'text' must be text of at most"),
            ({"text": "x", "keys": "triforce"}, "'keys' must be a list of keys"),
            ({"text": "x", "keys": [], "wait": 5}, "'wait' must be a number of seconds from 0 to 0.2"),
            ({"text": "x", "keys": [], "wait": True}, "'wait' must be a number"),
        ]:
            async with http.post(
                f"{team.url}/v1/similarities", json=bad, headers=bearer(team.reader)
            ) as answer:
                assert answer.status == 400
                assert words in (await answer.json())["error"]
