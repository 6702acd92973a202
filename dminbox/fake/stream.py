"""The fake server's streaming API state: who listens, what each hears, and the test switches.

`FakeMastodon.stream` is a `StreamHub`. The state (fake/state.py) tells it of
every change a direct stream reports; it renders the event for each listener
of the row's owner. The WebSocket and server-sent-event answers that carry
the events live in fake/stream_endpoints.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon
    from dminbox.fake.state import ConversationRow, StatusRecord

__all__ = ["Frame", "StreamHub", "StreamListener"]

PING_INTERVAL = 30.0
"""Seconds between WebSocket pings: Mastodon's streaming server pings every 30 s."""
THUMP_INTERVAL = 15.0
"""Seconds between `:thump` comments on Mastodon's server-sent events."""

Ending = Literal["drop", "close", "gone"]


def _dumps(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Frame:
    """One thing to send: an event with its payload, or (event None) a bare WebSocket text."""

    event: str | None
    payload: str


class StreamListener:
    """One open stream (a WebSocket or an event-stream answer) of one account."""

    def __init__(self, owner_id: str, token: str, kind: str, *, subscribed: bool) -> None:
        self.owner_id = owner_id
        self.token = token
        self.kind = kind
        self.subscribed = subscribed
        """Whether it hears the direct stream (a WebSocket may subscribe later)."""
        self.ending: Ending | None = None
        self.close_code = 1000
        self.close_reason = ""
        self.awaiting_pong = False
        self._frames: deque[Frame] = deque()
        self._pongs: deque[bytes] = deque()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wake = asyncio.Event()

    def deliver(self, frame: Frame) -> None:
        if self.subscribed or frame.event is None:
            self._frames.append(frame)
            self.wake()

    def answer_ping(self, payload: bytes) -> None:
        self._pongs.append(payload)
        self.wake()

    def end(self, ending: Ending, code: int = 1000, reason: str = "") -> None:
        if self.ending is None:
            self.ending, self.close_code, self.close_reason = ending, code, reason
        self.wake()

    def wake(self) -> None:
        """Rouse the task sending this stream; safe from another thread too."""
        if threading.get_ident() == self._thread:
            self._wake.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def take_frames(self) -> list[Frame]:
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def take_pongs(self) -> list[bytes]:
        pongs = list(self._pongs)
        self._pongs.clear()
        return pongs

    def forget_pongs(self) -> None:
        self._pongs.clear()

    async def wait(self, timeout: float | None) -> None:
        """Until something is waiting to be sent (or `timeout` seconds); then clear the wake.

        Not `asyncio.wait_for`: on Python 3.11 it can swallow a cancellation that comes
        as the wait ends, and a stream whose reader has gone would then never stop.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        self._wake.clear()


class StreamHub:
    """The direct stream of every account, and the switches tests pull (see FakeMastodon)."""

    def __init__(self, server: FakeMastodon) -> None:
        self._server = server
        self._listeners: list[StreamListener] = []
        self._ping_interval: float | None = PING_INTERVAL
        self._thump_interval: float | None = THUMP_INTERVAL
        self._stalled = False
        self.refuse: int | None = None
        """Answer new stream connections with this HTTP status instead (None: accept).
        502 is a proxy that cannot reach the streaming server; 200 or 404 is a proxy
        or server that answers a WebSocket upgrade as a plain request."""
        self.connections = 0
        """Streams opened (accepted) so far: a reconnect adds one."""
        self.attempts = 0
        """Stream requests seen so far, refused ones included."""

    # Switches

    @property
    def ping_interval(self) -> float | None:
        """Seconds between WebSocket pings (None: never); 30 as on Mastodon."""
        return self._ping_interval

    @ping_interval.setter
    def ping_interval(self, seconds: float | None) -> None:
        self._ping_interval = seconds
        self._wake_all()

    @property
    def thump_interval(self) -> float | None:
        """Seconds between `:thump` comments on server-sent events (None: never); 15."""
        return self._thump_interval

    @thump_interval.setter
    def thump_interval(self, seconds: float | None) -> None:
        self._thump_interval = seconds
        self._wake_all()

    def heartbeat(self, seconds: float | None) -> None:
        """Set both the ping and the `:thump` interval."""
        self._ping_interval = self._thump_interval = seconds
        self._wake_all()

    @property
    def stalled(self) -> bool:
        return self._stalled

    def stall(self, stalled: bool = True) -> None:
        """Keep every stream open but send nothing at all, not even a heartbeat; events
        are held back and all sent once `stall(False)` is called."""
        self._stalled = stalled
        self._wake_all()

    def drop(self) -> int:
        """Hang up every open stream now, without a close frame; returns how many."""
        listeners = [listener for listener in self._listeners if listener.ending is None]
        for listener in listeners:
            listener.end("drop")
        return len(listeners)

    def close(self, code: int = 1000, reason: str = "") -> int:
        """Close every open stream cleanly (a close frame; an event stream just ends)."""
        listeners = [listener for listener in self._listeners if listener.ending is None]
        for listener in listeners:
            listener.end("close", code, reason)
        return len(listeners)

    @property
    def open(self) -> int:
        """Streams open now. A client that goes away is noticed when the server next writes
        to it (at the latest at the next heartbeat) over a socket, at once in-process."""
        return sum(1 for listener in self._listeners if listener.ending is None)

    async def wait_for_connections(self, count: int, timeout: float = 5.0) -> None:
        """Until `connections` reaches `count`: for tests that wait for a client to reconnect."""
        async with asyncio.timeout(timeout):
            while self.connections < count:
                await asyncio.sleep(0.005)

    # Used by the stream answers

    def attach(self, owner_id: str, token: str, kind: str, *, subscribed: bool) -> StreamListener:
        listener = StreamListener(owner_id, token, kind, subscribed=subscribed)
        self._listeners.append(listener)
        self.connections += 1
        return listener

    def detach(self, listener: StreamListener) -> None:
        listener.end("gone")
        if listener in self._listeners:
            self._listeners.remove(listener)

    def token_revoked(self, token: str) -> None:
        """Mastodon closes the streams of a revoked token (its `kill` system event)."""
        for listener in self._listeners:
            if listener.token == token:
                listener.end("close")

    # Told by the state (StateWatcher)

    def row_changed(self, row: ConversationRow) -> None:
        listeners = self._listening(row.owner_id)
        if listeners:
            payload = _dumps(self._server.renderer.conversation(row))
            for listener in listeners:
                listener.deliver(Frame("conversation", payload))

    def status_deleted(self, status: StatusRecord) -> None:
        for owner_id in dict.fromkeys([status.account_id, *status.mention_ids]):
            for listener in self._listening(owner_id):
                listener.deliver(Frame("delete", status.id))

    def _listening(self, owner_id: str) -> list[StreamListener]:
        return [
            listener
            for listener in self._listeners
            if listener.owner_id == owner_id and listener.ending is None
        ]

    def _wake_all(self) -> None:
        for listener in self._listeners:
            listener.wake()


def websocket_message(frame: Frame) -> str:
    """A frame as Mastodon's WebSocket sends it: the payload is a string, even when JSON."""
    if frame.event is None:
        return frame.payload
    return _dumps({"stream": ["direct"], "event": frame.event, "payload": frame.payload})


def event_stream_text(frame: Frame) -> str:
    """A frame as one server-sent event (its payload is always one line)."""
    return f"event: {frame.event}\ndata: {frame.payload}\n\n"
