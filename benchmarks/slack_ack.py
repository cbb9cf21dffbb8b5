"""How fast `/paper` is acknowledged: signed slash commands into the real app over loopback HTTP.

    python -m benchmarks.slack_ack [--requests N]

Slack allows 3 seconds. The time measured is the HTTP round trip of the command, which ends at ack();
the search itself is answered afterwards through response_url (a local endpoint here).
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
from bots.main import web_application
from core.library import Library
from tests.e2e.fake_slack import FakeSlack, command_body, sign

SECRET = "benchmark-secret"


async def run(count: int, home: Path | None = None) -> list[float]:
    slack = FakeSlack()
    slack.start()
    queries = [s.text for s in load_sentences(DEFAULT_SENTENCES)]
    with tempfile.TemporaryDirectory() as scratch:
        library = await Library.open(home or Path(scratch))
        app = build_app(library, bot_token="xoxb-bench", signing_secret=SECRET, api_url=slack.api_url)
        runner = web.AppRunner(web_application(app, library))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        samples = []
        async with aiohttp.ClientSession() as session:
            for number in range(count):
                body = command_body(queries[number % len(queries)], slack.response_url())
                headers = {"Content-Type": "application/x-www-form-urlencoded"} | sign(SECRET, body)
                started = time.perf_counter()
                async with session.post(
                    f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                ) as r:
                    assert r.status == 200
                samples.append(time.perf_counter() - started)
        await slack.wait_for("response_url", count)
        await runner.cleanup()
    slack.stop()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    samples = sorted(asyncio.run(run(args.requests)))
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print("| requests | ack median ms | ack p95 ms | ack max ms |")
    print("|---|---|---|---|")
    print(
        f"| {len(samples)} | {1000 * statistics.median(samples):.2f} | {1000 * p95:.2f} | {1000 * samples[-1]:.2f} |"
    )


if __name__ == "__main__":
    main()
