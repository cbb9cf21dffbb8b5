"""The aiohttp application: routes, the access check (token, scope, rate) and error answers."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from api import openapi, routes
from api.errors import error_response, response_for
from api.limits import BODY_IDLE_SECONDS, DEFAULT_MAX_BODY_MB, Rate, RateLimit, retry_after
from core.library import Library
from core.records import StoreUnavailable
from core.tokens import READ, WRITE, Check

log = logging.getLogger("papercite.api")
HEALTH_PATH = "/healthz"
OPENAPI_PATH = "/v1/openapi.json"
_OPEN_PATHS = frozenset({HEALTH_PATH, OPENAPI_PATH})
# Which process answered: with `serve --workers N`, tells an operator (and the tests) which worker.
WORKER_HEADER = "Papercite-Worker"


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_MB * 1024 * 1024
    rate: float = 100.0
    burst: float = 200.0
    body_idle_seconds: float = BODY_IDLE_SECONDS


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def access(tokens: Check, rate: Rate) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: routes.Handler) -> web.StreamResponse:
        if request.path in _OPEN_PATHS or not request.path.startswith("/v1/"):
            return await handler(request)
        presented = _bearer(request)
        token = tokens.token(presented) if presented else None
        if token is None:
            response = error_response(
                401,
                "unauthorized",
                "a valid token is needed (Authorization: Bearer …)" if presented is None else "unknown token",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="papercite"'
            return response
        if getattr(handler, "scope", READ) == WRITE and not token.can_write:
            return error_response(403, "forbidden", f"token {token.name!r} may only read")
        wait = rate.wait(token.name)
        if wait:
            response = error_response(429, "rate_limited", f"too many requests for token {token.name!r}")
            response.headers["Retry-After"] = retry_after(wait)
            return response
        request[routes.TOKEN] = token
        return await handler(request)

    return check


@web.middleware
async def errors(request: web.Request, handler: routes.Handler) -> web.StreamResponse:
    """Library errors become their status codes; anything else a logged 500 with a plain message."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[routes.MAX_BODY] // (1024 * 1024)
        return error_response(413, "too_large", f"the body is over this server's limit of {limit} MB")
    except web.HTTPException:
        raise
    except ConnectionResetError:
        # The client went away mid-request (an upload abandoned): nothing broken, and the answer
        # (nginx's 499) reaches no one; a traceback would only alarm whoever reads the log.
        log.info("%s %s: the client closed the connection", request.method, request.path)
        return error_response(499, "client_closed", "the client closed the connection")
    except Exception as error:
        response = response_for(error)
        if response is not None:
            return response
        log.error("%s %s failed", request.method, request.path, exc_info=True)
        return error_response(500, "internal", f"the server failed: {type(error).__name__}")


@web.middleware
async def starting(request: web.Request, handler: routes.Handler) -> web.StreamResponse:
    """503 until the node's index has caught up with the store (a new node over a shared store
    builds its own first): a proxy sends the request to another node meanwhile."""
    library = request.app[routes.LIBRARY]
    if library.ready or request.path == OPENAPI_PATH:
        return await handler(request)
    response = error_response(
        503,
        "starting",
        f"this node is building its search index from the store ({library.index.num_docs} papers so "
        "far); it answers once that is done",
    )
    response.headers["Retry-After"] = "5"
    return response


async def health(request: web.Request) -> web.Response:
    # Supervisors ask often and give up after a second or so: stats() takes seconds at a million papers.
    library = request.app[routes.LIBRARY]
    try:
        return web.json_response({"ok": True, "papers": await library.count()})
    except StoreUnavailable as error:
        # Searches still answer from this node's index; writes wait for the database.
        return web.json_response({"ok": True, "papers": library.index.num_docs, "store": str(error)})


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


async def _name_worker(_: web.Request, response: web.StreamResponse) -> None:
    response.headers[WORKER_HEADER] = str(os.getpid())


def build_application(
    library: Library, tokens: Check, limits: Limits = Limits(), rate: Rate | None = None
) -> web.Application:
    """The API over `library`; `rate` counts requests per token (this process's own buckets unless
    given: workers of one server share theirs)."""
    application = web.Application(
        client_max_size=limits.max_body_bytes,
        middlewares=[starting, errors, access(tokens, rate or RateLimit(limits.rate, limits.burst))],
    )
    application.on_response_prepare.append(_name_worker)
    application[routes.LIBRARY] = library
    application[routes.MAX_BODY] = limits.max_body_bytes
    application[routes.BODY_IDLE] = limits.body_idle_seconds
    application.add_routes(
        [web.get(HEALTH_PATH, health), web.get(OPENAPI_PATH, openapi_document), *routes.routes()]
    )
    return application
