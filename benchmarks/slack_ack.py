"""How fast `/paper` is acknowledged: signed slash commands into the real app over loopback HTTP.

    python -m benchmarks.slack_ack [--requests N] [--concurrent N] [--backlog N]

Slack allows 3 seconds. The time measured is the HTTP round trip of the command, which ends at ack();
the search itself is answered afterwards through response_url (a local endpoint here). One after
another, then all at once (each on its own connection, as Slack's many senders would be): a burst
larger than the listen backlog used to leave some connections waiting for a SYN retry.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from benchmarks.citing_sentences import DEFAULT_SENTENCES, load_sentences
from bots.app import build_app
from bots.main import LISTEN_BACKLOG, web_application
from core.library import Library
from tests.e2e.fake_slack import FakeSlack, command_body, sign

SECRET = "benchmark-secret"


async def run(
    count: int, home: Path | None = None, concurrent: int = 1, backlog: int = LISTEN_BACKLOG
) -> list[float]:
    """Ack times in seconds: `count` commands, `concurrent` of them in flight at once."""
    slack = FakeSlack()
    slack.start()
    queries = [s.text for s in load_sentences(DEFAULT_SENTENCES)]
    with tempfile.TemporaryDirectory() as scratch:
        library = await Library.open(home or Path(scratch))
        app = build_app(library, bot_token="xoxb-bench", signing_secret=SECRET, api_url=slack.api_url)
        runner = web.AppRunner(web_application(app, library, SECRET))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=backlog)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/slack/events"
        samples: list[float] = []
        # No pooling: every command opens its own connection, as independent senders do.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(number: int) -> None:
                body = command_body(queries[number % len(queries)], slack.response_url())
                headers = {"Content-Type": "application/x-www-form-urlencoded"} | sign(SECRET, body)
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as r:
                    assert r.status == 200
                samples.append(time.perf_counter() - started)

            for first in range(0, count, concurrent):
                await asyncio.gather(*(one(n) for n in range(first, min(count, first + concurrent))))
        await slack.wait_for("response_url", count, timeout=300)
        await runner.cleanup()
    slack.stop()
    return samples


def row(label: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(0.95 * (len(samples) - 1))]
    return (
        f"| {label} | {len(samples)} | {1000 * statistics.median(samples):.2f} | {1000 * p95:.2f} "
        f"| {1000 * samples[-1]:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrent", type=int, default=200, help="the burst's size (default 200)")
    parser.add_argument("--backlog", type=int, default=LISTEN_BACKLOG, help="the listen backlog")
    args = parser.parse_args()
    print(f"listen backlog {args.backlog}")
    print("| sent | requests | ack median ms | ack p95 ms | ack max ms |")
    print("|---|---|---|---|---|")
    print(row("one after another", asyncio.run(run(args.requests, backlog=args.backlog))))
    burst = asyncio.run(run(args.requests, concurrent=args.concurrent, backlog=args.backlog))
    print(row(f"{args.concurrent} at once", burst))


if __name__ == "__main__":
    main()
