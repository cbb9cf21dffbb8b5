"""Builds the slack-bolt app and registers its listeners; nothing else happens here."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bots.listeners import actions, commands, mentions, messages, views
from core.interface import PaperLibrary

log = logging.getLogger("papercite.slack")


def build_app(
    library: PaperLibrary,
    *,
    bot_token: str,
    signing_secret: str | None,
    api_url: str | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> AsyncApp:
    """An app that serves /paper without calling Slack first: no auth.test at start or on a request."""

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # One workspace, one bot token: nothing to look up, so behind a firewall it still answers.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    # No token on the client itself: `authorize` hands each request the bot token.
    client = AsyncWebClient(base_url=api_url or AsyncWebClient.BASE_URL)
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        authorize=authorize,
        request_verification_enabled=signing_secret is not None,
        # Socket Mode and HTTP both get an ack at once; the listener's slow part runs after it.
        process_before_response=False,
    )

    @app.middleware
    async def attach_library(context: Any, next: Any) -> Any:
        context["library"] = library
        if clock is not None:
            context["clock"] = clock  # (tests set the time; listeners otherwise read the real one)
        return await next()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for %s", body.get("type") or body.get("command"), exc_info=error)

    for listeners in (commands, actions, views, mentions, messages):
        listeners.register(app)
    return app
