"""Running the bot: over HTTP (Slack posts to /slack/events) or in Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.app import build_app
from bots.digests import digests_forever, send_digests, utc_now
from bots.edge import Refused, bolt_request
from core.harvest_schedule import Background, harvest_forever
from core.interface import PaperLibrary
from core.library import Library
from core.records import PaperciteError
from core.remote import open_library

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Where the bot's Web API calls go: Slack itself unless set (a proxy, or a test's local fake).
API_URL_VARIABLE = "PAPERCITE_SLACK_API_URL"
# Connections waiting to be accepted. With the default 128, a burst of 200 `/paper` posts left some
# clients retrying their SYN for about a second; see docs/benchmarks.md, "Slack acknowledgement".
LISTEN_BACKLOG = 1024

log = logging.getLogger("papercite.slack")


class MissingSetting(Exception):
    pass


def require(*names: str) -> dict[str, str]:
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise MissingSetting(f"set {' and '.join(missing)} to run the Slack bot (see docs/slack.md)")
    return {name: os.environ[name] for name in names}


def events_handler(
    app: AsyncApp, signing_secret: str | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Slack's endpoint: a request is verified and its shape checked before bolt sees it (401 for
    what cannot be verified, 400 for what Slack does not send). `papercite serve` mounts it too."""

    async def events(request: web.Request) -> web.Response:
        try:
            bolt = bolt_request(await request.read(), request.headers, request.query_string, signing_secret)
        except Refused as refused:
            log.info("refused a request to %s: %s", EVENTS_PATH, refused.reason)
            return web.json_response({"error": refused.reason}, status=refused.status)
        try:
            return await to_aiohttp_response(await app.async_dispatch(bolt))
        except Exception as error:
            # `check_shape` lets through only what bolt can read; should a shape it does not know
            # still trip bolt before any listener runs, the request was malformed: say so, briefly.
            log.warning("slack-bolt could not read a signed request: %r", error)
            return web.json_response({"error": "not a Slack request"}, status=400)

    return events


def background_jobs(
    library: PaperLibrary, background: Background, *, bot_token: str | None
) -> list[Coroutine[Any, Any, None]]:
    """The loops a serving process runs: scheduled harvests, and digests when it has Slack's token.
    Both need the store's folder; a bot over a URL leaves them to the server."""
    if not isinstance(library, Library):
        if background.harvests:
            raise PaperciteError("--harvest works on the store's folder; run it on the team server")
        return []
    jobs: list[Coroutine[Any, Any, None]] = []
    if background.harvests:
        jobs.append(harvest_forever(library, background.harvests, background.harvest_every, clock=utc_now))
    if bot_token:
        client = AsyncWebClient(
            token=bot_token, base_url=os.environ.get(API_URL_VARIABLE) or AsyncWebClient.BASE_URL
        )
        jobs.append(digests_forever(library, client))
    return jobs


def run_in_background(
    application: web.Application, jobs: Callable[[], list[Coroutine[Any, Any, None]]]
) -> None:
    """Start `jobs` with the application, cancel them before it closes the library."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(job) for job in jobs()]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    application.cleanup_ctx.append(context)


def web_application(app: AsyncApp, library: PaperLibrary, signing_secret: str | None) -> web.Application:
    events = events_handler(app, signing_secret)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "papers": await library.count()})

    async def close_library(_: web.Application) -> None:
        await library.close()

    application = web.Application(client_max_size=1024 * 1024)
    application.add_routes([web.post(EVENTS_PATH, events), web.get(HEALTH_PATH, health)])
    application.on_cleanup.append(close_library)
    return application


async def http_application(
    home: str | Path | None, bot_token: str, signing_secret: str, background: Background | None = None
) -> web.Application:
    library = await open_library(home)
    try:
        jobs = background_jobs(library, background or Background(), bot_token=bot_token)
    except BaseException:
        await library.close()
        raise
    app = build_app(
        library, bot_token=bot_token, signing_secret=signing_secret, api_url=os.environ.get(API_URL_VARIABLE)
    )
    application = web_application(app, library, signing_secret)
    run_in_background(application, lambda: jobs)
    return application


async def run_socket_mode(
    home: str | Path | None, bot_token: str, app_token: str, background: Background | None = None
) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    library = await open_library(home)
    tasks: list[asyncio.Task[None]] = []
    try:
        jobs = background_jobs(library, background or Background(), bot_token=bot_token)
        tasks = [asyncio.create_task(job) for job in jobs]
        app = build_app(
            library, bot_token=bot_token, signing_secret=None, api_url=os.environ.get(API_URL_VARIABLE)
        )
        await AsyncSocketModeHandler(app, app_token).start_async()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await library.close()


def serve(
    home: str | Path | None,
    *,
    socket_mode: bool,
    host: str,
    port: int,
    background: Background | None = None,
) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="papercite: %(levelname)s %(message)s")
    try:
        if socket_mode:
            tokens = require("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN")
            asyncio.run(
                run_socket_mode(home, tokens["SLACK_BOT_TOKEN"], tokens["SLACK_APP_TOKEN"], background)
            )
        else:
            tokens = require("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
            application = http_application(
                home, tokens["SLACK_BOT_TOKEN"], tokens["SLACK_SIGNING_SECRET"], background
            )
            log.info("serving Slack on http://%s:%d%s", host, port, EVENTS_PATH)
            web.run_app(application, host=host, port=port, print=None, backlog=LISTEN_BACKLOG)
    except MissingSetting as error:
        print(f"papercite: {error}", file=sys.stderr)
        return 1
    return 0


async def digest_command(library: PaperLibrary, *, every: bool, dry_run: bool, out: TextIO) -> bool:
    """`papercite digest [--all] [--dry-run]`; False if some channel's digest could not be sent."""
    if not isinstance(library, Library):
        raise PaperciteError("digest works on a folder's store (the team server's own), not on a URL")
    client = None
    if not dry_run:
        token = os.environ.get("SLACK_BOT_TOKEN")
        if not token:
            raise PaperciteError("set SLACK_BOT_TOKEN to send digests (or use --dry-run to see them)")
        client = AsyncWebClient(
            token=token, base_url=os.environ.get(API_URL_VARIABLE) or AsyncWebClient.BASE_URL
        )
    run = await send_digests(library, client, every=every, dry_run=dry_run, out=out)
    verb = "would send" if dry_run else "sent"
    print(
        f"{verb} {len(run.sent)} digests; {len(run.quiet)} channels had nothing new"
        + (f"; {len(run.ended)} channels gone, their follows ended" if run.ended else "")
        + (f"; {len(run.failed)} not sent (see the log)" if run.failed else ""),
        file=out,
    )
    return not run.failed
