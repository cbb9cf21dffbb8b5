"""Library errors as HTTP answers: one JSON shape, `{"error": message, "code": name, …}`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.records import EmptyQuery, PaperciteError, StoreLocked, StoreUnavailable, UnknownKey
from core.wire import WireError


class BadRequest(Exception):
    """A request the API cannot read: the message names the field and what it must be."""


class BodyTimeout(Exception):
    """The request's body stopped arriving."""


def error_response(status: int, code: str, message: str, **details: Any) -> web.Response:
    return web.json_response({"error": message, "code": code, **details}, status=status)


def response_for(error: Exception) -> web.Response | None:
    """The answer for an error the library or the request names; None for an unexpected one."""
    if isinstance(error, UnknownKey):
        return error_response(404, "unknown_key", str(error), key=error.key, suggestions=error.suggestions)
    if isinstance(error, EmptyQuery):
        return error_response(400, "empty_query", str(error))
    if isinstance(error, BodyTimeout):
        return error_response(408, "timeout", str(error))
    if isinstance(error, (BadRequest, WireError)):
        return error_response(400, "bad_request", str(error))
    if isinstance(error, StoreLocked):
        # Another process (an ingest on the server's machine) holds the write lock.
        response = error_response(503, "busy", str(error))
        response.headers["Retry-After"] = "5"
        return response
    if isinstance(error, StoreUnavailable):
        # The database behind this node is away: the message names it (never its password).
        response = error_response(503, "store_unavailable", str(error))
        response.headers["Retry-After"] = "5"
        return response
    if isinstance(error, PaperciteError):
        return error_response(400, "refused", str(error))
    return None
