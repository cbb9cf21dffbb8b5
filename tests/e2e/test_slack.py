"""The real slack-bolt app over HTTP on loopback, with requests signed exactly as Slack signs them.

What the bot posts back (response_url, chat.postMessage, views.open) lands in a local fake of Slack.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REPO
from tests.e2e.fake_slack import (
    FakeSlack,
    action_body,
    command_body,
    mention_body,
    sign,
    view_submission_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def bot(slack: FakeSlack) -> Iterator[str]:
    """`papercite slack --http` on a free port; yields its base URL."""
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="papercite-slack-"))
    env = {
        **os.environ,
        "PAPERCITE_HOME": str(home),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAPERCITE_SLACK_API_URL": slack.api_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
    yield base
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr or "a /paper request failed" in stderr, stderr


@pytest.fixture(autouse=True)
def fresh_calls(slack: FakeSlack) -> None:
    slack.reset()


async def post(base: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/slack/events", data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


async def slash(base: str, slack: FakeSlack, text: str) -> dict:
    body = command_body(text, slack.response_url())
    status, _ = await post(base, body, FORM | sign(SECRET, body))
    assert status == 200
    return (await slack.wait_for("response_url"))[0].payload


async def test_health_check(bot: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{bot}/healthz") as response:
        assert response.status == 200
        assert (await response.json()) == {"ok": True, "papers": 179}


async def test_paper_query_answers_privately_with_five_results(bot: str, slack: FakeSlack) -> None:
    answer = await slash(bot, slack, "speculative decoding with a sparse KV cache")
    assert answer["response_type"] == "ephemeral"
    sections = [b for b in answer["blocks"] if b["type"] == "section"]
    assert len(sections) == 5
    assert sections[0]["text"]["text"].startswith("*TriForce: Lossless Acceleration")
    assert "*speculative*" in sections[0]["text"]["text"] or "*sparse*" in sections[0]["text"]["text"]
    actions = [b for b in answer["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["share", "bibtex", "more_like_this"]
    assert actions[-1]["elements"][0]["action_id"] == "next_page"
    # Serving commands never needed Slack's Web API: no auth.test, nothing but the answer.
    assert [c.method for c in slack.calls] == ["response_url"]


async def test_buttons_share_bibtex_more_and_next(bot: str, slack: FakeSlack) -> None:
    answer = await slash(bot, slack, "speculative decoding with a sparse KV cache")
    buttons: dict[str, str] = {}
    for block in answer["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            buttons.setdefault(element["action_id"], element["value"])  # the first result's buttons
    slack.reset()

    body = action_body("share", buttons["share"], slack.response_url("share"))
    assert (await post(bot, body, FORM | sign(SECRET, body)))[0] == 200
    posted = (await slack.wait_for("chat.postMessage"))[0].payload
    assert posted["channel"] == "C2147483705"
    posted_blocks = json.loads(posted["blocks"]) if isinstance(posted["blocks"], str) else posted["blocks"]
    assert posted_blocks[0]["text"]["text"].startswith("*TriForce")
    assert "Shared by <@U2147483697>" in posted_blocks[-1]["elements"][0]["text"]

    body = action_body("bibtex", buttons["bibtex"], slack.response_url("bibtex"))
    await post(bot, body, FORM | sign(SECRET, body))
    bibtex = (await slack.wait_for("response_url"))[0].payload
    assert bibtex["blocks"][0]["text"]["text"].startswith("```@article{triforce,")
    assert bibtex["replace_original"] is False

    slack.reset()
    body = action_body("more_like_this", buttons["more_like_this"], slack.response_url("more"))
    await post(bot, body, FORM | sign(SECRET, body))
    similar = (await slack.wait_for("response_url"))[0].payload
    similar_text = json.dumps(similar["blocks"])
    # TriForce's neighbours: speculative decoding and KV-cache papers.
    neighbours = [
        "DySpec",
        "Kangaroo",
        "Recursive Speculative Decoding",
        "H_2O",
        "KV-Cache Eviction",
        "SkipDecode",
    ]
    assert sum(name in similar_text for name in neighbours) >= 3
    assert "`triforce`" not in similar_text

    slack.reset()
    body = action_body("next_page", buttons["next_page"], slack.response_url("next"))
    await post(bot, body, FORM | sign(SECRET, body))
    page_two = (await slack.wait_for("response_url"))[0].payload
    assert page_two["replace_original"] is True
    assert page_two["blocks"][0]["elements"][0]["text"].startswith("Papers 6–10")


async def test_share_falls_back_when_the_bot_is_not_in_the_channel(bot: str, slack: FakeSlack) -> None:
    answer = await slash(bot, slack, "looped transformers reasoning")
    value = next(e["value"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"])
    slack.reset()
    slack.failures["chat.postMessage"] = "not_in_channel"
    body = action_body("share", value, slack.response_url("share"))
    await post(bot, body, FORM | sign(SECRET, body))
    shared = (await slack.wait_for("response_url"))[0].payload
    assert shared["response_type"] == "in_channel"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "*/paper* searches"),
        ("help", "*/paper* searches"),
        ("cite relay", "```@article{relay,"),
        ("show triforce", "*TriForce"),
        ("stats", "*179* papers"),
        ("cite trifroce", "No paper has the key `trifroce`. Did you mean `triforce`?"),
        ("the of and to", "no words to search for"),
        (":tada: :rocket:", "No papers match"),
        ("frobnicate widgets", "No papers match"),
    ],
)
async def test_subcommands_and_odd_queries(bot: str, slack: FakeSlack, text: str, expected: str) -> None:
    answer = await slash(bot, slack, text)
    assert expected in json.dumps(answer["blocks"], ensure_ascii=False).replace('\\"', '"')


async def test_a_huge_query_is_answered(bot: str, slack: FakeSlack) -> None:
    answer = await slash(bot, slack, "speculative decoding " * 500)
    assert len(answer["blocks"]) <= 50
    assert "TriForce" in json.dumps(answer["blocks"]) or "Speculative" in json.dumps(answer["blocks"])


async def test_add_opens_a_modal_and_the_submission_is_validated_then_stored(
    bot: str, slack: FakeSlack
) -> None:
    body = command_body("add", slack.response_url())
    assert (await post(bot, body, FORM | sign(SECRET, body)))[0] == 200
    opened = (await slack.wait_for("views.open"))[0].payload
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert opened["trigger_id"] == "13345224609.738474920.8088930838d"
    assert view["callback_id"] == "add_paper"

    bad = view_submission_body({"title": "", "year": "20x4", "link": "not a link"}, view["private_metadata"])
    status, text = await post(bot, bad, FORM | sign(SECRET, bad))
    assert status == 200
    errors = json.loads(text)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"title", "year", "link"}

    good = view_submission_body(
        {
            "title": "Photonic Annealers Fold Proteins",
            "abstract": "Quantum photonic annealing folds small proteins.",
            "authors": "Qubit, Quinn\nLaser, Lee",
            "year": "2031",
            "link": "10.5555/photonic.2031",
        },
        view["private_metadata"],
    )
    status, _ = await post(bot, good, FORM | sign(SECRET, good))
    assert status == 200
    note = (await slack.wait_for("chat.postEphemeral"))[0].payload
    assert "qubit2031photonic" in note["text"]
    answer = await slash(bot, slack, "photonic annealing protein folding")
    assert "Photonic Annealers Fold Proteins" in json.dumps(answer["blocks"])


async def test_mentions_are_answered_in_a_thread(bot: str, slack: FakeSlack) -> None:
    body = mention_body("<@U0BOT> looped transformers aligned with reasoning steps")
    status, _ = await post(bot, body, {"Content-Type": "application/json"} | sign(SECRET, body))
    assert status == 200
    posted = (await slack.wait_for("chat.postMessage"))[0].payload
    assert posted["thread_ts"] == "1700000002.000200"
    assert "RELAY" in json.dumps(posted["blocks"])


async def test_forged_and_stale_requests_are_refused(bot: str, slack: FakeSlack) -> None:
    body = command_body("relay", slack.response_url())
    forged = sign("not-the-secret", body)
    assert (await post(bot, body, FORM | forged))[0] == 401
    stale = sign(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    assert (await post(bot, body, FORM | stale))[0] == 401
    tampered = sign(SECRET, body)
    assert (await post(bot, body.replace("relay", "other"), FORM | tampered))[0] == 401
    assert slack.calls == []
