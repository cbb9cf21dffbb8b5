"""What arrives at /slack/events, checked before slack-bolt reads it.

Bolt parses a body before it checks the signature, and trusts both: `X-Slack-Request-Timestamp: abc`
or a signed `payload` that is not a JSON object used to end in HTTP 500. Here the order is the safe
one: anything unverifiable is 401, then anything that is not what Slack sends is 400, and only a
verified, well-formed request reaches the app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

from slack_bolt.request.async_request import AsyncBoltRequest

# Slack's own rule: a request older (or newer) than five minutes may be a replay.
MAX_CLOCK_SKEW = 5 * 60


# Top-level fields slack-bolt reads as objects (or lists of objects) before any listener runs, as
# Slack sends them in events, slash commands and interactions. Null is allowed only where bolt
# looks before it reads (it reads `view`, `event` and `actions` whenever the key is there).
_OBJECT_FIELDS = ("view", "event", "user", "team", "channel", "container", "message", "state")
_OBJECT_LIST_FIELDS = ("actions", "authorizations")
_NEVER_NULL = ("view", "event", "actions")
_STRING_FIELDS = ("type", "command", "callback_id", "trigger_id", "response_url")


class Refused(Exception):
    """A request answered with `status` and a one-line reason, without reaching the app."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_signature(headers: Mapping[str, str], raw: bytes, secret: str, now: float | None = None) -> None:
    """Slack's v0 signature over the raw bytes: HMAC-SHA256 of `v0:timestamp:body` (header names
    in lower case)."""
    stamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise Refused(401, "missing or malformed X-Slack-Request-Timestamp")
    if abs((time.time() if now is None else now) - int(stamp)) > MAX_CLOCK_SKEW:
        raise Refused(401, "stale X-Slack-Request-Timestamp")
    expected = (
        "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "bad X-Slack-Signature")


def _json_object(text: str, what: str) -> None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")


def checked_body(raw: bytes, content_type: str | None) -> str:
    """The body as text, once it is sure to parse the way bolt parses it into a JSON object.

    Slack sends JSON (events), a form with a JSON `payload` (interactions), or a plain form (slash
    commands); bolt tells them apart by the content type, a leading `{`, and the word "payload".
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refused(400, f"body is not UTF-8 (byte {error.start})") from None
    if not text:
        return text
    if content_type == "application/json" or text.startswith("{"):
        _json_object(text, "body")
    elif "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is not None:
            _json_object(payload, "payload")
    return text


def check_shape(body: Mapping[str, object]) -> None:
    """A parsed body in the shape Slack sends: what bolt reads with `[...]` and `.get` is there."""
    if not any(isinstance(body.get(name), str) for name in ("type", "command", "ssl_check")):
        raise Refused(400, "not a Slack request (no type or command)")
    for name in _NEVER_NULL:
        if name in body and body[name] is None:
            raise Refused(400, f"`{name}` is null")
    for name in _STRING_FIELDS:
        if name in body and not isinstance(body[name], str):
            raise Refused(400, f"`{name}` is not a string")
    for name in _OBJECT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise Refused(400, f"`{name}` is not an object")
    for name in _OBJECT_LIST_FIELDS:
        items = body.get(name)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            raise Refused(400, f"`{name}` is not a list of objects")
    event = body.get("event")
    if isinstance(event, dict):
        if not isinstance(event.get("type"), str):
            raise Refused(400, "`event.type` is not a string")
        for name in ("message", "previous_message"):
            if event.get(name) is not None and not isinstance(event[name], dict):
                raise Refused(400, f"`event.{name}` is not an object")


def bolt_request(raw: bytes, headers: Mapping[str, str], query: str, secret: str | None) -> AsyncBoltRequest:
    """A request for the app, or `Refused` saying why not (401 unverifiable, 400 malformed)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if secret is not None:
        verify_signature(lowered, raw, secret)
    # Bolt's reading of the content type, exactly: what precedes any `;`, as sent.
    text = checked_body(raw, lowered.get("content-type", "").split(";")[0] or None)
    try:
        request = AsyncBoltRequest(body=text, query=query, headers=dict(lowered.items()))
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
        # A JSON object in a shape Slack never sends (a `team` that is a number…): bolt's readers fail.
        raise Refused(400, f"not a Slack request ({type(error).__name__})") from None
    check_shape(request.body)
    return request
