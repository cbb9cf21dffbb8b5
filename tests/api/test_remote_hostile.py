"""The remote client against a server that is not quite papercite (a proxy, a misconfigured URL):
each answer becomes a RemoteError in words, never an exception from the HTTP library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from core.records import UnknownKey
from core.remote import RemoteError, RemoteLibrary, RemoteRefused


async def _serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


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
    runner, url = await _serve(_answer)
    yield url
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
    runner, url = await _serve(_misshapen)
    library = RemoteLibrary(url, "token")
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


async def test_a_redirect_is_not_followed_so_the_text_never_reaches_another_host() -> None:
    """A 307 to another host was followed, with the search's body (the sentence being written)."""
    elsewhere: list[str] = []

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(await request.text())
        return web.json_response({"hits": []})

    other_runner, other_url = await _serve(other)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{other_url}{request.path}")

    runner, url = await _serve(redirect)
    library = RemoteLibrary(url, "pct_secret")
    try:
        with pytest.raises(RemoteError, match=f"redirected POST /v1/search to '{other_url}/v1/search'"):
            await library.search("our unpublished sentence", 5)
        assert elsewhere == []
    finally:
        await library.close()
        await runner.cleanup()
        await other_runner.cleanup()


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(b'{"change": "')
    for _ in range(2000):  # 128 MB, as fast as loopback takes it
        await response.write(b"9" * 65536)
    return response


async def test_an_answer_that_does_not_end_is_refused_past_64_mb() -> None:
    """It was read whole: a 1.3 GB answer took 3.4 GB of memory before failing."""
    runner, url = await _serve(_endless)
    library = RemoteLibrary(url, "token")
    try:
        with pytest.raises(RemoteError, match="more than 64 MB; refused"):
            await library.change_marker()
    finally:
        await library.close()
        await runner.cleanup()


async def _odd_kinds(request: web.Request) -> web.Response:
    kind = request.path.rsplit("/", 1)[-1]
    if kind == "changes":
        return web.Response(text='{"change": 1e999}', content_type="application/json")
    if kind == "stats":
        return web.json_response(["a", "list"])
    if kind == "remove":
        return web.json_response({"removed": 5})
    return web.json_response({"keys": 7})


async def test_numbers_past_any_integer_and_lists_for_maps_are_remote_errors() -> None:
    """An infinite change marker raised OverflowError; stats as a list and keys as a number a
    TypeError out of the CLI and the language server."""
    runner, url = await _serve(_odd_kinds)
    library = RemoteLibrary(url, "token")
    try:
        with pytest.raises(RemoteError, match="the change marker in a shape"):
            await library.change_marker()
        with pytest.raises(RemoteError, match="its statistics in a shape"):
            await library.stats()
        with pytest.raises(RemoteError, match="a removal in a shape"):
            await library.remove(["k"])
        with pytest.raises(RemoteError, match="keys in a shape"):
            await library.keys_with_prefix("k")
        with pytest.raises(RemoteError, match="keys in a shape"):
            await library.keys_near("k")
    finally:
        await library.close()
        await runner.cleanup()


async def test_an_editor_is_told_once_when_its_server_redirects(caplog: pytest.LogCaptureFixture) -> None:
    """The language server's watcher logged a traceback every second for an answer that is not
    papercite's (a redirect, a page) and never told the user."""
    from server.remote_index import RemoteIndex

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("https://papers.example.org" + request.path)

    runner, url = await _serve(redirect)
    told: list[str] = []
    index = RemoteIndex(
        RemoteLibrary(url, "token"), lambda message, warning: told.append(message), lambda: None
    )
    index.start()
    try:
        await asyncio.sleep(3.5)
    finally:
        await index.close()
        await runner.cleanup()
    assert (
        len(told) == 1 and "redirected GET /v1/changes to 'https://papers.example.org/v1/changes'" in told[0]
    )
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
