"""An httpx transport that hands requests straight to the fake server's ASGI app, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from dminbox.fake.asgi import AppResponse, AsgiApp, http_scope, open_app
from dminbox.fake.faults import ConnectionDropped

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """Like httpx.ASGITransport, plus what a network does: hang-ups and read timeouts.

    A dropped connection raises httpx.RemoteProtocolError. The client's read
    timeout is honoured for the head and for each piece of the body, so a held
    or delayed answer can time out. The body is streamed as the app sends it
    (never collected first), so a huge or endless body costs one piece of memory.
    """

    def __init__(self, app: AsgiApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
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
            answer = await asyncio.wait_for(open_app(self.app, scope, body), read_timeout)
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
                chunk = await asyncio.wait_for(self._answer.next_chunk(), self._timeout)
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
