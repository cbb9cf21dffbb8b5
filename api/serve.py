"""Running `papercite serve`: the API, and the Slack bot's endpoint when Slack is configured."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

from aiohttp import web

from api.app import Limits
from api.node import ACCESS_LOG_FORMAT, application_for, log, quiet_malformed_requests
from core.harvest_schedule import Background


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_warning(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"papercite: warning: serving on {host} over plain HTTP: tokens and papers cross the network "
        "unencrypted. Serve on 127.0.0.1 and put a reverse proxy with TLS in front (Caddy or nginx: "
        "docs/deploy/Caddyfile, docs/deploy/nginx.conf; see docs/api.md, 'Behind a reverse proxy')."
    )


def serve(
    home: Path,
    host: str,
    port: int,
    limits: Limits,
    *,
    access_log: bool = False,
    workers: int = 1,
    worker_timeout: float | None = None,
    background: Background | None = None,
) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="papercite: %(levelname)s %(message)s")
    quiet_malformed_requests()
    warning = plain_http_warning(host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if workers > 1:
        from api.workers import DEFAULT_WORKER_TIMEOUT, serve_with_workers

        return serve_with_workers(
            home,
            host,
            port,
            limits,
            workers=workers,
            access_log=access_log,
            worker_timeout=worker_timeout or DEFAULT_WORKER_TIMEOUT,
            background=background,
        )
    log.info("serving %s on http://%s:%d/v1/", home, host, port)
    web.run_app(
        application_for(home, limits, background=background),
        host=host,
        port=port,
        print=None,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        access_log_format=ACCESS_LOG_FORMAT,
    )
    return 0
