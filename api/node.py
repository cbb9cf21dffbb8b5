"""One serving process: the library, its HTTP API and Slack's endpoint beside it when Slack is set up.

`papercite serve` runs one; `serve --workers N` runs N of them on one port (api/workers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from api.app import Limits, build_application
from api.limits import Rate
from api.store_rate import StoreRateLimit
from core.harvest_schedule import Background
from core.library import Library
from core.log_lines import as_warning_line
from core.records import PaperciteError
from core.tokens import Location, list_tokens, token_check

log = logging.getLogger("papercite.api")
SLACK_EVENTS_PATH = "/slack/events"
SLACK_VARIABLES = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
# Requests are logged without their headers: the token travels in one.
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf'
FOLLOWING = web.AppKey("following", asyncio.Task[None])


class MalformedRequestsInOneLine(logging.Filter):
    """aiohttp logs each request it cannot parse (a line over 8 KB, a broken header) at ERROR with
    a traceback: any client could fill the log with them. They are the client's: one line each."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            as_warning_line(record, str(error).strip()[:200])
        return True


def quiet_malformed_requests() -> None:
    logging.getLogger("aiohttp.server").addFilter(MalformedRequestsInOneLine())


def _mount_slack(application: web.Application, library: Library) -> bool:
    """The Slack bot's endpoint in the same process, when its variables are set."""
    if not all(os.environ.get(name) for name in SLACK_VARIABLES):
        return False
    from bots.app import build_app
    from bots.main import API_URL_VARIABLE, events_handler

    secret = os.environ["SLACK_SIGNING_SECRET"]
    app = build_app(
        library,
        bot_token=os.environ["SLACK_BOT_TOKEN"],
        signing_secret=secret,
        api_url=os.environ.get(API_URL_VARIABLE),
    )
    # The bot's own endpoint, with its checks: bolt's adapter alone answered a timestamp of 'abc'
    # (no secret needed) and signed payloads that are not JSON objects with 500s.
    application.router.add_post(SLACK_EVENTS_PATH, events_handler(app, secret))
    return True


async def application_for(
    home: Path,
    limits: Limits,
    rate: Rate | None = None,
    *,
    warn_without_tokens: bool = True,
    background: Background | None = None,
) -> web.Application:
    library = await Library.open(home, build_index=False)
    if library.index.is_current(await library.store.head_seq()):
        await library.sync_index()  # nothing to build: ready before it listens (a restarted worker)
    tokens = token_check(library.store.location)
    shared: StoreRateLimit | None = None
    if rate is None and isinstance(library.store.location, str):
        rate = shared = StoreRateLimit(library.store.location, limits.rate, limits.burst)
    application = build_application(library, tokens, limits, rate)
    slack = _mount_slack(application, library)
    if slack:
        log.info("Slack events at %s", SLACK_EVENTS_PATH)
    background = background or Background()
    if background.harvests or slack:
        from bots.main import background_jobs, run_in_background

        # Scheduled harvests, and with Slack set up its digests (each one process at a time).
        jobs = background_jobs(
            library, background, bot_token=os.environ["SLACK_BOT_TOKEN"] if slack else None
        )
        run_in_background(application, lambda: jobs)

    async def keep_current() -> None:
        # The node listens at once (503 until ready: see api/app.starting), builds or catches up
        # its index, then follows the other nodes' writes.
        while True:
            try:
                await library.sync_index(wait=True)
                break
            except PaperciteError as error:  # the database away, or the home's lock held too long
                log.warning("cannot build the search index yet (trying again in 5 s): %s", error)
                await asyncio.sleep(5)
        log.info("the search index holds %d papers; answering", library.index.num_docs)
        await library.follow()

    async def start_following(_: web.Application) -> None:
        application[FOLLOWING] = asyncio.create_task(keep_current())

    async def close_library(_: web.Application) -> None:
        following = application[FOLLOWING]
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        tokens.close()
        if shared is not None:
            shared.close()
        await library.close()

    application.on_startup.append(start_following)
    application.on_cleanup.append(close_library)
    if warn_without_tokens:
        warn_if_no_tokens(library.store.location)
    return application


def warn_if_no_tokens(location: Location) -> None:
    if not list_tokens(location):
        log.warning(
            "no tokens yet: every API request will get 401; make one with `papercite token create NAME`"
        )
