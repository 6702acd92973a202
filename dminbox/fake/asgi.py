"""Calls an ASGI 3 app for one request: its answer as a stream (`open_app`), or whole (`call_app`).

The app runs in a task of its own and can only get one body piece ahead of
the reader, so a body of any size (generated as it is sent) costs the memory
of one piece.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["AppResponse", "AsgiApp", "CollectedResponse", "call_app", "http_scope", "open_app"]

AsgiApp = Callable[
    [dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]
]


@dataclass
class CollectedResponse:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


def http_scope(
    method: str,
    path: str,
    query_string: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    raw_path: bytes,
    scheme: str,
    server: tuple[str, int] | None,
    client: tuple[str, int] | None,
) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "server": server,
        "client": client,
    }


_END = object()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class AppResponse:
    """An answer whose head has come and whose body the app is still producing.

    Read the body with `next_chunk()` until it gives None; an exception the
    app raises while sending the body comes out of `next_chunk()`. Always
    `aclose()`: it stops the app if the reader gave up early.
    """

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        chunks: asyncio.Queue[object],
        task: asyncio.Task[None],
    ) -> None:
        self.status = status
        self.headers = headers
        self._chunks = chunks
        self._task = task
        self._done = False

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body, or None at its end."""
        if self._done:
            return None
        item = await self._chunks.get()
        if item is _END:
            self._done = True
            return None
        if isinstance(item, _Failed):
            self._done = True
            raise item.error
        assert isinstance(item, bytes)
        return item

    async def aclose(self) -> None:
        if not self._task.done():
            self._task.cancel()
        # asyncio.wait, not a suppressed await: a cancellation of the caller itself
        # (a client's worker being stopped) must not be swallowed here.
        await asyncio.wait([self._task])


async def open_app(app: AsgiApp, scope: dict, body: bytes) -> AppResponse:
    """Run the app until it starts its answer; exceptions it raises before that reach the caller."""
    request_sent = False
    started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = (
        asyncio.get_running_loop().create_future()
    )
    chunks: asyncio.Queue[object] = asyncio.Queue(maxsize=1)
    ended = False

    async def receive() -> dict:
        nonlocal request_sent
        if request_sent:
            return {"type": "http.disconnect"}
        request_sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal ended
        if message["type"] == "http.response.start":
            started.set_result((message["status"], list(message.get("headers", []))))
        elif message["type"] == "http.response.body" and not ended:
            data = bytes(message.get("body", b""))
            if data:
                await chunks.put(data)
            if not message.get("more_body", False):
                ended = True
                await chunks.put(_END)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except Exception as error:
            if not started.done():
                started.set_exception(error)
            elif not ended:
                await chunks.put(_Failed(error))
            return
        if not started.done():
            started.set_exception(RuntimeError("the ASGI app finished without starting a response"))
        elif not ended:
            await chunks.put(_END)

    task = asyncio.create_task(run())
    try:
        status, headers = await started
    except BaseException:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise
    return AppResponse(status, headers, chunks, task)


async def call_app(app: AsgiApp, scope: dict, body: bytes) -> CollectedResponse:
    """Run the app once and collect its whole answer; exceptions it raises reach the caller."""
    response = await open_app(app, scope, body)
    parts: list[bytes] = []
    try:
        while (chunk := await response.next_chunk()) is not None:
            parts.append(chunk)
    finally:
        await response.aclose()
    return CollectedResponse(response.status, response.headers, b"".join(parts))
