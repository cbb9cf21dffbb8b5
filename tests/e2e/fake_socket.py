"""Slack's Socket Mode side, on loopback: `apps.connections.open` hands out a `ws://` URL served here.

What Slack does over the WebSocket, as its Socket Mode documentation describes it: a `hello` when
the app connects; each event in an envelope (`{"envelope_id", "type": "slash_commands" |
"interactive" | "events_api", "payload", "accepts_response_payload", "retry_attempt",
"retry_reason"}`) that the app must acknowledge with `{"envelope_id", "payload"?}` within 3 seconds;
a `disconnect` (`refresh_requested`, `warning`, `link_disabled`) after which the app opens a new
connection through `apps.connections.open`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.e2e.fake_slack import FakeSlack

# Slack redelivers an envelope it has not seen acknowledged within 3 seconds.
ACK_DEADLINE = 3.0


@dataclass
class FakeSocketSlack(FakeSlack):
    """A FakeSlack that also speaks Socket Mode. Every method here is called from the test's own
    event loop; the work happens on the fake's loop."""

    app_tokens: list[str] = field(default_factory=list)  # the bearer token of each connections.open
    sockets: list[web.WebSocketResponse] = field(default_factory=list)  # every connection, in order
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def answer(self, method: str, request: web.Request) -> dict[str, Any] | None:
        if method != "apps.connections.open":
            return None
        self.app_tokens.append(request.headers.get("Authorization", "").removeprefix("Bearer "))
        ticket = next(self._ids)
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id=A123456"}

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(), web.get("/link/", self._link)]

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": "A123456"},
            }
        )
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            ack = json.loads(message.data)
            envelope_id = ack.get("envelope_id", "")
            self.acks[envelope_id] = ack
            waiting = self._waiting.pop(envelope_id, None)
            if waiting and not waiting.done():
                waiting.set_result(ack)
        return socket

    def _on_loop(self, coroutine: Any) -> asyncio.Future[Any]:
        assert self._loop is not None, "the fake is not started"
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    async def wait_connected(self, count: int = 1, timeout: float = 30) -> None:
        """Until the app has opened `count` connections (and been greeted on each)."""
        for _ in range(int(timeout / 0.05)):
            if len(self.sockets) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the app opened {len(self.sockets)} Socket Mode connections, not {count}")

    async def deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one envelope over the newest connection; the app's acknowledgement, which must come
        within Slack's 3 seconds."""
        envelope_id = f"envelope-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }

        async def send() -> dict[str, Any]:
            waiting = asyncio.get_running_loop().create_future()
            self._waiting[envelope_id] = waiting
            await self.sockets[-1].send_json(envelope)
            try:
                return await asyncio.wait_for(waiting, ACK_DEADLINE)
            except asyncio.TimeoutError:
                raise AssertionError(f"{kind} envelope {envelope_id} not acknowledged within 3 s") from None

        return dict(await self._on_loop(send()))

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours; returns once it has."""
        before = len(self.sockets)

        async def send() -> None:
            await self.sockets[-1].send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
            )

        await self._on_loop(send())
        await self.wait_connected(before + 1)

    async def close_all(self) -> None:
        async def close() -> None:
            for socket in self.sockets:
                await socket.close()

        await self._on_loop(close())
