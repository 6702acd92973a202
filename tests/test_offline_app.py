"""The app on its cache: instant start, reading offline, nothing lost across restarts."""

from __future__ import annotations

import asyncio
import time

import pytest

from dminbox.clock import ManualClock
from dminbox.fake import FakeMastodon, Fault
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp
from dminbox.ui.screens.inbox import InboxScreen
from dminbox.ui.widgets.thread_view import MessageView

from conftest import NOW, fixed_clock, make_engine, settle
from outage import Outage

LIST = "/api/v1/conversations"


@pytest.fixture
def server() -> FakeMastodon:
    return FakeMastodon.demo(now=NOW)


def app_on(server: FakeMastodon, path, *, later: float = 0.0) -> tuple[DmInboxApp, Outage]:
    """An app on the cache at `path`; `later` moves its clock that many seconds on."""
    link = Outage(server.transport())
    engine = make_engine(server, path, transport=link, clock=ManualClock(time.time() + later))
    return DmInboxApp(engine, clock=fixed_clock), link


async def fill_cache(server: FakeMastodon, path) -> None:
    """A first run: reads two pages and opens the first conversation."""
    app, _ = app_on(server, path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("q")


def screen(app) -> InboxScreen:
    assert isinstance(app.screen, InboxScreen)
    return app.screen


async def test_the_cached_inbox_shows_while_the_server_is_still_answering(server, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    await fill_cache(server, path)
    cached_top = [c.id for c in Cache.open(path).conversations(limit=5)]
    hold = asyncio.Event()
    server.faults.add(Fault(method="GET", path=LIST, hold=hold, times=None))
    server.requests.clear()
    app, _ = app_on(server, path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.pause()
        inbox_screen = screen(app)
        assert [c.id for c in inbox_screen.inbox][:5] == cached_top
        assert inbox_screen.thread_view.query(MessageView), "the last-open thread paints too"
        assert any(r.path == LIST for r in server.requests), "the refresh is under way"
        hold.set()
        await settle(app, pilot)
        server.faults.clear()


async def test_offline_start_shows_the_cache_and_the_indicator(server, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    await fill_cache(server, path)
    app, link = app_on(server, path)
    link.down = True
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        inbox_screen = screen(app)
        assert len(inbox_screen.inbox) >= 40
        assert "offline" in inbox_screen.status_line
        assert inbox_screen.has_class("-offline")
        await pilot.press("enter")
        await settle(app, pilot)
        assert inbox_screen.thread_view.query(MessageView), "threads read from the cache"
        link.down = False
        await pilot.press("escape", "ctrl+r")
        await settle(app, pilot)
        assert "offline" not in inbox_screen.status_line


async def test_a_removal_made_offline_survives_a_restart_and_is_sent(server, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    await fill_cache(server, path)
    app, link = app_on(server, path)
    link.down = True
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        removed = screen(app).inbox[0].id
        await pilot.press("d")
        await pilot.press("q")
        await pilot.pause()
    assert not [r for r in server.requests if r.method == "DELETE"]
    assert Cache.open(path).queued()[0].conversation_id == removed

    server.requests.clear()
    app, _ = app_on(server, path, later=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert removed not in screen(app).inbox, "still gone after the restart"
        await settle(app, pilot)
        await settle(app, pilot)
        assert [r.path for r in server.requests if r.method == "DELETE"] == [f"{LIST}/{removed}"]
        assert removed not in screen(app).inbox
        assert Cache.open(path).queued() == []


async def test_reads_made_offline_are_pending_then_sent_in_order(server, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    await fill_cache(server, path)
    app, link = app_on(server, path)
    link.down = True
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        inbox_screen = screen(app)
        unread = [i for i, c in enumerate(inbox_screen.inbox) if c.unread][:2]
        ids = [inbox_screen.inbox[i].id for i in unread]
        for index in unread:
            inbox_screen.conversation_list.cursor = index
            await pilot.press("m")
            await settle(app, pilot)
        assert inbox_screen.engine.pending_reads == set(ids)
        assert "2 pending" in inbox_screen.status_line
        line = inbox_screen.conversation_list.render_line(
            unread[0] - inbox_screen.conversation_list.scroll_offset.y
        )
        assert "○" in line.text, "a read not yet on the server is marked"
        server.requests.clear()
        link.down = False
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        posts = [r.path for r in server.requests if r.method == "POST"]
        assert posts == [f"{LIST}/{i}/read" for i in ids]
        assert inbox_screen.engine.pending_reads == set()
        assert "pending" not in inbox_screen.status_line


async def test_rows_cached_without_a_paging_state_still_page_on(server, tmp_path) -> None:
    """A script may fill the cache without paging; the app then pages from the start."""
    path = tmp_path / "cache.sqlite3"
    Cache.open(path).put_conversations(server.conversation_rows()[:10])
    app, _ = app_on(server, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        inbox_screen = screen(app)
        for _ in range(10):
            await pilot.press("G")
            await settle(app, pilot)
        ids = [c.id for c in inbox_screen.inbox]
        assert len(ids) == len(set(ids))
        assert len(ids) == len(server.conversation_rows()), "paging reached the end"
