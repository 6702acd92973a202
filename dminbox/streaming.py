"""The user's direct stream: what the server pushes as it happens.

Mastodon and GoToSocial both serve it over WebSocket (`/api/v1/streaming`
with `stream=direct`) on a host the instance names in
`configuration.urls.streaming` (docs/mastodon.md, "Streaming"). The token
goes in the `Sec-WebSocket-Protocol` header, never in the URL, where proxies
would log it. The WebSocket itself is httpx-ws's (framing by wsproto), over
the client's own httpx transport, so the fake server's transport carries it
in tests.

`open_direct` yields `StreamEvent`s until the stream ends; it raises
`StreamRefused` when this server will not give a stream (the engine then
polls instead), `AuthenticationError` for a refused token, and `NetworkError`
for a drop (the engine reconnects). A stream is alive while frames or our
own pings' answers come back: `Stream.check_alive` says when it went silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from dminbox.errors import ApiError, AuthenticationError, NetworkError

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_FRAME", "Stream", "StreamEvent", "StreamRefused", "streaming_url"]

log = logging.getLogger(__name__)

MAX_FRAME = 1024 * 1024
"""The largest frame read: a Conversation is a few KiB; a bigger frame ends the stream."""
PATH = "/api/v1/streaming"


class StreamRefused(ApiError):
    """The server gives no stream here (refused, not there, or a proxy breaks it)."""


@dataclass(frozen=True)
class StreamEvent:
    """One thing the server pushed: a conversation that changed, or a deleted status."""

    kind: Literal["connected", "conversation", "delete"]
    conversation: dict[str, Any] | None = None
    """The Conversation JSON, as the API gives it (for `conversation`)."""
    status_id: str | None = None
    """The deleted status (for `delete`)."""


def streaming_url(instance: str, info: dict[str, Any] | None) -> str:
    """The URL of the direct stream: the host the instance names, on the scheme that
    matches the instance's (an https instance streams only over TLS). It is given as
    http(s)://, which httpx speaks; the request is the WebSocket upgrade."""
    named = None
    if isinstance(info, dict):
        configuration = info.get("configuration")
        urls = configuration.get("urls") if isinstance(configuration, dict) else None
        if not isinstance(urls, dict):
            urls = info.get("urls")  # v1
        if isinstance(urls, dict):
            named = urls.get("streaming") or urls.get("streaming_api")
    base = urlsplit(instance)
    secure = base.scheme == "https"
    if isinstance(named, str) and named:
        parts = urlsplit(named)
        if parts.scheme in ("wss", "https") or (not secure and parts.scheme in ("ws", "http")):
            scheme = "https" if parts.scheme in ("wss", "https") else "http"
            if parts.netloc:
                return urlunsplit((scheme, parts.netloc, PATH, "stream=direct", ""))
    scheme = "https" if secure else "http"
    return urlunsplit((scheme, base.netloc, PATH, "stream=direct", ""))


class Stream:
    """One connection to the direct stream."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        token: str,
        *,
        ping_interval: float | None = 30.0,
        ping_timeout: float | None = 30.0,
    ) -> None:
        self._http = http
        self.url = url
        self._token = token
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    async def events(self) -> AsyncGenerator[StreamEvent, None]:
        """Connects and yields what the server pushes, until the stream ends: first a
        `connected` event, once the server accepted (the gap can be filled then)."""
        from httpx_ws import aconnect_ws

        session: Any
        try:
            async with aconnect_ws(
                self.url,
                self._http,
                subprotocols=[self._token],
                max_message_size_bytes=MAX_FRAME,
                keepalive_ping_interval_seconds=self._ping_interval,
                keepalive_ping_timeout_seconds=self._ping_timeout,
            ) as session:
                yield StreamEvent("connected")
                while True:
                    event = _parse(await session.receive_text())
                    if event is not None:
                        yield event
        except BaseExceptionGroup as group:  # httpx-ws wraps what leaves its task group
            raise _mapped(_leaves(group), self.host) from group
        except Exception as error:
            raise _mapped([error], self.host) from error


def _mapped(errors: list[BaseException], host: str) -> BaseException:
    """What ended the stream, as one of dminbox's errors (a bug is passed on as it is)."""
    import httpx
    from httpx_ws import HTTPXWSException, WebSocketDisconnect, WebSocketUpgradeError

    for error in errors:
        if isinstance(error, GeneratorExit | asyncio.CancelledError):
            return error  # the reader stopped: not a failure
    for error in errors:
        if isinstance(error, ApiError):
            return error
        if isinstance(error, WebSocketUpgradeError):
            status = getattr(error.response, "status_code", 0)
            if status == 401:
                return AuthenticationError(
                    f"{host} refused the token for the stream.", status_code=401
                )
            return StreamRefused(
                f"{host} gives no live stream (HTTP {status}).", status_code=status
            )
        if isinstance(error, WebSocketDisconnect):
            return NetworkError(f"The stream from {host} closed.")
        if isinstance(error, HTTPXWSException | httpx.TransportError | OSError | TimeoutError):
            return NetworkError(f"The stream from {host} dropped.")
    return errors[0]


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            leaves.extend(_leaves(error))
        else:
            leaves.append(error)
    return leaves


def _parse(text: str) -> StreamEvent | None:
    """One frame: `{"stream": [...], "event": ..., "payload": "<JSON as a string>"}`."""
    with contextlib.suppress(ValueError, TypeError):
        frame = json.loads(text)
        if not isinstance(frame, dict):
            return None
        event = frame.get("event")
        payload = frame.get("payload")
        if event == "conversation" and isinstance(payload, str):
            data = json.loads(payload)
            if isinstance(data, dict) and "id" in data:
                return StreamEvent("conversation", data)
        elif event == "delete" and isinstance(payload, str | int):
            return StreamEvent("delete", status_id=str(payload))
    log.debug("a stream frame dminbox does not use: %.200r", text)
    return None
