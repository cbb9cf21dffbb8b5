"""A local stand-in for Slack's side: its Web API and the response_url endpoint, recording every call."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str  # "chat.postMessage", "views.open", … or "response_url"
    payload: dict[str, Any]


@dataclass
class FakeSlack:
    """Runs on its own thread and event loop, so it outlives each test's loop."""

    calls: list[Call] = field(default_factory=list)
    # Web API methods that answer an error, e.g. {"chat.postMessage": "not_in_channel"}.
    failures: dict[str, str] = field(default_factory=dict)
    # Web API methods answered 429 with these Retry-After seconds first, one per call.
    rate_limited: dict[str, list[int]] = field(default_factory=dict)
    time_zone: str = "Europe/Paris"  # every user's, in users.info
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            payload = await request.json()
        else:
            payload = dict(urllib.parse.parse_qsl(await request.text()))
        # Some methods (reactions.add) travel as the query string.
        payload = dict(request.query) | payload
        self.calls.append(Call(method, payload))
        if self.rate_limited.get(method):
            retry_after = self.rate_limited[method].pop(0)
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )
        if method in self.failures:
            return web.json_response({"ok": False, "error": self.failures[method]})
        return web.json_response(
            self.answer(method, request)
            or {"ok": True, "ts": "1700000000.000100", "channel": payload.get("channel", "C1")}
        )

    def answer(self, method: str, request: web.Request) -> dict[str, Any] | None:
        """A method's own answer, for fakes that know more methods; None for the plain ok."""
        if method == "users.info":
            user = request.query.get("user", "")
            return {"ok": True, "user": {"id": user, "tz": self.time_zone, "tz_offset": 3600}}
        return None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/{method}", self._api),
            web.get("/api/{method}", self._api),  # (slack_sdk reads users.info with a GET)
            web.post("/respond/{name}", self._respond),
        ]

    async def _respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json()))
        return web.Response(text="ok")

    def start(self) -> None:
        started = threading.Event()

        async def serve() -> None:
            app = web.Application()
            app.add_routes(self.routes())
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            started.set()

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        assert started.wait(10), "the fake Slack did not start"

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def reset(self) -> None:
        self.calls.clear()
        self.failures.clear()
        self.rate_limited.clear()

    async def wait_for(self, method: str, count: int = 1, timeout: float = 15) -> list[Call]:
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls if c.method == method]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Slack never received {method}; it got {[c.method for c in self.calls]}"
                )
            await asyncio.sleep(0.02)


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: v0 HMAC-SHA256 of `v0:timestamp:body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def command_body(
    text: str, response_url: str, *, trigger_id: str = "13345224609.738474920.8088930838d"
) -> str:
    return urllib.parse.urlencode(command_fields(text, response_url, trigger_id=trigger_id))


def command_fields(
    text: str, response_url: str, *, trigger_id: str = "13345224609.738474920.8088930838d"
) -> dict[str, str]:
    """A slash command's fields: form-encoded over HTTP, a JSON object in Socket Mode."""
    return dict(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "C2147483705",
            "channel_name": "papers",
            "user_id": "U2147483697",
            "user_name": "ada",
            "command": "/paper",
            "text": text,
            "api_app_id": "A123456",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def action_body(action_id: str, value: str, response_url: str) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(action_payload(action_id, value, response_url))})


def action_payload(action_id: str, value: str, response_url: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U2147483697", "username": "ada", "team_id": "T0001"},
        "api_app_id": "A123456",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C2147483705"},
        "trigger_id": "13345224609.738474920.8088930838d",
        "channel": {"id": "C2147483705", "name": "papers"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "type": "button",
                "value": value,
                "action_ts": "1700000001.1",
            }
        ],
    }


def view_submission_body(values: dict[str, str], private_metadata: str) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(view_submission_payload(values, private_metadata))})


def view_submission_payload(values: dict[str, str], private_metadata: str) -> dict[str, Any]:
    state = {block: {"value": {"type": "plain_text_input", "value": text}} for block, text in values.items()}
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U2147483697", "username": "ada", "team_id": "T0001"},
        "api_app_id": "A123456",
        "token": "legacy-verification-token",
        "trigger_id": "13345224609.738474920.8088930838d",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "add_paper",
            "private_metadata": private_metadata,
            "state": {"values": state},
            "hash": "1.2",
        },
    }


def mention_body(text: str) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "api_app_id": "A123456",
            "type": "event_callback",
            "event_id": "Ev1",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": "U2147483697",
                "text": text,
                "ts": "1700000002.000200",
                "channel": "C2147483705",
                "event_ts": "1700000002.000200",
            },
        }
    )


def message_body(
    text: str, *, channel: str, ts: str, subtype: str | None = None, bot_id: str | None = None
) -> str:
    """A `message` event in a channel the app is in (message.channels), as the Events API sends it."""
    event: dict[str, Any] = {
        "type": "message",
        "user": "U2147483697",
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": "channel",
        "event_ts": ts,
    }
    if subtype:
        event["subtype"] = subtype
    if bot_id:
        event |= {"bot_id": bot_id, "subtype": subtype or "bot_message"}
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "api_app_id": "A123456",
            "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
