"""A transport that can take the fake server off the network, as a dropped link would."""

from __future__ import annotations

import httpx


class Outage(httpx.AsyncBaseTransport):
    """Passes requests to `inner`, or refuses to connect while `down` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
