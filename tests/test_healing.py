"""Every healing path of issue #7, driven through Pilot against the fake server's faults.

Time is the engine's `ManualClock`: a backoff or a rate limit passes when a test
advances it, never by sleeping.
"""

from __future__ import annotations

import os
import re
import time
import tracemalloc
from collections import Counter
from datetime import datetime

import pytest

import dminbox.http
from dminbox.clock import ManualClock
from dminbox.engine import UNDO_SECONDS, Change, TokenRefused
from dminbox.fake import FakeMastodon, Fault
from dminbox.ui.render import PENDING_MARK
from dminbox.ui.screens.inbox import InboxScreen
from dminbox.ui.screens.token_refused import TokenRefusedScreen
from dminbox.ui.widgets.status_line import StatusLine
from dminbox.ui.widgets.title_bar import TitleBar

from conftest import LIST, NOW, clock_of, list_requests, requests_of, screen_of, settle

HOUR = 3600.0
CLOCK = r"\d\d:\d\d:\d\d"


# -- helpers ---------------------------------------------------------------------------


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def row_text(screen: InboxScreen, index: int) -> str:
    """The row as the list draws it now."""
    rows = screen.conversation_list
    return rows.render_line(index - rows.scroll_offset.y).text


def status_widget(app) -> StatusLine:
    return app.screen.query_one(StatusLine)


def small_server(count: int = 4) -> FakeMastodon:
    """A few unread conversations: quicker to start than the demo inbox."""
    server = FakeMastodon(clock=lambda: NOW)
    for n in range(count):
        other = server.add_account(username=f"friend{n}", display_name=f"Friend {n}")
        server.post_status(other, f"@me message {n}", mentions=[server.me])
    return server


async def advance(app, pilot, seconds: float) -> None:
    """Moves the engine's clock on and lets what wakes finish."""
    clock_of(app).advance(seconds)
    await settle(app, pilot)


async def go_to_first_unread(app, pilot) -> int:
    screen = screen_of(app)
    index = next(i for i, c in enumerate(screen.inbox) if c.unread)
    screen.conversation_list.cursor = index
    await pilot.pause()
    return index


@pytest.fixture
def titles(monkeypatch) -> list[str]:
    """Every state the title bar was asked to show, in order."""
    shown: list[str] = []
    original = TitleBar.show

    def recording(self, title: str, status: str) -> None:
        shown.append(status)
        original(self, title, status)

    monkeypatch.setattr(TitleBar, "show", recording)
    return shown


# -- 1. a rate limit at start ------------------------------------------------------------


async def test_a_rate_limit_at_start_waits_and_loads_by_itself(
    demo_server, make_app, titles
) -> None:
    demo_server.faults.add(Fault(method="GET", path=LIST, status=429, reset_after=3))
    app = make_app(demo_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        assert len(screen.inbox) == 0
        assert screen.status_line == "loading…"
        problem = screen.engine.problem
        pattern = (
            rf"Rate limited by \S+ until {CLOCK}\. Trying again at {CLOCK}; ctrl\+r retries now\."
        )
        assert re.fullmatch(pattern, problem), problem
        line = status_widget(app)
        assert line.display and line.text == problem
        assert len(list_requests(demo_server)) == 1, "a 429 is never retried at once"

        await advance(app, pilot, 1)
        assert len(list_requests(demo_server)) == 1, "not before the limit lifts"
        await advance(app, pilot, 3)
        assert len(screen.inbox) >= 40, "the limit lifted and the inbox loaded by itself"
        assert screen.engine.problem == ""
        assert not status_widget(app).display
        loaded = titles.index(next(t for t in titles if "unread" in t))
        assert not any("all read" in t for t in titles[:loaded]), titles


# -- 2. a proxy error page on a later page ---------------------------------------------------


async def _fail_the_next_page(server: FakeMastodon, app, pilot) -> str:
    """Loads what fits, then makes the next page a 502 HTML page and pages with G."""
    await settle(app, pilot)
    screen = screen_of(app)
    assert screen.engine.paging == "idle" and screen.inbox.next_url
    failing = screen.inbox.next_url
    server.faults.add(Fault(method="GET", path=LIST, status=502))
    await pilot.press("G")
    await settle(app, pilot)
    assert screen.engine.paging == "failed"
    footer = screen.conversation_list.footer_text
    assert "Not loaded" in footer and "End retries" in footer, footer
    problem = screen.engine.problem
    assert "502" in problem and "Trying again at" in problem, problem
    assert "<" not in problem and "nginx" not in problem, "the HTML page is never shown"
    return failing


async def test_a_failed_later_page_is_retried_after_the_backoff(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        failing = await _fail_the_next_page(demo_server, app, pilot)
        screen = screen_of(app)
        loaded = len(screen.inbox)
        max_id = failing.split("max_id=")[1]
        assert sum(max_id in u for u in list_requests(demo_server)) == 1
        await advance(app, pilot, 2.5)  # the first backoff is at most 2 s
        assert len(screen.inbox) > loaded, "the page came by itself"
        assert sum(max_id in u for u in list_requests(demo_server)) == 2
        assert screen.engine.paging != "failed"
        assert screen.engine.problem == ""
        assert "Not loaded" not in screen.conversation_list.footer_text


async def test_end_on_a_failed_page_retries_at_once(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        failing = await _fail_the_next_page(demo_server, app, pilot)
        screen = screen_of(app)
        loaded = len(screen.inbox)
        max_id = failing.split("max_id=")[1]
        await pilot.press("end")
        await settle(app, pilot)
        assert len(screen.inbox) > loaded, "End retried the page without waiting"
        assert sum(max_id in u for u in list_requests(demo_server)) == 2
        assert screen.engine.problem == ""
        await advance(app, pilot, 60)
        assert sum(max_id in u for u in list_requests(demo_server)) == 2, (
            "the timer did not fire too"
        )
        urls = list_requests(demo_server)
        assert len(set(urls)) == len(urls) - 1, "only the failed page was asked twice"


# -- 3. a dropped connection on mark read ----------------------------------------------------


async def test_a_dropped_mark_read_stays_pending_and_is_sent_by_itself(
    demo_server, make_app
) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        index = await go_to_first_unread(app, pilot)
        target = screen.inbox[index].id
        demo_server.faults.add(Fault(method="POST", path=r".*/read", drop=True))
        await pilot.press("m")
        await settle(app, pilot)
        assert not screen.inbox[index].unread, "the row shows read at once"
        assert PENDING_MARK in row_text(screen, index), row_text(screen, index)
        assert "1 pending" in screen.status_line
        assert "dropped" in screen.engine.problem
        assert requests_of(demo_server, "POST", "/read") == [f"{LIST}/{target}/read"]

        await advance(app, pilot, 2.5)
        assert requests_of(demo_server, "POST", "/read") == [f"{LIST}/{target}/read"] * 2
        assert "pending" not in screen.status_line
        assert PENDING_MARK not in row_text(screen, index)
        assert screen.engine.problem == ""
        await advance(app, pilot, HOUR)
        assert len(requests_of(demo_server, "POST", "/read")) == 2, "nothing sent after confirmed"


# -- 4. the token revoked mid-session --------------------------------------------------------


async def test_a_revoked_token_is_told_once_and_the_action_waits(demo_server, make_app) -> None:
    app = make_app(demo_server)
    refusals: list[Change] = []
    app.engine.observe(lambda change: refusals.append(change))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        index = await go_to_first_unread(app, pilot)
        demo_server.revoke_token(demo_server.token)
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, TokenRefusedScreen)
        assert "token was refused" in screen.engine.problem, screen.engine.problem
        assert PENDING_MARK in row_text(screen, index), "shown read, waiting to be sent"
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and screen.conversation_list.has_focus

        # More requests that meet the same 401 do not ask again.
        pages = len(list_requests(demo_server))
        await pilot.press("G", "ctrl+r")
        await settle(app, pilot)
        assert len(list_requests(demo_server)) == pages + 1, "G asked for a page, and met a 401"
        assert app.screen is screen
        assert sum(isinstance(c, TokenRefused) for c in refusals) == 1
        assert "1 pending" in screen.status_line
        assert screen.engine.pending_reads

        # The inbox stays usable.
        await pilot.press("g", "j")
        await pilot.pause()
        assert screen.conversation_list.cursor == 1

        asked = len(demo_server.requests)
        for _ in range(4):
            await advance(app, pilot, HOUR / 4)
        assert len(demo_server.requests) == asked, "a refused token is not tried again"
        assert "1 pending" in screen.status_line
        assert app.screen is screen


# -- 5. bodies too large ---------------------------------------------------------------------

LIMIT = 2**20
"""The client's max_bytes in these tests: a normal page (about 125 KB) fits."""


@pytest.mark.parametrize(
    "bounds",
    [{"body_size": 256 * 2**20, "content_length": False}, {"gzip_bomb": 2 * 2**30}],
    ids=["oversized", "gzip-bomb"],
)
async def test_a_body_too_large_is_one_line_and_heals(demo_server, make_app, bounds) -> None:
    demo_server.faults.add(Fault(method="GET", path=LIST, **bounds))
    app = make_app(demo_server, max_bytes=LIMIT)
    async with app.run_test(size=(120, 40)) as pilot:
        tracemalloc.start()
        try:
            await settle(app, pilot)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        screen = screen_of(app)
        assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB for one refused answer"
        problem = screen.engine.problem
        assert "sent more than 1 MiB" in problem and "Trying again at" in problem, problem
        assert "\n" not in problem
        assert status_widget(app).text == problem
        assert len(screen.inbox) == 0

        await advance(app, pilot, 2.5)
        assert len(screen.inbox) >= 40, "the fault is gone: the inbox loads"
        assert screen.engine.problem == ""


# -- 6. an answer that drips -----------------------------------------------------------------


async def test_a_dripping_answer_is_one_line_and_heals(demo_server, make_app) -> None:
    demo_server.faults.add(Fault(method="GET", path=LIST, drip=0.02))
    app = make_app(demo_server, deadline=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        problem = screen.engine.problem
        assert "did not finish answering in 0.2 s" in problem, problem
        assert "Trying again at" in problem and "\n" not in problem
        assert len(screen.inbox) == 0

        await advance(app, pilot, 2.5)
        assert len(screen.inbox) >= 40
        assert screen.engine.problem == ""


# -- 7. a `next` link that loops ------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        pytest.param('<{url}>; rel="next"', id="itself"),
        pytest.param('<{base}/api/v1/conversations?limit=40>; rel="next"', id="page-1"),
    ],
)
async def test_a_looping_next_link_ends_paging(demo_server, make_app, link) -> None:
    app = make_app(demo_server)
    pages: list[int] = []

    def on_change(change: Change) -> None:
        # Once the first page is in, the next one (page 2) answers with the looping link.
        if len(app.engine.inbox) and not pages:
            pages.append(len(app.engine.inbox))
            demo_server.faults.add(Fault(method="GET", path=LIST, link=link))

    app.engine.observe(on_change)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        for _ in range(4):
            await pilot.press("end")
            await settle(app, pilot)
        footer = screen.conversation_list.footer_text
        assert "the server repeated a page" in footer, footer
        assert screen.engine.paging == "end"
        urls = list_requests(demo_server)
        repeated = [url for url, n in Counter(urls).items() if n > 1]
        assert not repeated, urls
        assert len(urls) == 2


# -- 8. permanent answers on actions ---------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404, 422])
@pytest.mark.parametrize("action", ["read", "remove"])
async def test_a_permanent_answer_to_an_action_is_final(make_app, action, status) -> None:
    server = small_server()
    app = make_app(server)
    method, path = ("POST", r".*/read") if action == "read" else ("DELETE", rf"{LIST}/\w+")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        screen.conversation_list.cursor = 1
        await pilot.pause()
        target = screen.inbox[1].id
        server.faults.add(Fault(method=method, path=path, status=status))
        await pilot.press("m" if action == "read" else "d")
        await advance(app, pilot, UNDO_SECONDS)
        await settle(app, pilot)
        sent = [r for r in server.requests if r.method == method]
        assert len(sent) == 1

        said = [m for m in messages(app) if m.startswith(("Could not", "That conversation"))]
        if status == 404:
            assert target not in screen.inbox, "gone from the server: gone from the list"
            assert said == (["That conversation is already gone."] if action == "read" else [])
        else:
            assert screen.inbox.index_of(target) == 1, "rolled back to where it was"
            assert screen.inbox[1].unread, "the row says what the server holds"
            verb = "mark read" if action == "read" else "remove"
            assert len(said) == 1 and said[0].startswith(f"Could not {verb}: "), said
            assert "\n" not in said[0]
        assert screen.engine.pending_count == 0 and not screen.engine.pending_reads
        assert "pending" not in screen.status_line
        assert PENDING_MARK not in "".join(row_text(screen, i) for i in range(len(screen.inbox)))

        await advance(app, pilot, HOUR)
        assert len([r for r in server.requests if r.method == method]) == 1, "never retried"


# -- 9. the status line, readable whole ------------------------------------------------------------


def _screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_status_line_is_readable_whole(demo_server, make_app, size) -> None:
    demo_server.faults.add(Fault(method="GET", path=LIST, status=429, reset_after=3))
    app = make_app(demo_server)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        problem = screen_of(app).engine.problem
        assert problem.startswith("Rate limited")
        line = status_widget(app)
        assert str(line.render()) == f"⚠ {problem}"
        width = size[0]
        needed = -(-len(f"⚠ {problem}") // line.content_size.width)
        assert line.region.width == width
        assert line.region.height >= needed, (line.region, len(problem))
        lines = _screen_lines(app)
        region = line.region
        shown = " ".join(lines[y].strip() for y in range(region.y, region.bottom))
        assert " ".join(shown.split()) == " ".join(f"⚠ {problem}".split()), shown


# -- the snapshot: a rate-limited start, at a fixed time -----------------------------------------


class _FrozenDatetime(datetime):
    """`datetime` whose `now()` is NOW: the message's "until" never names a date."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return NOW.astimezone(tz) if tz else NOW.replace(tzinfo=None)


@pytest.fixture
def fixed_time(monkeypatch):
    """Wall time and the local zone pinned: the rate limit lifts at 09:30:03 UTC."""
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    monkeypatch.setattr(dminbox.http, "datetime", _FrozenDatetime)
    yield
    if zone is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = zone
    time.tzset()


def test_snapshot_rate_limited_start(snap_compare, make_app, demo_server, monkeypatch, fixed_time):
    monkeypatch.setattr(demo_server, "wall_clock", lambda: NOW)
    demo_server.faults.add(Fault(method="GET", path=LIST, status=429, reset_after=3))
    app = make_app(demo_server, clock=ManualClock(NOW.timestamp()))

    async def rate_limited(pilot) -> None:
        await settle(pilot.app, pilot)
        problem = pilot.app.engine.problem
        assert "until 09:30:03" in problem and "again at 09:30:03" in problem, problem

    assert snap_compare(app, terminal_size=(80, 24), run_before=rate_limited)
