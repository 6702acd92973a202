"""Live: the inbox kept true by the direct stream (or by polling), in the app and the engine.

In-process streams go through `FakeMastodon.transport()`; the stall and the
end-to-end tests use a real loopback socket (`serve`), where pings exist.
Nothing sleeps: a test waits for the engine's changes, the server's
connection count, or moves the engine's ManualClock past a backoff or a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dminbox.client import MastodonClient
from dminbox.clock import ManualClock
from dminbox.engine import Engine
from dminbox.engine.changes import Arrived, Change, Notice, RowChanged
from dminbox.engine.live import POLL, STREAM_AGAIN
from dminbox.fake import FakeMastodon, Fault, serve
from dminbox.fake.stream import StreamListener
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp
from dminbox.ui.widgets.thread_view import MessageView

from conftest import (
    LIST,
    NOW,
    clock_of,
    fixed_clock,
    list_requests,
    make_engine,
    manual_clock,
    screen_of,
    settle,
)

SIZE = (120, 40)


class Changes:
    """What the engine says, as it says it, and a way to wait for a condition."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[Change] = []
        self._news = asyncio.Event()
        engine.observe(self._heard)

    def _heard(self, change: Change) -> None:
        self.seen.append(change)
        self._news.set()

    def of(self, kind: type) -> list[Any]:
        return [c for c in self.seen if isinstance(c, kind)]

    async def until(self, condition: Callable[[], bool], timeout: float = 2.0) -> None:
        """Until `condition()` holds: checked after each change the engine makes, and
        every few milliseconds for what makes none (a request, a sleeper)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._news.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.005):
                        await self._news.wait()

    async def live(self) -> None:
        await self.until(lambda: self.engine.live.state == "live")


def live_app(server: FakeMastodon, **options: Any) -> tuple[DmInboxApp, Changes]:
    engine = make_engine(server, live=True, **options)
    return DmInboxApp(engine, label="test", clock=fixed_clock), Changes(engine)


def person(server: FakeMastodon, username: str) -> dict:
    record = server.state.find_account(username, None, local_only=False)
    assert record is not None, username
    return server.account(record.id)


def one_to_one(server: FakeMastodon, conversation_id: str) -> dict:
    """The other person of a one-to-one row."""
    row = next(r for r in server.conversation_rows() if r["id"] == conversation_id)
    assert len(row["accounts"]) == 1
    return row["accounts"][0]


def capture_writes(app: DmInboxApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the app writes to the terminal from now on. A headless app writes nothing
    at all, so its driver is taken for a terminal's from here on (its `write` drops
    what it is given: it is only counted)."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    monkeypatch.setattr(type(driver), "is_headless", property(lambda self: False))
    monkeypatch.setattr(driver, "write", written.append)
    monkeypatch.setattr(driver, "flush", lambda: None)
    return written


def line_text(app: DmInboxApp, y: int) -> str:
    rows = screen_of(app).conversation_list
    return rows.render_line(y).text


# -- a new message, a read elsewhere ---------------------------------------------------


async def test_a_new_message_moves_its_row_to_the_top_and_the_cursor_stays_put() -> None:
    server = FakeMastodon.demo(now=NOW)
    app, changes = live_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await changes.live()
        screen = screen_of(app)
        rows = screen.conversation_list
        rows.cursor = 5
        await pilot.pause()
        watched = rows.highlighted
        assert watched is not None and rows.cursor == 5
        line = rows.cursor - rows.scroll_offset.y
        shown = line_text(app, line)
        target = next(
            c
            for i, c in enumerate(screen.inbox)
            if i > 10 and not c.unread and len(c.accounts) == 1
        )
        unread = screen.inbox.unread_count
        assert screen.status_line == f"{unread} unread"
        assert target.last_status is not None
        server.post_status(
            one_to_one(server, target.id),
            "are you coming tonight?",
            mentions=[server.me],
            in_reply_to_id=target.last_status.id,
        )
        await changes.until(lambda: bool(changes.of(Arrived)))
        await settle(app, pilot)
        assert screen.inbox[0].id == target.id and screen.inbox[0].unread
        assert rows.scroll_offset.y == 1, "the view scrolled with the cursor's row"
        assert rows.highlighted is not None and rows.highlighted.id == watched.id
        assert rows.cursor == 6, "its row moved down one"
        assert rows.cursor - rows.scroll_offset.y == line, "on the same line of the screen"
        assert line_text(app, line) == shown
        assert screen.status_line == f"{unread + 1} unread"
        messages = [n.message for n in app._notifications]
        assert [m for m in messages if m.startswith("New message from ")] == [
            f"New message from {target.accounts[0].display_name}."
        ], messages


async def test_a_read_elsewhere_changes_the_mark_in_place() -> None:
    server = FakeMastodon.demo(now=NOW)
    app, changes = live_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await changes.live()
        screen = screen_of(app)
        rows = screen.conversation_list
        rows.cursor = 2
        await pilot.pause()
        order = [c.id for c in screen.inbox]
        watched = rows.highlighted
        index, target = next((i, c) for i, c in enumerate(screen.inbox) if i > 3 and c.unread)
        unread = screen.inbox.unread_count
        async with httpx.AsyncClient(transport=server.transport()) as other:  # another client
            answer = await other.post(
                f"{server.base_url}{LIST}/{target.id}/read",
                headers={"Authorization": f"Bearer {server.token}"},
            )
            assert answer.status_code == 200
        await changes.until(lambda: RowChanged(target.id) in changes.seen)
        await settle(app, pilot)
        assert [c.id for c in screen.inbox] == order, "no row moved"
        assert not screen.inbox[index].unread
        assert rows.highlighted == watched and rows.cursor == 2
        assert screen.status_line == f"{unread - 1} unread"
        assert not changes.of(Arrived), "a read is no new message"
        assert not [n for n in app._notifications if n.message.startswith("New message")]


# -- a drop, a stall ----------------------------------------------------------------------


async def test_a_dropped_stream_reconnects_and_fills_the_gap() -> None:
    server = FakeMastodon.demo(now=NOW)
    app, changes = live_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await changes.live()
        engine = changes.engine
        screen = screen_of(app)
        assert server.stream.drop() == 1
        await changes.until(lambda: engine.live.state == "connecting")
        assert server.stream.open == 0
        posted = server.post_status(
            person(server, "tomasz"), "posted while you were away", mentions=[server.me]
        )
        await settle(app, pilot)
        assert screen.inbox[0].last_status is not None
        assert screen.inbox[0].last_status.id != posted["id"], "nothing to hear it"
        assert screen.status_line.endswith(" · connecting")
        before = len(list_requests(server))
        clock_of(app).advance(2.0)  # the first backoff is 1-2 s: page 1 is seconds old
        await server.stream.wait_for_connections(2, timeout=2.0)
        await changes.until(lambda: bool(changes.of(Arrived)))
        await settle(app, pilot)
        assert engine.live.state == "live"
        top = screen.inbox[0]
        assert top.last_status is not None and top.last_status.id == posted["id"]
        assert top.unread
        gap = list_requests(server)[before:]
        assert gap and all("min_id=" in url for url in gap), "page 1's prev link, not page 1"
        assert not screen.status_line.endswith("connecting")


async def test_a_gap_that_cannot_be_filled_ends_the_stream_and_the_next_one_fills_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = FakeMastodon.demo(now=NOW)
    engine = make_engine(server, live=True)
    changes = Changes(engine)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    try:
        await engine.start()
        engine.connect()
        await changes.live()
        server.stream.drop()
        await changes.until(lambda: engine.live.state == "connecting")
        posted = server.post_status(person(server, "alice"), "meanwhile", mentions=[server.me])
        server.faults.add(Fault(method="GET", path=LIST, status=503))
        clock.advance(2.0)
        await server.stream.wait_for_connections(2, timeout=2.0)
        await changes.until(lambda: engine.live.state == "connecting")  # the gap failed
        await changes.until(lambda: server.stream.open == 0)  # and that stream is closed
        clock.advance(4.0)
        await server.stream.wait_for_connections(3, timeout=2.0)
        await changes.until(lambda: bool(changes.of(Arrived)))
        top = engine.inbox[0]
        assert top.last_status is not None and top.last_status.id == posted["id"]
        assert engine.live.state == "live" and server.stream.open == 1
    finally:
        await engine.close()
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


def socket_engine(server: FakeMastodon, url: str) -> Engine:
    """An engine that reaches the fake through a real loopback socket."""
    return Engine(
        open_store=lambda: Cache.open(None),
        open_client=lambda: MastodonClient(url, server.token),
        instance=url,
        clock=manual_clock(),
        live=True,
    )


async def test_a_stalled_stream_is_noticed_by_its_pings_and_reconnects() -> None:
    server = FakeMastodon.demo(now=NOW)
    listener = await serve(server)
    engine = socket_engine(server, listener.url)
    engine.live.ping_interval = engine.live.ping_timeout = 0.2
    changes = Changes(engine)
    try:
        await engine.start()
        engine.connect()
        await changes.live()
        assert server.stream.connections == 1
        server.stream.stall(True)
        await changes.until(lambda: engine.live.state == "connecting", timeout=2.0)
        server.stream.stall(False)
        assert isinstance(engine.clock, ManualClock)
        engine.clock.advance(2.0)  # the first backoff is 1-2 s
        await server.stream.wait_for_connections(2, timeout=2.0)
        await changes.live()
        status = server.post_status(person(server, "alice"), "back again", mentions=[server.me])
        await changes.until(lambda: bool(changes.of(Arrived)))
        top = engine.inbox[0]
        assert top.last_status is not None and top.last_status.id == status["id"]
    finally:
        await engine.close()
        await listener.close()


# -- no stream: polling -----------------------------------------------------------------


async def poll(changes: Changes, seconds: float = POLL) -> None:
    """Moves the engine's clock on by `seconds` and waits until Live sleeps again."""
    clock = changes.engine.clock
    assert isinstance(clock, ManualClock)
    sleeping = clock.sleepers
    assert sleeping >= 1, "Live sleeps until its next poll"
    clock.advance(seconds)
    await changes.until(lambda: clock.sleepers == sleeping)


@pytest.mark.parametrize("status", [502, 404])
async def test_a_refused_stream_falls_back_to_polling_the_prev_link(status: int) -> None:
    server = FakeMastodon.demo(now=NOW)
    server.stream.refuse = status
    app, changes = live_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        engine = changes.engine
        await changes.until(lambda: engine.live.state == "polling")
        await settle(app, pilot)
        screen = screen_of(app)
        assert screen.status_line.endswith(" · polling")
        told = [n.message for n in app._notifications if "every minute" in n.message]
        assert told == [
            f"{server.base_url.split('://')[1]} gives no live stream (HTTP {status}). "
            "Checking for new messages every minute."
        ]
        prev = screen.inbox.prev_url
        assert prev is not None and "min_id=" in prev
        before = len(list_requests(server))
        await poll(changes)
        polled = list_requests(server)[before:]
        assert polled == [f"{LIST}?limit=40&min_id={parse_qs(urlsplit(prev).query)['min_id'][0]}"]
        posted = server.post_status(person(server, "alice"), "are you there?", mentions=[server.me])
        await poll(changes)
        await settle(app, pilot)
        top = screen.inbox[0]
        assert top.last_status is not None and top.last_status.id == posted["id"]
        assert all("min_id=" in url for url in list_requests(server)[before:]), "never page 1"
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("New message from ") for m in messages), messages
        attempts = server.stream.attempts
        for _ in range(round(STREAM_AGAIN / POLL)):
            await poll(changes)
        assert server.stream.attempts == attempts + 1, "the stream is tried again now and then"
        assert engine.live.state == "polling"
        assert len(changes.of(Notice)) == 1, "said once"


# -- a deletion ------------------------------------------------------------------------


async def test_a_deleted_status_leaves_the_open_thread() -> None:
    server = FakeMastodon.demo(now=NOW)
    app, changes = live_app(server)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        await changes.live()
        screen = screen_of(app)
        await pilot.press("enter")
        await settle(app, pilot)
        shown = [m.status.id for m in screen.thread_view.query(MessageView)]
        assert len(shown) >= 3, "a thread of a few messages"
        gone = shown[0]
        server.delete_status(gone)
        await changes.until(
            lambda: gone not in [m.status.id for m in screen.thread_view.query(MessageView)]
        )
        await settle(app, pilot)
        assert [m.status.id for m in screen.thread_view.query(MessageView)] == shown[1:]
        last = shown[-1]
        server.delete_status(last)  # its row's last message: the row says what it shows now
        await changes.until(
            lambda: last not in [m.status.id for m in screen.thread_view.query(MessageView)]
        )
        await settle(app, pilot)
        assert [m.status.id for m in screen.thread_view.query(MessageView)] == shown[1:-1]
        row = screen.inbox[screen.inbox.index_of(screen.thread_view.conversation.id)]
        assert row.last_status is not None and row.last_status.id == shown[-2]


# -- quiet when nothing changes ---------------------------------------------------------


async def test_an_event_for_a_row_not_loaded_writes_nothing(monkeypatch) -> None:
    server = FakeMastodon.demo(now=NOW)
    app, changes = live_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await changes.live()
        screen = screen_of(app)
        await settle(app, pilot)
        loaded = {c.id for c in screen.inbox}
        elsewhere = [r for r in server.conversation_rows() if r["id"] not in loaded]
        target = next(r for r in elsewhere if r["unread"])
        title = screen.status_line
        written = capture_writes(app, monkeypatch)
        changes.seen.clear()
        async with httpx.AsyncClient(transport=server.transport()) as other:
            answer = await other.post(
                f"{server.base_url}{LIST}/{target['id']}/read",
                headers={"Authorization": f"Bearer {server.token}"},
            )
            assert answer.status_code == 200
        await changes.until(lambda: bool(changes.seen))  # heard, stored, counted
        await settle(app, pilot)
        assert screen.status_line == title
        assert sum(len(w) for w in written) == 0, written
        server.post_status(person(server, "alice"), "and now?", mentions=[server.me])
        await changes.until(lambda: bool(changes.of(Arrived)))
        await settle(app, pilot)
        assert sum(len(w) for w in written) > 0, "what does change is written"


async def test_heartbeats_write_nothing(monkeypatch) -> None:
    server = FakeMastodon.demo(now=NOW)
    listener = await serve(server)
    engine = socket_engine(server, listener.url)
    changes = Changes(engine)
    answered: list[bytes] = []
    answer_ping = StreamListener.answer_ping

    def counting(self: StreamListener, payload: bytes) -> None:
        answered.append(payload)
        answer_ping(self, payload)

    monkeypatch.setattr(StreamListener, "answer_ping", counting)
    server.stream.ping_interval = 0.05  # the server's pings, answered by httpx-ws
    engine.live.ping_interval = 0.05  # ours, answered by the server
    try:
        app = DmInboxApp(engine, label="test", clock=fixed_clock)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await changes.live()
            await settle(app, pilot)
            written = capture_writes(app, monkeypatch)
            changes.seen.clear()
            pings = len(answered)
            await changes.until(lambda: len(answered) >= pings + 3)
            await settle(app, pilot)
            assert engine.live.state == "live" and server.stream.connections == 1
            assert changes.seen == []
            assert sum(len(w) for w in written) == 0, written
            server.post_status(person(server, "alice"), "still there?", mentions=[server.me])
            await changes.until(lambda: bool(changes.of(Arrived)))
            await settle(app, pilot)
            assert sum(len(w) for w in written) > 0, "what does change is written"
    finally:
        await listener.close()


# -- end to end ----------------------------------------------------------------------


async def test_the_app_hears_a_message_over_a_socket_as_it_is_posted() -> None:
    server = FakeMastodon.demo(now=NOW)
    listener = await serve(server)
    engine = socket_engine(server, listener.url)
    changes = Changes(engine)
    try:
        app = DmInboxApp(engine, label="test", clock=fixed_clock)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await changes.live()
            screen = screen_of(app)
            unread = engine.unread_count
            stream = next(r for r in server.requests if r.path == "/api/v1/streaming")
            assert stream.headers["sec-websocket-protocol"] == server.token
            assert "access_token" not in stream.query, "the token never goes in the URL"
            posted = server.post_status(
                server.add_account("zoe", "Zoë"), "new here, hi!", mentions=[server.me]
            )
            await changes.until(lambda: bool(changes.of(Arrived)))
            await settle(app, pilot)
            top = screen.inbox[0]
            assert top.last_status is not None and top.last_status.id == posted["id"]
            assert screen.status_line == f"{unread + 1} unread"
            messages = [n.message for n in app._notifications]
            assert "New message from Zoë." in messages
            assert server.stream.connections == 1
    finally:
        await listener.close()


async def test_a_row_whose_newest_message_is_deleted_stays_where_it_is_without_a_toast() -> None:
    server = FakeMastodon.demo(now=NOW)
    app, changes = live_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await changes.live()
        screen = screen_of(app)
        index, target = next(
            (i, c)
            for i, c in enumerate(screen.inbox)
            if i >= 45 and c.unread and len(server.row(c.id).status_ids) >= 2
        )
        order = [c.id for c in screen.inbox]
        status_ids = list(server.row(target.id).status_ids)
        changes.seen.clear()
        server.delete_status(status_ids[-1])  # not on page 1: page 1 says nothing of it
        await changes.until(lambda: RowChanged(target.id) in changes.seen)
        await settle(app, pilot)
        row = screen.inbox[index]
        assert row.id == target.id and row.last_status is not None
        assert row.last_status.id == status_ids[-2], "it shows its message before"
        assert [c.id for c in screen.inbox] == order, "an older message moves nothing up"
        assert not changes.of(Arrived), "no new message"
        assert not [n for n in app._notifications if n.message.startswith("New message")]
