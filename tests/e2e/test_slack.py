"""The real slack-bolt app over HTTP on loopback, with requests signed exactly as Slack signs them.

What the bot posts back (response_url, chat.postMessage, views.open) lands in a local fake of Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, free_port
from tests.e2e.fake_slack import (
    FakeSlack,
    action_body,
    command_body,
    mention_body,
    message_body,
    sign,
    view_submission_body,
)
from tests.fakes.sources import FakeSources

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def bot(slack: FakeSlack, sources: FakeSources) -> Iterator[str]:
    """`papercite slack --http` on a free port; yields its base URL."""
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="papercite-slack-"))
    env = {
        **os.environ,
        "PAPERCITE_HOME": str(home),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAPERCITE_SLACK_API_URL": slack.api_url,
        **sources.env(),
        "PAPERCITE_ARXIV_INTERVAL": "0",
    }
    # A file, not a pipe: a pipe nobody reads fills after a few hundred logged requests, and the
    # bot then blocks writing its log and stops answering.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stderr=log,
            text=True,
        )

        def logged() -> str:
            log.seek(0)
            return log.read()

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None, logged()
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
        process.terminate()
        process.communicate(timeout=10)
        stderr = logged()
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


# --- hostile and broken input (each of these once ended in a 500, a dead process or a ping) ---------


def special_mentions(payload: dict, allowed: tuple[str, ...] = ()) -> list[str]:
    """Everything Slack would read as a mention, a channel link or a broadcast, in any string we sent
    that Slack renders (a button's `value` is data handed back to us, never shown)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            if value.startswith(("[", "{")):
                try:
                    walk(json.loads(value))  # blocks sent form-encoded arrive as a JSON string
                    return
                except ValueError:
                    pass
            found.extend(m for m in re.findall(r"<[!@#][^>]*>", value) if m not in allowed)
        elif isinstance(value, dict):
            for name, item in value.items():
                if name != "value":
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload)
    return found


async def test_a_timestamp_that_is_not_a_number_is_401(bot: str, slack: FakeSlack) -> None:
    body = command_body("relay", slack.response_url())
    headers = FORM | {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
    assert (await post(bot, body, headers))[0] == 401
    assert (await post(bot, body, FORM | sign(SECRET, body) | {"X-Slack-Request-Timestamp": "abc"}))[0] == 401
    assert slack.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"payload=" + urllib.parse.quote("{not json").encode(),
        b"payload=" + urllib.parse.quote('[{"type": "block_actions"}]').encode(),
        b"payload=\xff\xfe\xfd",
    ],
    ids=["not-json", "json-array", "not-utf8"],
)
async def test_signed_but_malformed_payloads_are_400(bot: str, slack: FakeSlack, body: bytes) -> None:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = FORM | {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{bot}/slack/events", data=body, headers=headers) as response,
    ):
        assert response.status == 400
        assert "error" in await response.json()
    assert "papers in the index" in json.dumps(await slash(bot, slack, "stats"))


async def test_a_share_value_that_is_not_json_gets_a_private_apology(bot: str, slack: FakeSlack) -> None:
    body = action_body("share", "not json{", slack.response_url("share"))
    assert (await post(bot, body, FORM | sign(SECRET, body)))[0] == 200
    answer = (await slack.wait_for("response_url"))[0].payload
    assert answer["response_type"] == "ephemeral"
    assert "That button no longer works (value is not JSON)" in answer["blocks"][0]["text"]["text"]
    assert not [c for c in slack.calls if c.method == "chat.postMessage"]


async def test_a_page_far_past_the_results_is_refused_and_the_bot_lives(bot: str, slack: FakeSlack) -> None:
    value = json.dumps({"q": "speculative decoding", "o": 10**12, "t": {"specul": 1.0}})
    body = action_body("next_page", value, slack.response_url("next"))
    assert (await post(bot, body, FORM | sign(SECRET, body)))[0] == 200
    answer = (await slack.wait_for("response_url"))[0].payload
    assert "pages go up to result 100" in answer["text"]
    slack.reset()
    assert "papers in the index" in json.dumps(await slash(bot, slack, "stats"))


async def test_special_mentions_from_data_never_reach_the_channel(bot: str, slack: FakeSlack) -> None:
    """A paper whose every field pings, added through the form, then searched, shared and mentioned."""
    body = command_body("add", slack.response_url())
    await post(bot, body, FORM | sign(SECRET, body))
    view = (await slack.wait_for("views.open"))[0].payload["view"]
    metadata = (json.loads(view) if isinstance(view, str) else view)["private_metadata"]
    form = view_submission_body(
        {
            "title": "<!channel> Zeppelin Pings <!here> & <@U0BOSS|boss> <#C0SECRET> <!subteam^S1>",
            "abstract": "Zeppelin pings reach <!everyone> & <https://phish.example|your bank>.",
            "authors": "<!channel>, Zed\n<@U0BOSS>",
            "year": "2030",
        },
        metadata,
    )
    await post(bot, form, FORM | sign(SECRET, form))
    confirmation = (await slack.wait_for("chat.postEphemeral"))[0].payload
    assert special_mentions(confirmation) == []
    slack.reset()

    answer = await slash(bot, slack, "<!channel> zeppelin pings")
    assert "Zeppelin Pings" in json.dumps(answer["blocks"])
    assert special_mentions(answer) == []
    share = next(
        e["value"]
        for b in answer["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "share"
    )
    slack.reset()
    body = action_body("share", share, slack.response_url("share"))
    await post(bot, body, FORM | sign(SECRET, body))
    posted = (await slack.wait_for("chat.postMessage"))[0].payload
    assert "Zeppelin Pings" in posted["text"]
    assert special_mentions(posted, allowed=("<@U2147483697>",)) == []

    slack.reset()
    body = mention_body("<@U0BOT> <!channel> <!here> zeppelin pings")
    await post(bot, body, {"Content-Type": "application/json"} | sign(SECRET, body))
    reply = (await slack.wait_for("chat.postMessage"))[0].payload
    assert "Zeppelin Pings" in json.dumps(reply["blocks"]) and "zeppelin pings" in reply["text"]
    assert special_mentions(reply) == []
    slack.reset()
    body = mention_body("<@U0BOT> <!channel> frobnicate <!here>")
    await post(bot, body, {"Content-Type": "application/json"} | sign(SECRET, body))
    reply = (await slack.wait_for("chat.postMessage"))[0].payload
    assert "&lt;!channel&gt; frobnicate &lt;!here&gt;" in reply["text"]
    assert special_mentions(reply) == []


def test_a_burst_of_connections_waits_in_the_backlog_not_for_a_syn_retry(bot: str) -> None:
    """While the bot cannot accept (stopped here; busy in life), 200 new connections must still
    complete their handshake: with the default backlog of 128 the rest waited a second for a retry."""
    port = int(bot.rsplit(":", 1)[1])
    pid = next(
        p.pid
        for p in psutil.Process().children()
        if any(c.laddr.port == port for c in p.net_connections("tcp"))
    )
    os.kill(pid, signal.SIGSTOP)
    sockets: list[socket.socket] = []
    try:
        for _ in range(200):
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            sockets.append(client)
        pending, deadline = list(sockets), time.monotonic() + 0.8  # under the 1 s SYN retry
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], pending, [], 0.05)
            pending = [s for s in pending if s not in writable]
        established = sum(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for s in sockets) - len(
            pending
        )
    finally:
        os.kill(pid, signal.SIGCONT)
        for client in sockets:
            client.close()
    assert established == 200


fuzz_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
fuzz_payloads = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "shortcut", "x"]) | fuzz_json},
    optional={
        "actions": st.lists(
            st.fixed_dictionaries(
                {"action_id": st.sampled_from(["share", "bibtex", "more_like_this", "next_page"])},
                optional={"value": st.text(max_size=40) | fuzz_json.map(json.dumps), "block_id": fuzz_json},
            ),
            max_size=2,
        )
        | fuzz_json,
        "user": st.fixed_dictionaries({"id": st.text(max_size=12)}) | fuzz_json,
        "team": fuzz_json,
        "channel": fuzz_json,
        "view": st.fixed_dictionaries({"callback_id": st.just("add_paper")}, optional={"state": fuzz_json})
        | fuzz_json,
        "response_url": st.just("the fake's") | fuzz_json,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=fuzz_payloads | fuzz_json, as_form=st.booleans())
def test_fuzz_signed_requests_never_get_a_500(
    bot: str, slack: FakeSlack, payload: object, as_form: bool
) -> None:
    """Signed interaction payloads of every shape into the real process: answered, refused as
    malformed, or unhandled, never an error of the server's own."""
    if isinstance(payload, dict) and payload.get("response_url") == "the fake's":
        payload["response_url"] = slack.response_url("fuzz")
    text = json.dumps(payload)
    body = urllib.parse.urlencode({"payload": text}) if as_form else text
    content_type = FORM["Content-Type"] if as_form else "application/json"
    request = urllib.request.Request(
        f"{bot}/slack/events",
        data=body.encode(),
        headers={"Content-Type": content_type} | sign(SECRET, body),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in {200, 400, 404}, (status, body)


# --- papers by DOI or arXiv link ---------------------------------------------------------------


async def test_paper_add_by_doi_answers_with_the_card(
    bot: str, slack: FakeSlack, sources: FakeSources
) -> None:
    answer = await slash(bot, slack, "add https://doi.org/10.1145/3404835.3463238")
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["elements"][0]["text"] == "Added: `lin2021pyserini`"
    card = answer["blocks"][1]["text"]["text"]
    assert card.startswith("*<https://doi.org/10.1145/3404835.3463238|Pyserini: A Python Toolkit")
    assert "reproducible retrieval research" in card
    assert [e["action_id"] for e in answer["blocks"][2]["elements"]] == ["share", "bibtex", "more_like_this"]
    assert [r.path for r in sources.served("crossref")][-1].endswith("10.1145/3404835.3463238")
    slack.reset()
    found = await slash(
        bot, slack, "toolkit for reproducible retrieval with sparse and dense representations"
    )
    assert "Pyserini" in json.dumps(found["blocks"])


async def test_paper_add_names_what_could_not_be_added(bot: str, slack: FakeSlack) -> None:
    answer = await slash(bot, slack, "add 10.1000/nowhere arXiv:2404.11912")
    text = json.dumps(answer["blocks"])
    assert "Could not add 10.1000/nowhere:" in text and "abstract" in text
    assert "TriForce" in text  # the one that could be added still is


async def test_links_posted_in_a_channel_join_with_one_reaction(bot: str, slack: FakeSlack) -> None:
    message = (
        "Two for the reading group: <https://arxiv.org/abs/hep-th/9901001v2|arxiv.org/abs/hep-th/9901001v2> "
        "and <https://openalex.org/W3000000002> — also https://example.com/not-a-paper"
    )
    body = message_body(message, channel="C0READING", ts="1700000100.000100")
    assert (await post(bot, body, JSON | sign(SECRET, body)))[0] == 200
    reaction = (await slack.wait_for("reactions.add"))[0].payload
    assert {k: reaction[k] for k in ("channel", "timestamp", "name")} == {
        "channel": "C0READING",
        "timestamp": "1700000100.000100",
        "name": "books",
    }
    assert [c.method for c in slack.calls] == ["reactions.add"]  # no reply in the channel
    answer = await slash(bot, slack, "attention over links openalex only work")
    assert "Attention Over Links" in json.dumps(answer["blocks"])

    # The bot's own posts, edits and messages without papers are left alone.
    slack.reset()
    for event in (
        message_body(message, channel="C0READING", ts="1700000101.1", bot_id="B0PAPERCITE"),
        message_body(message, channel="C0READING", ts="1700000101.2", subtype="message_changed"),
        message_body("lunch at noon?", channel="C0READING", ts="1700000101.3"),
    ):
        assert (await post(bot, event, JSON | sign(SECRET, event)))[0] == 200
    answer = await slash(bot, slack, "stats")
    assert [c.method for c in slack.calls] == ["response_url"]


async def test_a_channel_can_keep_its_links_out(bot: str, slack: FakeSlack) -> None:
    off = command_body("links off", slack.response_url())
    await post(bot, off, FORM | sign(SECRET, off))
    assert "stay out of the index" in (await slack.wait_for("response_url"))[0].payload["text"]
    slack.reset()
    body = message_body("<https://doi.org/10.1000/no-abstract>", channel="C2147483705", ts="1700000200.1")
    assert (await post(bot, body, JSON | sign(SECRET, body)))[0] == 200
    answer = await slash(bot, slack, "abstract lives in openalex inverted index")
    assert "Abstract Lives in OpenAlex" not in json.dumps(answer["blocks"])
    assert "reactions.add" not in [c.method for c in slack.calls]

    slack.reset()
    on = command_body("links on", slack.response_url())
    await post(bot, on, FORM | sign(SECRET, on))
    assert "join the team's index" in (await slack.wait_for("response_url"))[0].payload["text"]
    slack.reset()
    await post(bot, body, JSON | sign(SECRET, body))
    await slack.wait_for("reactions.add")
    answer = await slash(bot, slack, "abstract lives in openalex inverted index")
    assert "Abstract Lives in OpenAlex" in json.dumps(answer["blocks"])


async def test_the_form_fills_itself_from_a_doi_or_arxiv_link(bot: str, slack: FakeSlack) -> None:
    body = command_body("add", slack.response_url())
    await post(bot, body, FORM | sign(SECRET, body))
    view = (await slack.wait_for("views.open"))[0].payload["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["block_id"] == "identifier"

    bad = view_submission_body({"identifier": "not an id"}, view["private_metadata"])
    status, text = await post(bot, bad, FORM | sign(SECRET, bad))
    assert status == 200 and set(json.loads(text)["errors"]) == {"identifier"}

    good = view_submission_body({"identifier": "arXiv:2404.11912v3"}, view["private_metadata"])
    assert (await post(bot, good, FORM | sign(SECRET, good)))[0] == 200
    note = (await slack.wait_for("chat.postEphemeral"))[0].payload
    note_blocks = json.loads(note["blocks"]) if isinstance(note["blocks"], str) else note["blocks"]
    assert "TriForce" in json.dumps(note_blocks) and note["text"].startswith(("Added", "Already"))
