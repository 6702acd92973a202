"""Live: the inbox stays true on its own, from the user's direct stream or by polling.

`Live` belongs to the `Engine`. It listens on the direct stream while the
engine runs, and every (re)connect first fills the gap from page 1's `prev`
link, so nothing that arrived meanwhile is missed. A dropped stream, or one
whose pings go unanswered, reconnects after a capped backoff with jitter.
Where no stream can be had (refused, a proxy that breaks WebSockets, a server
without one) it polls the `prev` link instead: every minute, every 15 s for
a while after the user's own activity; it says so once in the status line,
and tries the stream again now and then.

A `conversation` event is upserted by id: a new last message moves the row
to the top, unread; a change of read state alone changes the marker in
place. A `delete` of a status in the open thread takes it out of the thread.

`on_event` tells whoever wants the raw news (`dminbox watch`): each conversation
Live hears of or fills in, as the API gives it, and each deleted status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dminbox.engine import reconcile, store_tasks
from dminbox.engine.backoff import Backoff
from dminbox.engine.changes import Arrived, Notice, RowChanged, RowsChanged, StateChanged
from dminbox.errors import ApiError, AuthenticationError, NetworkError
from dminbox.models import Conversation
from dminbox.page import PAGE_SIZE
from dminbox.text import one_line

if TYPE_CHECKING:
    from dminbox.engine.core import Engine
    from dminbox.streaming import Stream, StreamEvent

__all__ = ["ACTIVE_POLL", "POLL", "STREAM_AGAIN", "Live", "LiveState"]

log = logging.getLogger(__name__)

LiveState = Literal["off", "connecting", "live", "polling", "offline"]
POLL = 60.0
"""Seconds between two polls of page 1's `prev` link when there is no stream."""
ACTIVE_POLL = 15.0
"""The same, for a while after the user's own activity (a reply may bring an answer)."""
ACTIVE_FOR = 300.0
"""How long "a while" is."""
STREAM_AGAIN = 600.0
"""While polling, the stream is tried again this often."""
GAP_PAGES = 10
"""At most this many `prev` pages fill one gap (400 conversations)."""
FRESH = 10.0
"""A stream that connects within this many seconds of a read of page 1 has no gap."""


@dataclass
class Live:
    """The stream, or polling: one producer of changes among the engine's."""

    engine: Engine
    ping_interval: float | None = 30.0
    """Seconds between our pings on the stream; an unanswered one ends it (None: none)."""
    ping_timeout: float | None = 30.0
    enabled: bool = True
    state: LiveState = "off"
    why_polling: str = ""
    backoff: Backoff = field(default_factory=lambda: Backoff(base=2.0, cap=60.0))
    on_event: list[Callable[[StreamEvent], None]] = field(default_factory=list)
    """Called, once stored, with each conversation Live learns of as the API gives it
    (`StreamEvent("conversation", raw)`: from the stream, or a gap filled or polled,
    oldest first; a gap may bring again one already told) and each deleted status
    (`StreamEvent("delete", status_id=...)`). A row removed here is not told."""
    _task: asyncio.Task[Any] | None = None
    _active_until: float = 0.0
    _url: str | None = None
    _lost_at: float | None = None
    """When a live stream last ended: what came after it was heard by nobody."""

    # -- intents -------------------------------------------------------------------

    def start(self) -> None:
        """Starts listening (once): call it after the engine caught up."""
        if not self.enabled or self._task is not None or self.engine._closed:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live")

    def poke(self) -> None:
        """The user did something: polling, if it polls, is faster for a while."""
        self._active_until = self.engine.clock.now() + ACTIVE_FOR

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- the loop ------------------------------------------------------------------------

    def _set(self, state: LiveState) -> None:
        if state != self.state:
            self.state = state
            self.engine._emit(StateChanged())

    async def _run(self) -> None:
        engine = self.engine
        while not engine._closed:
            try:
                await self._listen(await self._stream())
                raise NetworkError("The stream ended.")
            except asyncio.CancelledError:
                raise
            except AuthenticationError as error:
                # The engine's own requests say so too; the stream waits for a new login.
                log.info("the stream refused the token: %s", error)
                self._set("offline")
                return
            except ApiError as error:
                from dminbox.streaming import StreamRefused

                if isinstance(error, StreamRefused):
                    await self._poll(str(error))
                    continue
                log.info("the stream dropped: %s", error)
                self._set("offline" if engine.online is False else "connecting")
            except Exception:
                log.exception("the stream failed")
                self._set("connecting")
            await engine.clock.sleep(self.backoff.next_delay())

    async def _stream(self) -> Stream:
        from dminbox.streaming import Stream, streaming_url

        engine = self.engine
        self._set("connecting" if engine.online is not False else "offline")
        if self._url is None:
            try:
                info = await engine.client.instance_info()
            except ApiError as error:
                if error.transient:
                    raise
                info = None  # no instance document: the instance's own host, then
            self._url = streaming_url(engine.client.instance, info)
        client = engine.client
        return Stream(
            client.http,
            self._url,
            client.token,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
        )

    async def _listen(self, stream: Stream) -> None:
        clock = self.engine.clock
        try:
            # Closed here, in this task, whatever ends the loop: left to the garbage
            # collector, httpx-ws's task group would be exited from another task.
            async with contextlib.aclosing(stream.events()) as events:
                async for event in events:
                    if event.kind == "connected":
                        self.backoff.reset()
                        self._set("live")
                        # Page 1 read just now tells all, unless a stream was lost since.
                        read_at, lost_at = self.engine._page1_at, self._lost_at
                        if (
                            read_at is None
                            or clock.now() - read_at > FRESH
                            or (lost_at is not None and read_at <= lost_at)
                        ):
                            await self.fill_gap()
                    elif event.kind == "conversation" and event.conversation is not None:
                        await self.upsert(event.conversation)
                    elif event.kind == "delete" and event.status_id is not None:
                        await self.deleted(event.status_id)
        finally:
            if self.state == "live":
                self._lost_at = clock.now()

    async def _poll(self, why: str) -> None:
        """No stream: page 1's `prev` link every minute (faster after activity), for a
        while; then the stream is tried again."""
        engine = self.engine
        if not self.why_polling:
            self.why_polling = one_line(f"{why} Checking for new messages every minute.")
            engine._emit(Notice(self.why_polling, "warning", 8))  # said once
        self._set("polling")
        until = engine.clock.now() + STREAM_AGAIN
        while not engine._closed and engine.clock.now() < until:
            fast = engine.clock.now() < self._active_until
            await engine.clock.sleep(ACTIVE_POLL if fast else POLL)
            try:
                await self.fill_gap()
            except ApiError as error:
                log.info("a poll failed: %s", error)

    # -- what comes in ---------------------------------------------------------------------

    def _tell(self, events: list[StreamEvent]) -> None:
        for event in events:
            for callback in list(self.on_event):
                try:
                    callback(event)
                except Exception:  # a listener's bug must not stop the stream
                    log.exception("a Live.on_event callback failed on %r", event)

    async def fill_gap(self) -> None:
        """Rows newer than the newest loaded, from page 1's `prev` link (never what is
        already here); with no link yet, page 1 itself."""
        engine = self.engine
        inbox = engine.inbox
        if engine.store is None:
            return
        from dminbox.streaming import StreamEvent

        if inbox.prev_url is None:
            await engine._refresh(quiet=True, silent=True)
            if self.on_event:  # page 1, as stored
                rows = await engine._db(engine.store.raw_conversations, limit=PAGE_SIZE)
                self._tell([StreamEvent("conversation", raw) for raw in reversed(rows)])
            return
        before = {c.id: reconcile.last_id(c) for c in inbox}
        url: str | None = inbox.prev_url
        brought: list[Conversation] = []
        told: list[StreamEvent] = []
        for _ in range(GAP_PAGES):
            if url is None:
                break
            page = await engine._fetch(url, older=False)
            if not inbox.add_newer_page(page):
                break
            brought.extend(page.conversations)
            told.extend(StreamEvent("conversation", raw) for raw in reversed(page.raw))
            url = page.prev_url
        if not brought:
            return
        await engine._save_paging()
        engine._succeeded("refresh")
        engine._emit(RowsChanged(0))
        await engine._count()
        engine._refresh_open_thread(brought)
        for conversation in brought:
            if conversation.unread and before.get(conversation.id) != reconcile.last_id(
                conversation
            ):
                engine._emit(Arrived(conversation))
        self._tell(told)

    async def upsert(self, raw: dict[str, Any]) -> None:
        """A conversation the stream sent: stored, then shown where it belongs."""
        engine = self.engine
        store = engine.store
        if store is None:
            return
        try:
            conversation = Conversation.model_validate(raw)
        except ValueError:
            log.info("the stream sent a conversation dminbox cannot read")
            return
        if conversation.id in engine._removed or any(
            r.row.id == conversation.id for r in engine._undo
        ):
            return  # removed here: the server's echo must not bring it back
        if conversation.id in engine.pending_reads and conversation.unread:
            conversation = reconcile.with_unread(conversation, False)
            raw = {**raw, "unread": False}
        elif conversation.id in engine.local_unread and not conversation.unread:
            conversation = reconcile.with_unread(conversation, True)
            raw = {**raw, "unread": True}
        await engine._db(store.put_conversations, [raw])
        inbox = engine.inbox
        index = inbox.index_of(conversation.id)
        current = inbox[index] if index is not None else None
        newest = inbox[0] if len(inbox) else None
        if current is not None and (
            reconcile.last_id(current) == reconcile.last_id(conversation)
            or reconcile.activity(conversation) < reconcile.activity(current)
        ):
            # Read elsewhere (or unread again), or its newest message deleted: the row
            # changes where it stands; nothing new came, nothing moves up.
            inbox.replace(conversation)
            engine._emit(RowChanged(conversation.id))
        elif (
            current is not None
            or newest is None
            or (reconcile.activity(conversation) >= reconcile.activity(newest))
        ):
            inbox.add_newer([conversation])
            engine.rows_known = True
            engine._emit(RowsChanged(0))
            engine._refresh_open_thread([conversation])
            if conversation.unread:
                engine._emit(Arrived(conversation))
        # else: an old row not loaded changed: the cache has it, the list will in time.
        await engine._count()
        engine._emit(StateChanged())
        from dminbox.streaming import StreamEvent

        self._tell([StreamEvent("conversation", raw)])

    async def deleted(self, status_id: str) -> None:
        """A status deleted on the server: out of the open thread (and the cache)."""
        engine = self.engine
        store = engine.store
        shown = engine.open_conversation
        if store is None:
            return
        await engine._db(store.forget_status, status_id)
        if shown is not None:
            thread = await engine._db(store_tasks.cached_thread, store, shown)
            engine._emit(engine.writer.thread_changed(shown, thread))
        if any(reconcile.last_id(c) == status_id for c in engine.inbox):
            # A row's last message went: page 1 says what it shows now.
            await engine._refresh(quiet=True, silent=True)
        from dminbox.streaming import StreamEvent

        self._tell([StreamEvent("delete", status_id=status_id)])
