"""WebSockets into the fake server's ASGI app: in-process (httpx-ws) and on a socket (wsproto).

Both carry ASGI's `websocket` messages, the WebSocket Denial Response
extension (an HTTP answer instead of the upgrade), and this package's own
`dminbox.websocket` extension, which ASGI has no messages for:

    {"type": PING, "bytes": b""}   app -> client: send a ping; client -> app: a ping came
    {"type": PONG, "bytes": b""}   app -> client: send a pong; client -> app: a pong came
    {"type": HANGUP}               app -> client: lose the connection, no close frame

The framing is wsproto's in both: httpx-ws's in-process stream wraps it, and
`serve_websocket` drives it over the loopback server's socket.
"""

from __future__ import annotations

import asyncio
import contextlib

import anyio
import httpcore
import httpx
from httpx_ws.transport import ASGIWebSocketAsyncNetworkStream
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from dminbox.fake.asgi import AsgiApp

__all__ = [
    "EXTENSION",
    "HANGUP",
    "PING",
    "PONG",
    "is_upgrade",
    "open_in_process",
    "serve_websocket",
    "websocket_scope",
]

EXTENSION = "dminbox.websocket"
PING = "dminbox.websocket.ping"
PONG = "dminbox.websocket.pong"
HANGUP = "dminbox.websocket.hangup"
DENIAL = "websocket.http.response"
ACCEPT_TIMEOUT = 10.0
"""Seconds the app has to accept or refuse a WebSocket."""
ABNORMAL_CLOSURE = 1006
_HOSTS: set[asyncio.Task[None]] = set()
"""The in-process WebSockets running now: asyncio itself keeps only weak references."""


def is_upgrade(headers: httpx.Headers) -> bool:
    return headers.get("upgrade", "").strip().lower() == "websocket"


def websocket_scope(
    path: str,
    query_string: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    raw_path: bytes,
    scheme: str,
    server: tuple[str, int] | None,
    client: tuple[str, int] | None,
) -> dict:
    """An ASGI `websocket` scope, offering the denial and `dminbox.websocket` extensions."""
    headers = [(name.lower(), value) for name, value in headers]
    offered = b",".join(value for name, value in headers if name == b"sec-websocket-protocol")
    subprotocols = [p.strip() for p in offered.decode("latin-1").split(",") if p.strip()]
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": {"http": "ws", "https": "wss"}.get(scheme, scheme),
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": "",
        "headers": headers,
        "server": server,
        "client": client,
        "subprotocols": subprotocols,
        "extensions": {DENIAL: {}, EXTENSION: {}},
    }


# -- in-process, through httpx-ws --------------------------------------------------


class _InProcessStream(ASGIWebSocketAsyncNetworkStream):
    """httpx-ws's in-process WebSocket, plus what a network does: pings, pongs, hang-ups.

    httpx-ws turns its own keep-alive pings off for this stream, as for any
    in-process one; the server's pings still come, and are answered.
    """

    def __init__(self, app: AsgiApp, scope: dict, task_group: anyio.abc.TaskGroup) -> None:
        super().__init__(app, scope, task_group, ACCEPT_TIMEOUT)  # type: ignore[arg-type]
        self.finished = asyncio.Event()
        self._hung_up = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._hung_up:
            return b""
        message = await self.receive(timeout)
        kind = message["type"]
        event: Event
        if kind == HANGUP:
            self._hung_up = True
            return b""  # the end of the stream, as a socket closed under the client
        if kind == PING:
            event = Ping(bytes(message.get("bytes") or b""))
        elif kind == PONG:
            event = Pong(bytes(message.get("bytes") or b""))
        elif kind == "websocket.send" and message.get("text") is not None:
            event = TextMessage(message["text"])
        elif kind == "websocket.send":
            event = BytesMessage(bytes(message.get("bytes") or b""))
        elif kind == "websocket.close":
            event = CloseConnection(message.get("code", 1000), message.get("reason") or "")
        else:
            raise RuntimeError(f"the fake server sent an unknown WebSocket message {kind!r}")
        return self.connection.send(event)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._hung_up:
            raise httpcore.WriteError("the fake server hung up")
        self.connection.receive_data(buffer)
        for event in self.connection.events():
            message = _client_message(event)
            if message is not None:
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    await self.send(message)

    async def aclose(self) -> None:
        await super().aclose()
        self.finished.set()


def _client_message(event: Event) -> dict | None:
    """What the app hears of one event from the client (None: nothing)."""
    if isinstance(event, TextMessage):
        return {"type": "websocket.receive", "text": event.data}
    if isinstance(event, BytesMessage):
        return {"type": "websocket.receive", "bytes": bytes(event.data)}
    if isinstance(event, Ping):
        return {"type": PING, "bytes": bytes(event.payload)}
    if isinstance(event, Pong):
        return {"type": PONG, "bytes": bytes(event.payload)}
    if isinstance(event, CloseConnection):
        return {"type": "websocket.disconnect", "code": event.code, "reason": event.reason}
    return None


async def _host(
    app: AsgiApp,
    scope: dict,
    ready: asyncio.Future[tuple[_InProcessStream, bytes]],
) -> None:
    """Run one in-process WebSocket, in a task (and task group) of its own until it closes.

    A task of its own, so the connection does not depend on the transport being
    entered as a context manager, nor on which task opens or closes it.
    """
    async with anyio.create_task_group() as group:
        try:
            stream = _InProcessStream(app, scope, group)  # checks the upgrade request
            _, accept = await stream.__aenter__()
        except Exception as error:
            if not ready.done():
                ready.set_exception(error)
            group.cancel_scope.cancel()
            return
        if ready.done():  # the caller gave up meanwhile
            await stream.aclose()
        else:
            ready.set_result((stream, accept))
            await stream.finished.wait()
        group.cancel_scope.cancel()


async def open_in_process(app: AsgiApp, request: httpx.Request, scope: dict) -> httpx.Response:
    """The answer to a WebSocket upgrade: 101 with httpx-ws's `network_stream`, or the
    HTTP answer the app gave instead (httpx-ws then raises WebSocketUpgradeError)."""
    from httpx_ws import WebSocketDisconnect, WebSocketUpgradeError

    loop = asyncio.get_running_loop()
    ready: asyncio.Future[tuple[_InProcessStream, bytes]] = loop.create_future()
    task = loop.create_task(_host(app, scope, ready))
    _HOSTS.add(task)
    task.add_done_callback(_HOSTS.discard)
    try:
        stream, accept = await ready
    except WebSocketUpgradeError as refused:
        answer = refused.response
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=answer.content, request=request
        )
    except WebSocketDisconnect:
        return httpx.Response(403, request=request)  # ASGI: a close before the accept
    except RemoteProtocolError as error:
        return httpx.Response(400, text=str(error), request=request)
    except BaseException:
        task.cancel()
        raise
    head = accept.decode("latin-1").split("\r\n")[1:]
    headers = [(name, value) for name, _, value in (line.partition(": ") for line in head) if value]
    return httpx.Response(
        101, headers=headers, extensions={"network_stream": stream}, request=request
    )


# -- over the loopback server's socket, with wsproto --------------------------------


async def serve_websocket(
    app: AsgiApp,
    scope: dict,
    target: bytes,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Answer one upgrade request on a socket and run the WebSocket until either side ends it.

    The caller closes the socket afterwards; nothing else is read from it.
    """
    connection = WSConnection(ConnectionType.SERVER)
    try:
        connection.initiate_upgrade_connection(scope["headers"], target)
    except RemoteProtocolError as error:  # not a WebSocket handshake after all
        reject = error.event_hint if isinstance(error.event_hint, RejectConnection) else None
        writer.write(connection.send(reject or RejectConnection(400)))
        await writer.drain()
        return
    for event in connection.events():
        assert isinstance(event, Request)
    incoming: asyncio.Queue[dict] = asyncio.Queue()
    incoming.put_nowait({"type": "websocket.connect"})
    pump: asyncio.Task[None] | None = None
    done = False

    async def write(event: Event) -> None:
        writer.write(connection.send(event))
        await writer.drain()

    async def receive() -> dict:
        return await incoming.get()

    async def send(message: dict) -> None:
        nonlocal pump, done
        kind = message["type"]
        if done:
            return
        if kind == "websocket.accept":
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers") or []]
            await write(AcceptConnection(message.get("subprotocol"), extra_headers=headers))
            pump = asyncio.create_task(_pump(connection, reader, writer, incoming))
        elif kind == f"{DENIAL}.start":
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers") or []]
            await write(RejectConnection(message["status"], headers, has_body=True))
        elif kind == f"{DENIAL}.body":
            more = bool(message.get("more_body"))
            await write(RejectData(bytes(message.get("body") or b""), body_finished=not more))
            done = not more
        elif kind == "websocket.close" and connection.state == ConnectionState.CONNECTING:
            await write(RejectConnection(403))  # ASGI: a close before the accept
            done = True
        elif kind == "websocket.close":
            done = True
            with contextlib.suppress(LocalProtocolError):
                await write(CloseConnection(message.get("code", 1000), message.get("reason")))
        elif kind == "websocket.send" and message.get("text") is not None:
            await write(TextMessage(message["text"]))
        elif kind == "websocket.send":
            await write(BytesMessage(bytes(message.get("bytes") or b"")))
        elif kind in (PING, PONG):
            frame = Ping if kind == PING else Pong
            await write(frame(bytes(message.get("bytes") or b"")))
        elif kind == HANGUP:
            done = True
            writer.transport.abort()  # no close frame, no goodbye
        else:
            raise RuntimeError(f"unknown ASGI WebSocket message {kind!r}")

    try:
        await app(scope, receive, send)
        if connection.state == ConnectionState.OPEN and not done:
            await write(CloseConnection(1000))  # the app returned without closing
    finally:
        if pump is not None:
            pump.cancel()
            await asyncio.wait([pump])


async def _pump(
    connection: WSConnection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    incoming: asyncio.Queue[dict],
) -> None:
    """Read the client's frames and hand them to the app, whole messages at a time."""
    texts: list[str] = []
    chunks: list[bytes] = []
    try:
        while True:
            data = await reader.read(65536)
            connection.receive_data(data or None)
            for event in connection.events():
                if isinstance(event, CloseConnection) and (
                    connection.state == ConnectionState.REMOTE_CLOSING
                ):
                    writer.write(connection.send(event.response()))
                if isinstance(event, TextMessage):
                    texts.append(event.data)
                    if not event.message_finished:
                        continue
                    event = TextMessage("".join(texts))
                    texts.clear()
                elif isinstance(event, BytesMessage):
                    chunks.append(bytes(event.data))
                    if not event.message_finished:
                        continue
                    event = BytesMessage(b"".join(chunks))
                    chunks.clear()
                message = _client_message(event)
                if message is not None:
                    incoming.put_nowait(message)
                if isinstance(event, CloseConnection):
                    return
            if not data:
                return
    except (ConnectionError, OSError):
        incoming.put_nowait({"type": "websocket.disconnect", "code": ABNORMAL_CLOSURE})
