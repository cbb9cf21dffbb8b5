"""Button values: written by `bots.blocks`, read back here when the button is pressed.

A value comes back signed by Slack, but it is still data we must not trust blindly: an old message,
another version of the bot, or a crafted request can hold anything up to Slack's 2000 characters.
Reading one either gives a small frozen value or raises `BadActionValue`; nothing else escapes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.records import PaperciteError

MAX_BUTTON_VALUE = 2000
PAGE_SIZE = 5
# The deepest page "Next 5" goes to: 100 results are more than anyone reads in Slack, and an offset
# from a value is a result count the search must hold in memory (10^12 once aborted the process).
MAX_RESULTS_SHOWN = 100
MAX_QUERY = 300


class BadActionValue(PaperciteError):
    """A button's value that this bot could not have written."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"That button no longer works ({reason}). Please run /paper again.")
        self.reason = reason


@dataclass(frozen=True)
class PaperValue:
    """Share, BibTeX, More like this: a paper's key and, for sharing, the query's weighted terms."""

    key: str
    terms: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PageValue:
    """Next 5: the query, its terms, and where the next page starts."""

    query: str
    offset: int
    terms: Mapping[str, float] = field(default_factory=dict)


def encode_value(payload: dict[str, Any]) -> str:
    """A button value: JSON, with the query's weakest terms dropped until it fits in 2000 characters."""
    payload = dict(payload)
    terms = dict(payload.get("t", {}))
    while True:
        value = json.dumps(payload | ({"t": terms} if "t" in payload else {}), separators=(",", ":"))
        if len(value) <= MAX_BUTTON_VALUE or not terms:
            return value[:MAX_BUTTON_VALUE]
        terms.pop(min(terms, key=lambda term: terms[term]))


def _object(raw: object) -> dict[str, Any]:
    if not isinstance(raw, str):
        raise BadActionValue("no value")
    if len(raw) > MAX_BUTTON_VALUE:
        raise BadActionValue("value too long")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadActionValue("value is not JSON") from None
    if not isinstance(value, dict):
        raise BadActionValue("value is not an object")
    return value


def _terms(raw: object) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadActionValue("terms are not an object")
    terms = {}
    for term, weight in raw.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise BadActionValue("a term's weight is not a number")
        if not term or len(term) > MAX_QUERY:
            raise BadActionValue("a term is empty or too long")
        terms[term] = float(weight)
    return terms


def _text(raw: object, what: str, limit: int, *, required: bool) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or (required and not raw.strip()):
        raise BadActionValue(f"no {what}")
    if len(raw) > limit:
        raise BadActionValue(f"{what} too long")
    return raw


def paper_value(raw: object) -> PaperValue:
    value = _object(raw)
    return PaperValue(
        _text(value.get("k"), "paper key", MAX_BUTTON_VALUE, required=True), _terms(value.get("t"))
    )


def page_value(raw: object) -> PageValue:
    value = _object(raw)
    offset = value.get("o", 0)
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise BadActionValue("the page is not a number")
    if not 0 <= offset <= MAX_RESULTS_SHOWN - PAGE_SIZE:
        raise BadActionValue(f"pages go up to result {MAX_RESULTS_SHOWN}")
    query = _text(value.get("q"), "query", MAX_QUERY, required=False)
    terms = _terms(value.get("t"))
    if not query.strip() and not terms:
        raise BadActionValue("no query")
    return PageValue(query, offset, terms)


def action_value(body: Mapping[str, Any]) -> object:
    """The pressed button's value as sent, or None when the payload has no such thing."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return None
    return actions[0].get("value")
