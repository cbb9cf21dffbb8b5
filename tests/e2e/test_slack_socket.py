"""`papercite slack --socket`, the manifest's default, end to end and offline.

The real process gets its WebSocket URL from the local fake's `apps.connections.open` (its Web API base
pointed there by PAPERCITE_SLACK_API_URL) and is sent Slack's Socket Mode envelopes over it; what it
answers lands in the same fake, as in the HTTP tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.fake_slack import (
    action_payload,
    command_fields,
    mention_body,
    message_body,
    view_submission_payload,
)
from tests.e2e.fake_socket import FakeSocketSlack
from tests.fakes.sources import FakeSources

APP_TOKEN = "xapp-1-A123456-1-fake"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSocketSlack]:
    fake = FakeSocketSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def bot(slack: FakeSocketSlack, sources: FakeSources) -> Iterator[subprocess.Popen[str]]:
    home = Path(tempfile.mkdtemp(prefix="papercite-socket-"))
    env = {
        **os.environ,
        "PAPERCITE_HOME": str(home),
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAPERCITE_SLACK_API_URL": slack.api_url,
        **sources.env(),
        "PAPERCITE_ARXIV_INTERVAL": "0",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "slack", "--socket"], cwd=REPO, env=env, stderr=log, text=True
        )
        yield process
        process.terminate()
        process.communicate(timeout=10)
        log.seek(0)
        stderr = log.read()
    assert "Traceback" not in stderr, stderr


@pytest.fixture(autouse=True)
async def connected(slack: FakeSocketSlack, bot: subprocess.Popen[str]) -> None:
    await slack.wait_connected()
    assert bot.poll() is None
    slack.reset()


async def slash(slack: FakeSocketSlack, text: str) -> dict:
    ack = await slack.deliver("slash_commands", command_fields(text, slack.response_url()))
    assert set(ack) <= {"envelope_id", "payload"} and not ack.get("payload")
    return (await slack.wait_for("response_url"))[0].payload


def buttons_of(answer: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in answer["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found.setdefault(element["action_id"], element["value"])
    return found


async def test_the_app_connects_with_its_app_token(slack: FakeSocketSlack) -> None:
    assert slack.app_tokens[0] == APP_TOKEN
    assert len(slack.sockets) >= 1


async def test_paper_query_over_the_socket(slack: FakeSocketSlack) -> None:
    answer = await slash(slack, "speculative decoding with a sparse KV cache")
    assert answer["response_type"] == "ephemeral"
    sections = [b for b in answer["blocks"] if b["type"] == "section"]
    assert len(sections) == 5 and sections[0]["text"]["text"].startswith("*TriForce: Lossless Acceleration")
    assert [c.method for c in slack.calls] == ["response_url"]


async def test_buttons_share_bibtex_more_and_next(slack: FakeSocketSlack) -> None:
    buttons = buttons_of(await slash(slack, "speculative decoding with a sparse KV cache"))

    slack.reset()
    await slack.deliver("interactive", action_payload("share", buttons["share"], slack.response_url("share")))
    posted = (await slack.wait_for("chat.postMessage"))[0].payload
    assert posted["channel"] == "C2147483705" and posted["text"].startswith("TriForce")
    posted_blocks = json.loads(posted["blocks"]) if isinstance(posted["blocks"], str) else posted["blocks"]
    assert "Shared by <@U2147483697>" in posted_blocks[-1]["elements"][0]["text"]

    await slack.deliver("interactive", action_payload("bibtex", buttons["bibtex"], slack.response_url("b")))
    assert (
        (await slack.wait_for("response_url"))[0]
        .payload["blocks"][0]["text"]["text"]
        .startswith("```@article{triforce,")
    )

    slack.reset()
    await slack.deliver(
        "interactive", action_payload("more_like_this", buttons["more_like_this"], slack.response_url("m"))
    )
    similar = json.dumps((await slack.wait_for("response_url"))[0].payload["blocks"])
    assert "`triforce`" not in similar and "Speculative" in similar

    slack.reset()
    await slack.deliver(
        "interactive", action_payload("next_page", buttons["next_page"], slack.response_url("n"))
    )
    page_two = (await slack.wait_for("response_url"))[0].payload
    assert page_two["replace_original"] is True
    assert page_two["blocks"][0]["elements"][0]["text"].startswith("Papers 6–10")


async def test_a_bad_button_value_gets_an_apology_over_the_socket(slack: FakeSocketSlack) -> None:
    ack = await slack.deliver("interactive", action_payload("share", "not json{", slack.response_url("s")))
    assert not ack.get("payload")
    answer = (await slack.wait_for("response_url"))[0].payload
    assert "That button no longer works" in answer["text"]


async def test_the_add_form_is_validated_in_the_ack_then_stored(slack: FakeSocketSlack) -> None:
    await slack.deliver("slash_commands", command_fields("add", slack.response_url()))
    opened = (await slack.wait_for("views.open"))[0].payload
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert view["callback_id"] == "add_paper"

    bad = view_submission_payload({"title": "", "year": "20x4"}, view["private_metadata"])
    ack = await slack.deliver("interactive", bad)
    # In Socket Mode the form's errors travel in the acknowledgement's payload.
    assert ack["payload"]["response_action"] == "errors"
    assert set(ack["payload"]["errors"]) == {"title", "year"}

    good = view_submission_payload(
        {
            "title": "Socket Annealers Fold Proteins",
            "abstract": "Quantum sockets fold small proteins.",
            "authors": "Qubit, Quinn",
            "year": "2032",
        },
        view["private_metadata"],
    )
    assert not (await slack.deliver("interactive", good)).get("payload")
    note = (await slack.wait_for("chat.postEphemeral"))[0].payload
    assert "qubit2032socket" in note["text"]
    slack.reset()
    assert "Socket Annealers Fold Proteins" in json.dumps(
        (await slash(slack, "socket annealers proteins"))["blocks"]
    )


async def test_mentions_arrive_as_events(slack: FakeSocketSlack) -> None:
    event = json.loads(mention_body("<@U0BOT> looped transformers aligned with reasoning steps"))
    ack = await slack.deliver("events_api", event)
    assert set(ack) == {"envelope_id"} or not ack.get("payload")
    posted = (await slack.wait_for("chat.postMessage"))[0].payload
    assert posted["thread_ts"] == "1700000002.000200" and "RELAY" in json.dumps(posted["blocks"])


async def test_links_posted_in_a_channel_join_the_index(slack: FakeSocketSlack) -> None:
    event = json.loads(
        message_body(
            "<https://doi.org/10.1145/3404835.3463238|doi.org/10.1145/3404835.3463238>",
            channel="C9",
            ts="1.5",
        )
    )
    await slack.deliver("events_api", event)
    reaction = (await slack.wait_for("reactions.add"))[0].payload
    assert (reaction["channel"], reaction["timestamp"], reaction["name"]) == ("C9", "1.5", "books")
    slack.reset()
    assert "Pyserini" in json.dumps((await slash(slack, "pyserini reproducible retrieval toolkit"))["blocks"])


async def test_paper_add_by_arxiv_link_over_the_socket(slack: FakeSocketSlack) -> None:
    answer = await slash(slack, "add https://arxiv.org/abs/hep-th/9901001v2")
    assert "An Old-Style Identifier Paper" in json.dumps(answer["blocks"])


async def test_a_disconnect_is_followed_by_a_new_connection_that_serves(slack: FakeSocketSlack) -> None:
    opened = len(slack.app_tokens)
    await slack.disconnect("refresh_requested")
    assert len(slack.app_tokens) == opened + 1  # a fresh URL from apps.connections.open
    answer = await slash(slack, "looped transformers reasoning")
    assert len([b for b in answer["blocks"] if b["type"] == "section"]) == 5
    await slack.disconnect("warning")
    slack.reset()
    assert "papers in the index" in json.dumps(await slash(slack, "stats"))
