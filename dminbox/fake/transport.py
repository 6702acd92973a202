"""An httpx transport that hands requests straight to the fake server's ASGI app, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from dminbox.fake.asgi import AppResponse, AsgiApp, http_scope, open_app
from dminbox.fake.faults import ConnectionDropped
from dminbox.fake.websocket import is_upgrade, open_in_process, websocket_scope

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """Like httpx.ASGITransport, plus what a network does: hang-ups and read timeouts.

    A dropped connection raises httpx.RemoteProtocolError. The client's read
    timeout is honoured for the head and for each piece of the body, so a held
    or delayed answer can time out. The body is streamed as the app sends it
    (never collected first), so a huge or endless body costs one piece of memory.

    A request with `Upgrade: websocket` (as httpx-ws's `aconnect_ws` sends) becomes
    a WebSocket through httpx-ws's in-process stream (fake/websocket.py); each one
    runs in a task of its own, so the transport needs no `async with`.
    """

    def __init__(self, app: AsgiApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme in ("https", "wss") else 80)
        if is_upgrade(request.headers) or url.scheme in ("ws", "wss"):
            scope = websocket_scope(
                url.path,
                url.query,
                list(request.headers.raw),
                raw_path=url.raw_path.split(b"?", 1)[0],
                scheme=url.scheme,
                server=(url.host, port),
                client=("127.0.0.1", 50000),
            )
            return await open_in_process(self.app, request, scope)
        body = await request.aread()
        scope = http_scope(
            request.method,
            url.path,
            url.query,
            list(request.headers.raw),
            raw_path=url.raw_path.split(b"?", 1)[0],
            scheme=url.scheme,
            server=(url.host, port),
            client=("127.0.0.1", 50000),
        )
        read_timeout = request.extensions.get("timeout", {}).get("read")
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
            # caller's cancellation when the answer comes at the same moment.
            async with asyncio.timeout(read_timeout):
                answer = await open_app(self.app, scope, body)
        except ConnectionDropped as error:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from error
        except TimeoutError as error:
            raise httpx.ReadTimeout(
                "The fake server did not answer in time.", request=request
            ) from error
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=_AppStream(answer, request, read_timeout),
            request=request,
        )


class _AppStream(httpx.AsyncByteStream):
    """The app's body as httpx reads it, piece by piece, with the read timeout per piece."""

    def __init__(self, answer: AppResponse, request: httpx.Request, timeout: float | None) -> None:
        self._answer = answer
        self._request = request
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async with asyncio.timeout(self._timeout):
                    chunk = await self._answer.next_chunk()
            except ConnectionDropped as error:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body",
                    request=self._request,
                ) from error
            except TimeoutError as error:
                raise httpx.ReadTimeout(
                    "The fake server stopped sending the body.", request=self._request
                ) from error
            if chunk is None:
                return
            yield chunk

    async def aclose(self) -> None:
        await self._answer.aclose()
