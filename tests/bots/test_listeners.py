"""Listener functions called directly, as bolt would call them, with a real library."""

from __future__ import annotations

import json
from typing import Any

from bots.listeners.actions import next_page
from bots.listeners.commands import paper_command
from bots.pages import Answer
from core.library import Library


class Recorder:
    response_url = "https://hooks.slack.com/actions/T1/1/x"  # as bolt's `respond` carries it

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class BrokenClient:
    async def views_open(self, **kwargs: Any) -> None:
        raise RuntimeError("Slack is down")


async def test_ack_comes_before_the_answer(library: Library) -> None:
    order: list[str] = []

    async def ack(**kwargs: Any) -> None:
        order.append("ack")

    async def respond(**kwargs: Any) -> None:
        order.append("respond")

    respond.response_url = Recorder.response_url  # type: ignore[attr-defined]

    await paper_command(ack, {"text": "looped transformers"}, respond, None, {"library": library})
    assert order == ["ack", "respond"]


async def test_a_failure_is_a_friendly_private_message_and_a_log_line(library: Library, caplog: Any) -> None:
    ack, respond = Recorder(), Recorder()
    command = {"text": "add", "trigger_id": "t", "channel_id": "C", "user_id": "U"}
    await paper_command(ack, command, respond, BrokenClient(), {"library": library})
    assert len(ack.calls) == 1
    (answer,) = respond.calls
    assert answer["response_type"] == "ephemeral"
    assert "something went wrong on our side" in answer["blocks"][0]["text"]["text"]
    assert any(r.exc_info for r in caplog.records if "failed" in r.getMessage())


async def test_next_page_replaces_the_original(library: Library) -> None:
    ack, respond = Recorder(), Recorder()
    body = {"actions": [{"value": json.dumps({"q": "speculative decoding", "o": 5})}]}
    await next_page(ack, body, respond, {"library": library})
    (answer,) = respond.calls
    assert answer["replace_original"] is True
    assert answer["blocks"][0]["elements"][0]["text"].startswith("Papers 6–10")


def test_every_message_text_goes_through_the_escaper() -> None:
    answer = Answer([], "<!channel> & <@U1|boss> <https://x.example|y>")
    assert answer.message()["text"] == "&lt;!channel&gt; &amp; &lt;@U1|boss&gt; &lt;https://x.example|y&gt;"
    assert len(Answer([], "x" * 5000).message()["text"]) <= 150


async def test_a_bad_button_value_is_a_private_apology(library: Library) -> None:
    ack, respond = Recorder(), Recorder()
    for value in ("{not json", json.dumps({"q": "x", "o": 10**12})):
        await next_page(ack, {"actions": [{"value": value}]}, respond, {"library": library})
    assert len(ack.calls) == 2
    texts = [call["text"] for call in respond.calls]
    assert texts == [
        "That button no longer works (value is not JSON). Please run /paper again.",
        "That button no longer works (pages go up to result 100). Please run /paper again.",
    ]
    assert all(call["response_type"] == "ephemeral" for call in respond.calls)
