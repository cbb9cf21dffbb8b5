"""The remote client against a server that is not quite papercite (a proxy, a misconfigured URL):
each answer becomes a RemoteError in words, never an exception from the HTTP library."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from core.records import UnknownKey
from core.remote import RemoteError, RemoteLibrary, RemoteRefused


async def _answer(request: web.Request) -> web.Response:
    kind = request.path.rsplit("/", 1)[-1]
    if kind == "stats":  # a proxy's login page with status 200
        return web.Response(text="<html>Sign in</html>", content_type="text/html")
    if kind == "changes":  # JSON that is not an object, with an error status
        return web.json_response(["not", "an", "object"], status=400)
    # limiting with an HTTP date, as proxies may
    return web.Response(status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, body=b"\xff")


@pytest.fixture
async def odd_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_answers_that_are_not_papercites_are_remote_errors(odd_server: str) -> None:
    library = RemoteLibrary(odd_server, "token")
    try:
        with pytest.raises(RemoteError, match="not a papercite answer"):
            await library.stats()
        with pytest.raises(RemoteError, match="answered 400"):
            await library.change_marker()
        with pytest.raises(RemoteRefused, match="try again in 1 s") as refused:
            await library.get("anything")
        assert refused.value.status == 429
    finally:
        await library.close()


async def _misshapen(request: web.Request) -> web.Response:
    """papercite's routes, answering 200 with fields of the wrong kind."""
    kind = request.path.rsplit("/", 1)[-1]
    if kind == "changes":
        return web.json_response({"change": "soon"})
    if kind == "search":
        return web.json_response({"hits": [], "statistics": {"documents": [], "doc_freq": 5}})
    return web.json_response({"code": "unknown_key", "key": "k", "suggestions": 5}, status=404)


async def test_answers_of_the_wrong_shape_are_remote_errors() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _misshapen)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    library = RemoteLibrary(f"http://127.0.0.1:{port}", "token")
    try:
        with pytest.raises(RemoteError, match="the change marker in a shape"):
            await library.change_marker()
        with pytest.raises(RemoteError, match="a search in a shape"):
            await library.search({"cache": 1.0}, 5)
        with pytest.raises(UnknownKey) as unknown:
            await library.get("k")
        assert unknown.value.suggestions == []
    finally:
        await library.close()
        await runner.cleanup()
