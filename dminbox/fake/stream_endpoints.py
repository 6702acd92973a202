"""The streaming API's answers: the direct stream over a WebSocket, and as server-sent events.

Both follow Mastodon 4.3's streaming server (docs/mastodon.md, "Streaming"):
the token may come as `Authorization: Bearer`, `?access_token=` or the
`Sec-WebSocket-Protocol` header, whose first protocol the accept echoes; a
bad token is refused before the upgrade with 401. GoToSocial speaks only
the WebSocket and refuses a token without a read scope with 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from dminbox.fake.app import READ, RecordedRequest
from dminbox.fake.faults import ConnectionDropped, fault_body
from dminbox.fake.stream import Frame, event_stream_text, websocket_message
from dminbox.fake.websocket import DENIAL, EXTENSION, HANGUP, PING, PONG

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon
    from dminbox.fake.stream import StreamHub, StreamListener

__all__ = ["EVENT_STREAM_PATH", "WEBSOCKET_PATHS", "event_stream", "websocket_session"]

WEBSOCKET_PATHS = ("/api/v1/streaming", "/api/v1/streaming/")
EVENT_STREAM_PATH = "/api/v1/streaming/direct"
SCOPES_MISSING = "Access token does not have the required scopes"
BINARY_REFUSED = "The mastodon streaming server does not support binary messages"
GOTOSOCIAL_SCOPES = "Forbidden: token has insufficient scope permission"
# What a web server in front answers to an upgrade it does not pass on.
PLAIN_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>dminbox fake</title></head><body></body></html>\n"
)
Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]
GONE = (anyio.ClosedResourceError, anyio.BrokenResourceError, ConnectionError)


@dataclass
class _Refusal(Exception):
    """An HTTP answer instead of a stream."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def error(cls, status: int, message: str) -> _Refusal:
        return cls(status, json.dumps({"error": message}).encode())

    def head(self) -> list[tuple[bytes, bytes]]:
        headers = [
            ("content-type", self.content_type),
            ("content-length", str(len(self.body))),
            *self.headers,
        ]
        return [(name.lower().encode(), value.encode()) for name, value in headers]


def _refused(status: int) -> _Refusal:
    if status == 200:
        return _Refusal(200, PLAIN_PAGE, "text/html; charset=utf-8")
    content_type, body = fault_body(status)
    return _Refusal(status, body, content_type)


def _token(request: RecordedRequest, flavour: str) -> str:
    """The token as each server looks for it: Mastodon tries the Authorization header
    first, GoToSocial last; both take `access_token`, then the WebSocket protocol header."""
    authorization = request.headers.get("authorization", "").strip()
    bearer = authorization.removeprefix("Bearer ").strip()
    query = request.query.get("access_token", "").strip()
    protocol = request.headers.get("sec-websocket-protocol", "").strip()
    order = (bearer, query, protocol) if flavour == "mastodon" else (query, protocol, bearer)
    return next((token for token in order if token), "")


def _authorize(
    server: FakeMastodon, request: RecordedRequest, *, websocket: bool
) -> tuple[str, str, bool]:
    """(owner id, token, whether it may read statuses), or a _Refusal."""
    hub = server.stream
    if hub.refuse is not None:
        raise _refused(hub.refuse)
    text = _token(request, server.flavour)
    access = server.tokens.get(text)
    if access is None or access.revoked:
        message = "Invalid access token" if text else "Missing access token"
        if server.flavour == "gotosocial":
            raise _Refusal.error(401, f"Unauthorized: {message.lower()}")
        if websocket:
            # Mastodon writes this answer to the socket itself: no body, the reason in a header.
            raise _Refusal(401, b"", "text/plain", [("X-Error-Message", message)])
        raise _Refusal.error(401, message)
    allowed = bool(access.scopes.intersection(READ))
    if not allowed and server.flavour == "gotosocial":
        raise _Refusal.error(403, GOTOSOCIAL_SCOPES)
    if not allowed and not websocket:
        raise _Refusal.error(401, SCOPES_MISSING)
    return access.owner_id, text, allowed


def _first(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


# -- WebSocket -----------------------------------------------------------------------


async def websocket_session(
    server: FakeMastodon, scope: dict, receive: Receive, send: Send
) -> None:
    """An ASGI `websocket` connection to the streaming API, from handshake to close."""
    if (await receive())["type"] != "websocket.connect":
        return
    request = RecordedRequest.from_scope({**scope, "method": "GET"}, b"")
    server.requests.append(request)
    hub = server.stream
    hub.attempts += 1
    extensions = scope.get("extensions") or {}
    try:
        if request.path not in WEBSOCKET_PATHS:
            raise _Refusal.error(404, "Not found")
        owner_id, token, allowed = _authorize(server, request, websocket=True)
    except _Refusal as refusal:
        if DENIAL in extensions:
            await send(
                {"type": f"{DENIAL}.start", "status": refusal.status, "headers": refusal.head()}
            )
            await send({"type": f"{DENIAL}.body", "body": refusal.body})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    stream = _first(request.query.get("stream"))
    listener = hub.attach(owner_id, token, "websocket", subscribed=allowed and stream == "direct")
    if stream and not allowed:
        listener.deliver(Frame(None, json.dumps({"error": SCOPES_MISSING, "status": 401})))
    reader = asyncio.create_task(_read_client(receive, listener, allowed=allowed))
    try:
        with contextlib.suppress(*GONE):
            await _send_frames(hub, listener, send, extended=EXTENSION in extensions)
    finally:
        reader.cancel()
        await asyncio.wait([reader])
        hub.detach(listener)


async def _read_client(receive: Receive, listener: StreamListener, *, allowed: bool) -> None:
    """The client's side: subscriptions, pings and pongs, and its going away."""
    try:
        while listener.ending is None:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                break
            if kind == PING:
                listener.answer_ping(bytes(message.get("bytes") or b""))
            elif kind == PONG:
                listener.awaiting_pong = False
            elif kind == "websocket.receive" and message.get("text") is None:
                listener.end("close", 1003, BINARY_REFUSED)
            elif kind == "websocket.receive":
                _subscription(listener, message["text"], allowed=allowed)
    except Exception:  # the in-process stream closed under us: the client is gone
        pass
    listener.end("gone")


def _subscription(listener: StreamListener, text: str, *, allowed: bool) -> None:
    """`{"type": "subscribe", "stream": "direct"}` and its `unsubscribe`; others are ignored."""
    try:
        message = json.loads(text)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    stream = _first(message.get("stream"))
    if message.get("type") == "subscribe":
        if not allowed:
            listener.deliver(Frame(None, json.dumps({"error": SCOPES_MISSING, "status": 401})))
        elif stream == "direct":
            listener.subscribed = True  # subscribing twice is once, as on Mastodon
    elif message.get("type") == "unsubscribe" and stream == "direct":
        listener.subscribed = False


async def _send_frames(
    hub: StreamHub, listener: StreamListener, send: Send, *, extended: bool
) -> None:
    """The server's side: events, pongs and pings, unless stalled; then the ending."""
    loop = asyncio.get_running_loop()
    last_ping = loop.time()
    while listener.ending is None:
        interval = hub.ping_interval if extended else None
        timeout: float | None = None
        if hub.stalled:
            listener.forget_pongs()  # a stalled link loses them
            listener.awaiting_pong = False
            last_ping = loop.time()
        else:
            for payload in listener.take_pongs():
                await send({"type": PONG, "bytes": payload})
            for frame in listener.take_frames():
                await send({"type": "websocket.send", "text": websocket_message(frame)})
            if interval is not None:
                if loop.time() - last_ping >= interval:
                    if listener.awaiting_pong:
                        listener.end("drop")  # Mastodon terminates who missed the last ping
                        break
                    await send({"type": PING, "bytes": b""})
                    listener.awaiting_pong, last_ping = True, loop.time()
                timeout = max(0.0, last_ping + interval - loop.time())
        await listener.wait(timeout)
    if listener.ending == "drop":
        if not extended:
            raise ConnectionDropped("the streaming WebSocket")
        await send({"type": HANGUP})
    elif listener.ending == "close":
        code, reason = listener.close_code, listener.close_reason
        await send({"type": "websocket.close", "code": code, "reason": reason})


# -- Server-sent events (Mastodon only) ------------------------------------------------


async def event_stream(server: FakeMastodon, request: RecordedRequest, send: Send) -> None:
    """GET /api/v1/streaming/direct: `:)`, then events and a `:thump` now and then."""
    hub = server.stream
    hub.attempts += 1
    try:
        owner_id, token, _ = _authorize(server, request, websocket=False)
    except _Refusal as refusal:
        await send(
            {"type": "http.response.start", "status": refusal.status, "headers": refusal.head()}
        )
        await send({"type": "http.response.body", "body": refusal.body})
        return
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    listener = hub.attach(owner_id, token, "event-stream", subscribed=True)
    loop = asyncio.get_running_loop()
    try:
        greeted = False
        last_thump = loop.time()
        while listener.ending is None:
            timeout: float | None = None
            if hub.stalled:
                last_thump = loop.time()
            else:
                pieces = [] if greeted else [":)\n"]
                greeted = True
                pieces += [event_stream_text(frame) for frame in listener.take_frames()]
                interval = hub.thump_interval
                if interval is not None:
                    if loop.time() - last_thump >= interval:
                        pieces.append(":thump\n")
                        last_thump = loop.time()
                    timeout = max(0.0, last_thump + interval - loop.time())
                if pieces:
                    body = "".join(pieces).encode()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
            await listener.wait(timeout)
        if listener.ending == "drop":
            raise ConnectionDropped("the event stream")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        hub.detach(listener)
