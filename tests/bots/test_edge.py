"""The door of /slack/events: unverifiable → 401, malformed → 400, else a request bolt can read."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.edge import Refused, bolt_request, checked_body, verify_signature

SECRET = "edge-secret"
FORM = "application/x-www-form-urlencoded"


def signed(raw: bytes, content_type: str = FORM, stamp: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time())) if stamp is None else stamp
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def refusal(raw: bytes, headers: dict[str, str]) -> tuple[int, str]:
    with pytest.raises(Refused) as refused:
        bolt_request(raw, headers, "", SECRET)
    return refused.value.status, refused.value.reason


@pytest.mark.parametrize("stamp", ["abc", "", "-1", "1e9", "１２３", "9" * 40, " 1700000000"])
def test_a_timestamp_that_is_not_a_number_is_unverifiable(stamp: str) -> None:
    body = b"command=%2Fpaper&text=x"
    assert refusal(body, signed(body) | {"X-Slack-Request-Timestamp": stamp})[0] == 401


def test_signature_checks() -> None:
    body = b"command=%2Fpaper&text=x"
    assert refusal(body, signed(body) | {"X-Slack-Signature": "v0=00"}) == (401, "bad X-Slack-Signature")
    assert refusal(body, signed(body) | {"X-Slack-Signature": "v0=ü"}) == (401, "bad X-Slack-Signature")
    stale = signed(body, stamp=str(int(time.time()) - 301))
    assert refusal(body, stale) == (401, "stale X-Slack-Request-Timestamp")
    assert refusal(body, {"Content-Type": FORM}) == (401, "missing or malformed X-Slack-Request-Timestamp")
    # Unsigned and malformed at once: the signature is judged first, so nothing about the body leaks.
    assert refusal(b"payload=%7B", {"Content-Type": FORM})[0] == 401
    verify_signature({k.lower(): v for k, v in signed(body).items()}, body, SECRET)


@pytest.mark.parametrize(
    ("raw", "content_type", "reason"),
    [
        (b"payload=" + urllib.parse.quote("{not json").encode(), FORM, "payload is not JSON"),
        (b"payload=" + urllib.parse.quote("[1, 2]").encode(), FORM, "payload is not a JSON object"),
        (b"payload=%22text%22", FORM, "payload is not a JSON object"),
        (b"payload=\xff\xfe", FORM, "body is not UTF-8 (byte 8)"),
        (b"[1]", "application/json", "body is not a JSON object"),
        (b"{", FORM, "body is not JSON"),
        (b'{"team": 5, "type": "block_actions"}', "application/json", "not a Slack request (TypeError)"),
    ],
)
def test_signed_but_malformed_bodies_are_400(raw: bytes, content_type: str, reason: str) -> None:
    assert refusal(raw, signed(raw, content_type)) == (400, reason)


def test_what_slack_sends_goes_through() -> None:
    command = b"command=%2Fpaper&text=relay&user_id=U1"
    assert bolt_request(command, signed(command), "", SECRET).body["text"] == "relay"
    action = b"payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": []})).encode()
    assert bolt_request(action, signed(action), "", SECRET).body["type"] == "block_actions"
    event = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}).encode()
    assert bolt_request(event, signed(event, "application/json; charset=utf-8"), "", SECRET).body["event"]
    assert checked_body(b"", FORM) == ""


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
slack_keys = st.sampled_from(
    [
        "type",
        "team",
        "user",
        "enterprise",
        "authorizations",
        "event",
        "actions",
        "view",
        "channel",
        "team_id",
        "user_id",
        "is_enterprise_install",
        "api_app_id",
        "container",
        "response_url",
        "command",
        "text",
    ]
)
shaped = st.dictionaries(slack_keys, json_values, max_size=6)
bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    shaped.map(lambda v: json.dumps(v).encode()),
    (json_values | shaped).map(lambda v: ("payload=" + urllib.parse.quote(json.dumps(v))).encode()),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4).map(
        lambda v: urllib.parse.urlencode(v).encode()
    ),
)
content_types = st.sampled_from(
    [FORM, "application/json", "", "text/plain", "application/json; charset=utf-8"]
)


@settings(max_examples=500, deadline=None)
@given(raw=bodies, content_type=content_types)
def test_fuzz_signed_bodies_become_requests_or_a_400(raw: bytes, content_type: str) -> None:
    try:
        request = bolt_request(raw, signed(raw, content_type), "", SECRET)
    except Refused as refused:
        assert refused.status == 400 and refused.reason
        return
    assert isinstance(request.body, dict)


@settings(max_examples=200, deadline=None)
@given(raw=bodies, stamp=st.text(max_size=15), signature=st.text(max_size=80))
def test_fuzz_unsigned_bodies_are_401(raw: bytes, stamp: str, signature: str) -> None:
    with pytest.raises(Refused) as refused:
        bolt_request(raw, {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}, "", SECRET)
    assert refused.value.status == 401
