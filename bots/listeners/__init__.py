"""Listeners, one module per kind of Slack event; each module's `register(app)` wires it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bots.pages import SOMETHING_WENT_WRONG, Answer, problem
from core.records import PaperciteError

log = logging.getLogger("papercite.slack")

Reply = Callable[[Answer], Awaitable[Any]]


async def answer_or_apologise(reply: Reply, work: Callable[[], Awaitable[Answer | None]]) -> None:
    """Run the slow part after ack(): our own errors become plain answers, others a logged apology.

    `work` returns None when its result was delivered some other way (a modal opened).
    """
    try:
        answer = await work()
    except PaperciteError as error:
        answer = problem(error)
    except Exception:
        log.exception("a /paper request failed")
        answer = SOMETHING_WENT_WRONG
    if answer is None:
        return
    try:
        await reply(answer)
    except Exception:
        log.exception("could not deliver the answer to Slack")


def ephemeral(respond: Any, *, replace_original: bool = False) -> Reply:
    """Answer through the request's response_url, visible to the asker only."""

    async def reply(answer: Answer) -> Any:
        if getattr(respond, "response_url", None) is None:
            # Slack always sends one with a command or a button; a payload without it gets no answer.
            log.warning("no response_url to answer with %r", answer.summary[:80])
            return None
        return await respond(
            **answer.message(),
            response_type="ephemeral",
            replace_original=replace_original,
        )

    return reply


def user_of(body: dict[str, Any]) -> str:
    """The id of the person who pressed or submitted something ("" in a malformed payload)."""
    user = body.get("user")
    return str(user.get("id") or "") if isinstance(user, dict) else ""


def library_of(context: Any) -> Any:
    return context["library"]


def clock_of(context: Any) -> Callable[[], dt.datetime]:
    """The app's clock (tests set one); the time now in UTC otherwise."""
    clock = context.get("clock") if hasattr(context, "get") else None
    return clock if callable(clock) else _utc_now


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
