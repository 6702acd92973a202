"""An httpx transport that hands requests straight to the fake server's ASGI app, in-process."""

from __future__ import annotations

import asyncio

import httpx

from dminbox.fake.asgi import AsgiApp, call_app, http_scope
from dminbox.fake.faults import ConnectionDropped

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """Like httpx.ASGITransport, plus what a network does: hang-ups and read timeouts.

    A dropped connection raises httpx.RemoteProtocolError. The client's read
    timeout is honoured, so a held or delayed answer can time out.
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
            response = await asyncio.wait_for(call_app(self.app, scope, body), read_timeout)
        except ConnectionDropped as error:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from error
        except TimeoutError as error:
            raise httpx.ReadTimeout(
                "The fake server did not answer in time.", request=request
            ) from error
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )
