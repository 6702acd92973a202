"""The sync engine against the fake server: no Textual, and time moved by hand."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dminbox.client import MastodonClient
from dminbox.clock import ManualClock
from dminbox.engine import (
    CACHE_BATCH,
    FIRST_BATCH,
    SWEEP_PAGES,
    SWEEP_PAUSE,
    UNDO_SECONDS,
    Backoff,
    Change,
    Engine,
    Notice,
    RowGone,
    RowsChanged,
    ThreadChanged,
    TokenRefused,
)
from dminbox.fake import FakeMastodon, Fault
from dminbox.models import Conversation

from conftest import NOW, make_engine, manual_clock
from outage import Outage

LIST = "/api/v1/conversations"
READ = rf"{LIST}/[^/]+/read"
ONE = rf"{LIST}/[^/]+"
PAGE = 40
"""Rows a page holds (the client asks for Mastodon's maximum)."""
HOUR = 3600.0


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture
def server() -> FakeMastodon:
    return FakeMastodon.demo(now=NOW)


@pytest.fixture
def clock() -> ManualClock:
    return manual_clock()


Started = Callable[..., Any]


@pytest.fixture
async def started(server: FakeMastodon, clock: ManualClock) -> AsyncIterator[Started]:
    """Builds engines on `server` and `clock`, started (and connected unless told not to);
    any a test leaves open is closed at the end."""
    engines: list[Engine] = []

    async def build(
        cache: Any = None, *, connect: bool = True, **options: Any
    ) -> tuple[Engine, list[Change]]:
        options.setdefault("clock", clock)
        engine = make_engine(server, cache, **options)
        engines.append(engine)
        changes: list[Change] = []
        engine.observe(changes.append)
        await engine.start()
        if connect:
            engine.connect()
            await engine.idle()
        return engine, changes

    yield build
    for engine in engines:
        if not engine._closed:
            await engine.close()


async def settle(engine: Engine, clock: ManualClock) -> None:
    """Lets the engine work until it is done, or until all it does is wait for the clock."""
    for _ in range(3):
        await asyncio.sleep(0)
    while engine._tasks and clock.sleepers <= len(engine._timers):
        await asyncio.wait(list(engine._tasks), timeout=0.01)


async def advance(engine: Engine, clock: ManualClock, seconds: float) -> None:
    """Moves the clock on and lets what became due run."""
    for _ in range(3):
        await asyncio.sleep(0)  # timers just made start their sleep at the present moment
    clock.advance(seconds)
    await settle(engine, clock)


async def fill_cache(started: Started, path: Path, *, pages: int) -> None:
    """An earlier run on the cache at `path` that read `pages` pages, then quit."""
    first, _ = await started(path)
    for _ in range(pages - 1):
        first.need_more()
        await first.idle()
    await first.close()


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Yields to the event loop until `condition` holds (no fixed sleep)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0)


def ids(engine: Engine) -> list[str]:
    return [c.id for c in engine.inbox]


def cached_ids(engine: Engine) -> list[str]:
    assert engine.store is not None
    return [c.id for c in engine.store.conversations(limit=1000)]


def lists(server: FakeMastodon) -> list[str]:
    """Every GET of the conversation list, as its path and query."""
    return [
        r.path + "?" + "&".join(f"{k}={v}" for k, v in r.query.items())
        for r in server.requests
        if r.method == "GET" and r.path == LIST
    ]


def actions(server: FakeMastodon) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests if r.method in ("POST", "DELETE")]


def notices(changes: list[Change]) -> list[Notice]:
    return [c for c in changes if isinstance(c, Notice)]


def unread_row(engine: Engine, skip: int = 0) -> Conversation:
    return [c for c in engine.inbox if c.unread][skip]


def one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and "\r" not in text


def named_time(engine: Engine) -> str:
    assert engine.retry_at is not None
    return time.strftime("%H:%M:%S", time.localtime(engine.retry_at))


def reply_in(
    server: FakeMastodon, conversation: Conversation, text: str, later: float = 1.0
) -> None:
    """The other participant answers in `conversation`, `later` seconds from now: it moves to
    the top. (Two messages in one millisecond would tie, and the server and the cache break
    ties differently.)"""
    assert conversation.last_status is not None
    (other,) = conversation.accounts
    server.post_status(
        server.account(other.id),
        text,
        mentions=[server.me],
        in_reply_to_id=conversation.last_status.id,
        created_at=server.now() + timedelta(seconds=later),
    )


def chat_with_one(server: FakeMastodon, engine: Engine, start: int = 0) -> Conversation:
    """A loaded row, from `start` on, with one other person in it."""
    me = server.me["id"]
    return next(
        c
        for c in list(engine.inbox)[start:]
        if len(c.accounts) == 1 and c.accounts[0].id != me and c.last_status is not None
    )


class LateAnswers(httpx.AsyncBaseTransport):
    """Holds answers to the conversation list after the server made them, while `gate` is set:
    a page that left before something changed, arriving after it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.gate: asyncio.Event | None = None
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        gate = self.gate
        if gate is not None and request.method == "GET" and request.url.path == LIST:
            self.held += 1
            await gate.wait()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- the cache in front of the server (ported from the session's tests) ----------------


async def test_pages_are_stored_and_read_back_from_the_cache(started, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    engine, _ = await started(path)
    engine.need_more()
    await engine.idle()
    assert len(engine.inbox) == 2 * PAGE
    assert cached_ids(engine) == ids(engine)
    assert engine.store is not None
    assert engine.store.unread_count() == sum(c.unread for c in engine.inbox)
    await engine.close()

    again, _ = await started(path, connect=False)
    assert ids(again) == ids(engine)
    assert [c.unread for c in again.inbox] == [c.unread for c in engine.inbox]
    await again.close()


async def test_a_queued_removal_hides_its_row_from_later_pages(started, server, clock) -> None:
    engine, _ = await started()
    target = engine.inbox[0]
    await engine.remove(target.id)
    engine.refresh()
    await engine.idle()
    assert len(lists(server)) == 2, "page 1 was read again, the row on it"
    assert target.id not in ids(engine)
    assert target.id not in cached_ids(engine)
    assert actions(server) == [], "still inside the undo window"
    await engine.close()


async def test_offline_actions_are_kept_then_replayed_in_order(started, server, clock) -> None:
    link = Outage(server.transport())
    engine, _ = await started(transport=link)
    read_first, read_last = unread_row(engine, 0), unread_row(engine, 1)
    removed = next(c for c in engine.inbox if c.id not in (read_first.id, read_last.id))
    link.down = True
    await engine.mark_read(read_first.id)
    await engine.remove(removed.id)
    await engine.mark_read(read_last.id)
    await advance(engine, clock, UNDO_SECONDS)  # the removal's window closes, offline
    assert engine.online is False
    assert engine.store is not None
    queued = engine.store.queued()
    assert [a.conversation_id for a in queued] == [read_first.id, removed.id, read_last.id]
    assert queued[0].attempts >= 1 and queued[0].last_error
    assert actions(server) == []
    assert {read_first.id, read_last.id} <= engine.pending_reads
    assert not engine._row(read_first.id).unread, "still read on screen"  # type: ignore[union-attr]

    link.down = False
    await advance(engine, clock, 60)
    await engine.idle()
    assert engine.online is True and engine.problem == ""
    assert engine.store.queued() == [] and engine.pending_reads == set()
    assert actions(server) == [
        ("POST", f"{LIST}/{read_first.id}/read"),
        ("DELETE", f"{LIST}/{removed.id}"),
        ("POST", f"{LIST}/{read_last.id}/read"),
    ]
    await engine.close()


async def test_a_removal_inside_its_undo_window_waits_until_flush(started, server, clock) -> None:
    engine, changes = await started()
    target = engine.inbox[0]
    await engine.remove(target.id)
    await advance(engine, clock, UNDO_SECONDS - 1)
    assert actions(server) == []
    assert engine.can_undo
    assert await engine.flush() is None, "everything went"
    assert actions(server) == [("DELETE", f"{LIST}/{target.id}")]
    assert not engine.can_undo
    assert await engine.undo() is None, "too late to undo"
    assert target.id not in ids(engine) and target.id not in cached_ids(engine)
    await engine.close()


async def test_a_removal_goes_by_itself_when_its_window_closes(started, server, clock) -> None:
    engine, _ = await started()
    target = engine.inbox[1]
    await engine.remove(target.id)
    await advance(engine, clock, UNDO_SECONDS)
    await engine.idle()
    assert actions(server) == [("DELETE", f"{LIST}/{target.id}")]
    assert engine.pending_count == 0 and not engine.can_undo
    await engine.close()


async def test_undo_puts_the_row_back_and_sends_nothing(started, server, clock) -> None:
    engine, _ = await started()
    target = engine.inbox[3]
    assert await engine.remove(target.id) == target
    assert target.id not in ids(engine)
    assert target.id not in cached_ids(engine)
    assert await engine.undo() == target
    assert engine.inbox[3] == target
    assert engine.store is not None and engine.store.conversation(target.id) == target
    assert cached_ids(engine) == ids(engine)
    await advance(engine, clock, HOUR)
    assert await engine.flush() is None
    assert actions(server) == []
    await engine.close()


@pytest.mark.parametrize("status", [403, 422])
async def test_a_read_refused_for_good_is_dropped_and_rolled_back(
    started, server, clock, status
) -> None:
    engine, changes = await started()
    target = unread_row(engine)
    server.faults.add(Fault(method="POST", path=READ, status=status))
    unread_before = engine.unread_count
    await engine.mark_read(target.id)
    await engine.idle()
    assert engine.store is not None
    assert engine.store.queued() == []
    assert engine.store.conversation(target.id).unread, "the cache goes back to the truth"  # type: ignore[union-attr]
    assert engine._row(target.id).unread, "and so does the row"  # type: ignore[union-attr]
    assert engine.unread_count == unread_before
    (notice,) = notices(changes)
    assert notice.severity == "error" and one_line(notice.text)
    assert target.id not in engine.pending_reads
    await engine.close()


@pytest.mark.parametrize("status", [403, 422])
async def test_a_removal_refused_for_good_puts_the_row_back(started, server, clock, status) -> None:
    engine, changes = await started()
    target = engine.inbox[2]
    server.faults.add(Fault(method="DELETE", path=ONE, status=status))
    await engine.remove(target.id)
    await advance(engine, clock, UNDO_SECONDS)
    await engine.idle()
    assert engine.store is not None and engine.store.queued() == []
    assert engine.store.conversation(target.id) == target
    assert engine.inbox[2] == target
    assert cached_ids(engine) == ids(engine)
    (notice,) = notices(changes)
    assert notice.severity == "error" and one_line(notice.text)
    await engine.close()


@pytest.mark.parametrize("status", [404, 410])
async def test_a_read_of_a_conversation_gone_drops_the_row(started, server, status) -> None:
    engine, changes = await started()
    target = unread_row(engine)
    server.faults.add(Fault(method="POST", path=READ, status=status))
    await engine.mark_read(target.id)
    await engine.idle()
    assert engine.store is not None and engine.store.queued() == []
    assert target.id not in ids(engine)
    assert engine.store.conversation(target.id) is None
    assert RowGone(target.id) in changes
    (notice,) = notices(changes)
    assert one_line(notice.text)
    assert engine.unread_count == engine.store.unread_count()
    await engine.close()


async def test_a_removal_of_a_conversation_gone_is_done(started, server, clock) -> None:
    engine, changes = await started()
    target = engine.inbox[4]
    server.faults.add(Fault(method="DELETE", path=ONE, status=404))
    await engine.remove(target.id)
    await advance(engine, clock, UNDO_SECONDS)
    await engine.idle()
    assert engine.store is not None and engine.store.queued() == []
    assert target.id not in ids(engine) and engine.store.conversation(target.id) is None
    assert notices(changes) == [], "gone is what the user wanted"
    await engine.close()


async def test_a_network_error_marks_the_engine_offline(started, server, clock) -> None:
    link = Outage(server.transport())
    link.down = True
    engine, _ = await started(transport=link)
    assert engine.online is False
    assert engine.problem.startswith("Offline") and one_line(engine.problem)
    assert len(engine.inbox) == 0 and engine.paging == "failed"
    link.down = False
    await advance(engine, clock, 60)
    await engine.idle()
    assert engine.online is True and engine.problem == ""
    assert len(engine.inbox) == PAGE
    await engine.close()


async def test_threads_are_cached_for_reading_offline(started, server, clock, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    engine, changes = await started(path)
    conversation = next(c for c in engine.inbox if not c.unread and c.last_status is not None)
    await engine.open(conversation)
    await engine.idle()
    threads = [c for c in changes if isinstance(c, ThreadChanged)]
    assert threads[0].note.startswith("Refreshing")
    fresh = threads[-1]
    assert fresh.note == "" and fresh.conversation.id == conversation.id
    assert conversation.last_status is not None
    assert conversation.last_status.id in [s.id for s in fresh.statuses]
    assert len(fresh.statuses) > 1, "the whole thread, not only its last message"
    await engine.close()

    link = Outage(server.transport())
    link.down = True
    offline, changes = await started(path, transport=link, connect=False)
    (shown,) = [c for c in changes if isinstance(c, ThreadChanged)]
    assert [s.id for s in shown.statuses] == [s.id for s in fresh.statuses], "the last one open"
    offline.connect()
    await offline.idle()
    await offline.open(conversation)
    await offline.idle()
    reopened = [c for c in changes if isinstance(c, ThreadChanged)][1:]
    assert [s.id for s in reopened[0].statuses] == [s.id for s in fresh.statuses]
    assert reopened[-1].note.startswith("Not refreshed")
    assert [s.id for s in reopened[-1].statuses] == [s.id for s in fresh.statuses]
    await offline.close()


@pytest.mark.parametrize("status", [429, 502, 503, 504, 500])
async def test_the_server_asking_to_wait_keeps_the_action(started, server, clock, status) -> None:
    engine, _ = await started()
    target = unread_row(engine)
    server.faults.add(Fault(method="POST", path=READ, status=status, reset_after=60))
    await engine.mark_read(target.id)
    await engine.idle()
    assert engine.store is not None
    (queued,) = engine.store.queued()
    assert queued.attempts == 1
    assert not engine.store.conversation(target.id).unread, "still read"  # type: ignore[union-attr]
    assert target.id in engine.pending_reads
    assert engine.retry_at is not None and named_time(engine) in engine.problem
    if status == 429:
        assert engine.retry_at > clock.now() + 55, "waits for the rate limit to lift"
        await advance(engine, clock, 50)
        assert len(actions(server)) == 1, "not before the limit lifts"
    await advance(engine, clock, 70)
    await engine.idle()
    assert engine.store.queued() == [] and engine.pending_reads == set()
    assert actions(server) == [("POST", f"{LIST}/{target.id}/read")] * 2
    assert engine.problem == "" and engine.retry_at is None
    await engine.close()


async def test_undo_is_refused_once_the_removal_is_on_its_way(started, server, clock) -> None:
    engine, changes = await started()
    target = engine.inbox[1]
    hold = asyncio.Event()
    server.faults.add(Fault(method="DELETE", hold=hold))
    await engine.remove(target.id)
    await asyncio.sleep(0)
    clock.advance(UNDO_SECONDS)
    await until(lambda: any(r.method == "DELETE" for r in server.requests))
    assert await engine.undo() is None, "too late: the DELETE is under way"
    assert "Too late" in notices(changes)[-1].text
    hold.set()
    await engine.idle()
    assert target.id not in ids(engine)
    assert engine.store is not None and engine.store.conversation(target.id) is None
    assert engine.store.queued() == []
    await engine.close()


async def test_a_page_in_flight_cannot_bring_back_a_removed_row(started, server, clock) -> None:
    link = LateAnswers(server.transport())
    engine, _ = await started(transport=link)
    target = engine.inbox[0]
    link.gate = asyncio.Event()
    engine.refresh()
    await until(lambda: link.held == 1)  # page 1, with the row, is on its way
    await engine.remove(target.id)
    await asyncio.sleep(0)
    clock.advance(UNDO_SECONDS)
    await until(lambda: engine.pending_count == 0)
    assert actions(server) == [("DELETE", f"{LIST}/{target.id}")]
    link.gate.set()
    await engine.idle()
    assert target.id not in ids(engine)
    assert target.id not in cached_ids(engine)
    await engine.close()


async def test_a_removal_kept_offline_can_still_be_undone(started, server, clock) -> None:
    link = Outage(server.transport())
    engine, _ = await started(transport=link)
    target = engine.inbox[2]
    await engine.remove(target.id)
    link.down = True
    await advance(engine, clock, UNDO_SECONDS)
    assert engine.online is False and engine.pending_count == 1
    assert await engine.undo() == target, "nothing was sent: undo still works"
    assert engine.inbox[2] == target
    assert engine.store is not None and engine.store.conversation(target.id) == target
    link.down = False
    await advance(engine, clock, 60)
    await engine.idle()
    assert actions(server) == []
    assert engine.problem == ""
    await engine.close()


# -- permanent answers are not retried -------------------------------------------------

PERMANENT = [401, 403, 404, 410, 422]


@pytest.mark.parametrize("page", [1, 2])
@pytest.mark.parametrize("status", PERMANENT)
async def test_a_permanent_answer_on_a_page_is_not_retried(
    started, server, clock, status, page
) -> None:
    if page == 1:
        server.faults.add(Fault(method="GET", path=LIST, status=status))
    engine, changes = await started()
    if page == 2:
        server.faults.add(Fault(method="GET", path=LIST, status=status))
        engine.need_more()
        await engine.idle()
    assert len(lists(server)) == page
    assert len(engine.inbox) == PAGE * (page - 1)
    assert engine.paging == "failed"
    assert engine.retry_at is None and clock.sleepers == 0
    assert one_line(engine.problem)
    refused = [c for c in changes if isinstance(c, TokenRefused)]
    if status == 401:
        assert len(refused) == 1 and engine.token_refused
    else:
        assert refused == [] and not engine.token_refused
    await advance(engine, clock, HOUR)
    engine.need_more()  # scrolling does not retry a refused page either
    await engine.idle()
    assert len(lists(server)) == page, "no second request"
    assert engine.rows_known is (page == 2)
    await engine.close()


@pytest.mark.parametrize("action", ["read", "remove"])
@pytest.mark.parametrize("status", PERMANENT)
async def test_a_permanent_answer_on_an_action_is_not_retried(
    started, server, clock, status, action
) -> None:
    engine, changes = await started()
    target, other = unread_row(engine, 0), unread_row(engine, 1)
    if action == "read":
        server.faults.add(Fault(method="POST", path=READ, status=status))
        await engine.mark_read(target.id)
    else:
        server.faults.add(Fault(method="DELETE", path=ONE, status=status))
        await engine.remove(target.id)
        await advance(engine, clock, UNDO_SECONDS)
    await engine.idle()
    await advance(engine, clock, HOUR)
    await engine.idle()
    assert len(actions(server)) == 1, "no second request"
    assert engine.store is not None
    refused = [c for c in changes if isinstance(c, TokenRefused)]
    if status == 401:
        assert len(refused) == 1 and engine.token_refused
        assert [a.conversation_id for a in engine.store.queued()] == [target.id], "kept"
        assert engine.pending_count == 1 and one_line(engine.problem)
        assert engine.retry_at is None
        await engine.mark_read(other.id)  # a later action waits too, and is not told twice
        await engine.idle()
        await advance(engine, clock, HOUR)
        assert len(actions(server)) == 1
        assert len([c for c in changes if isinstance(c, TokenRefused)]) == 1
        assert engine.pending_count == 2
        return
    assert refused == [] and engine.store.queued() == []
    told = notices(changes)
    if status in (404, 410) and action == "remove":
        assert told == [], "gone is what a removal wanted"
    else:
        (notice,) = told
        assert one_line(notice.text)
    assert engine.retry_at is None and clock.sleepers == 0
    await engine.close()


# -- transient answers heal by themselves ------------------------------------------------

MIB = 2**20

TRANSIENT = {
    "500": ({"status": 500}, {}),
    "502 html": ({"status": 502}, {}),
    "503": ({"status": 503}, {}),
    "drop": ({"drop": True}, {}),
    "timeout": ({"delay": 2.0}, {"timeout": 0.05}),
    "too large": ({"body_size": 2 * MIB}, {"max_bytes": MIB}),
    "gzip bomb": ({"gzip_bomb": 2 * 2**30}, {"max_bytes": MIB}),
    "drip": ({"drip": 0.01}, {"deadline": 0.2}),
}
OFFLINE = {"drop", "timeout"}


@pytest.mark.parametrize("case", list(TRANSIENT))
async def test_a_transient_failure_on_the_first_page_heals_by_itself(
    started, server, clock, case
) -> None:
    fault, options = TRANSIENT[case]
    server.faults.add(Fault(method="GET", path=LIST, **fault))
    engine, changes = await started(**options)
    assert len(engine.inbox) == 0 and engine.paging == "failed"
    assert not engine.rows_known
    assert engine.retry_at is not None
    assert one_line(engine.problem) and named_time(engine) in engine.problem
    assert "<" not in engine.problem, "never the proxy's HTML"
    assert engine.online is (case not in OFFLINE)
    assert engine.problem.startswith("Offline") is (case in OFFLINE)
    wait = engine.retry_at - clock.now()
    assert 1.0 <= wait <= 2.0, "the first step of the backoff"
    engine.need_more()  # scrolling to the end does not hurry it
    await engine.idle()
    await advance(engine, clock, wait - 0.1)
    assert len(lists(server)) == 1, "not before the time it named"
    await advance(engine, clock, 0.2)
    await engine.idle()
    assert len(lists(server)) == 2
    assert len(engine.inbox) == PAGE and engine.rows_known
    assert engine.problem == "" and engine.retry_at is None
    assert engine.online is True and engine.paging == "idle"
    assert engine.backoff.failures == 0
    await engine.close()


async def test_each_failure_in_a_row_waits_longer_and_a_success_starts_over(
    started, server, clock
) -> None:
    server.faults.add(Fault(method="GET", path=LIST, status=503, times=3))
    engine, _ = await started()
    waits = []
    for _ in range(3):
        assert engine.retry_at is not None
        waits.append(engine.retry_at - clock.now())
        await advance(engine, clock, waits[-1])
        await engine.idle()
    assert 1 <= waits[0] <= 2 <= waits[1] <= 4 <= waits[2] <= 8
    assert len(engine.inbox) == PAGE and engine.problem == ""
    assert engine.backoff.failures == 0
    await engine.close()


@pytest.mark.parametrize("header", ["X-RateLimit-Reset", "Retry-After", "Retry-After date"])
async def test_a_rate_limit_waits_until_it_lifts(started, server, clock, header) -> None:
    if header == "X-RateLimit-Reset":
        fault = Fault(method="GET", path=LIST, status=429, reset_after=120)
    elif header == "Retry-After":
        fault = Fault(method="GET", path=LIST, status=429, retry_after=120)
    else:
        reset = (datetime.now(UTC) + timedelta(seconds=120)).replace(microsecond=0)
        fault = Fault(
            method="GET", path=LIST, status=429, retry_after=format_datetime(reset, usegmt=True)
        )
    server.faults.add(fault)
    engine, _ = await started()
    assert engine.retry_at is not None and named_time(engine) in engine.problem
    assert one_line(engine.problem)
    wait = engine.retry_at - clock.now()
    assert 118 < wait < 125, "until the limit lifts, not a backoff of its own"
    await advance(engine, clock, 110)
    assert len(lists(server)) == 1, "never before the reset"
    await advance(engine, clock, 15)
    await engine.idle()
    assert len(lists(server)) == 2
    assert len(engine.inbox) == PAGE and engine.problem == "" and engine.retry_at is None
    await engine.close()


# -- the backoff ---------------------------------------------------------------------------


def test_the_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    ceilings = [min(backoff.cap, backoff.base * 2**n) for n in range(12)]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert delays[:5] == sorted(delays[:5]) and len(set(delays[:5])) == 5, "they grow"
    assert max(delays) <= backoff.cap == 60
    assert len(set(delays)) == len(delays), "jitter: no two alike"
    backoff.reset()
    assert 1.0 <= backoff.next_delay() <= 2.0, "reset starts over"


def test_the_backoff_never_passes_its_cap_however_long_it_fails() -> None:
    backoff = Backoff(rng=random.Random(1))
    assert all(30 <= backoff.next_delay() <= 60 for _ in range(1000) if backoff.failures > 5)
    assert backoff.next_delay() <= 60


def test_the_backoff_jitter_comes_from_its_random_source() -> None:
    same = [Backoff(rng=random.Random(3)) for _ in range(2)]
    other = Backoff(rng=random.Random(4))
    first, second, third = ([b.next_delay() for _ in range(6)] for b in (*same, other))
    assert first == second and first != third


async def test_failures_at_once_share_one_retry(started, server, clock) -> None:
    link = Outage(server.transport())
    engine, changes = await started(transport=link)
    first, second = unread_row(engine, 0), unread_row(engine, 1)
    reading = next(c for c in engine.inbox if not c.unread and c.last_status is not None)
    link.down = True
    await engine.mark_read(first.id)
    await engine.idle()
    retry_at = engine.retry_at
    assert retry_at is not None
    await engine.mark_read(second.id)
    await engine.open(reading)
    engine.need_more()
    await engine.idle()
    assert link.refused >= 4, "the outbox (twice), the thread and the page all failed"
    assert clock.sleepers == 1 and len(engine._timers) == 1, "one retry for all of them"
    assert engine.retry_at == retry_at, "the first failure set its time; the others joined it"
    assert engine.backoff.failures == 1, "one step of the backoff, not one per failure"
    link.down = False
    await advance(engine, clock, engine.retry_at - clock.now())
    await engine.idle()
    assert engine.store is not None and engine.store.queued() == []
    assert len(engine.inbox) == 2 * PAGE
    last_thread = [c for c in changes if isinstance(c, ThreadChanged)][-1]
    assert last_thread.conversation.id == reading.id and last_thread.note == ""
    assert engine.problem == "" and engine.retry_at is None and clock.sleepers == 0
    await engine.close()


async def test_retry_now_tries_again_without_waiting(started, server, clock) -> None:
    server.faults.add(Fault(method="GET", path=LIST, status=503))
    engine, _ = await started()
    assert engine.retry_at is not None
    before = clock.now()
    engine.retry_now()
    await engine.idle()
    assert clock.now() == before
    assert len(engine.inbox) >= PAGE and engine.rows_known
    assert engine.problem == "" and engine.retry_at is None and clock.sleepers == 0
    await engine.close()


async def test_end_on_a_failed_page_asks_again_at_once(started, server, clock) -> None:
    engine, _ = await started()
    server.faults.add(Fault(method="GET", path=LIST, status=502))
    engine.need_more()
    await engine.idle()
    assert engine.paging == "failed" and engine.retry_at is not None
    engine.need_more(now=True)  # End or G on the failed row
    await engine.idle()
    assert len(lists(server)) == 3 and len(engine.inbox) == 2 * PAGE
    assert engine.problem == "" and engine.retry_at is None and clock.sleepers == 0
    await engine.close()


# -- links that loop or cannot be read ---------------------------------------------------


def no_url_twice(server: FakeMastodon) -> None:
    asked = lists(server)
    assert len(asked) == len(set(asked)), f"a URL was asked twice: {asked}"


@pytest.mark.parametrize("back_to", ["the same page", "page 1"])
async def test_a_next_link_back_to_a_page_read_ends_paging(started, server, clock, back_to) -> None:
    engine, _ = await started()
    link = (
        '<{url}>; rel="next"'
        if back_to == "the same page"
        else f'<{{base}}{LIST}?limit={PAGE}>; rel="next"'
    )
    server.faults.add(Fault(method="GET", path=LIST, link=link))
    for _ in range(3):
        engine.need_more()
        await engine.idle()
    assert engine.paging_loop and engine.paging == "end"
    assert len(engine.inbox) == 2 * PAGE
    no_url_twice(server)
    assert engine.problem == ""
    await engine.close()


async def test_a_first_page_whose_next_is_itself_is_read_once(started, server) -> None:
    server.faults.add(Fault(method="GET", path=LIST, link='<{url}>; rel="next"', times=None))
    engine, _ = await started()
    for _ in range(3):
        engine.need_more()
        await engine.idle()
    assert len(engine.inbox) == PAGE
    assert engine.paging_loop and engine.paging == "end"
    no_url_twice(server)
    await engine.close()


async def test_walk_stops_where_the_server_loops(started, server) -> None:
    engine, _ = await started(connect=False)
    server.faults.add(Fault(method="GET", path=LIST, link='<{url}>; rel="next"', times=None))
    rows, reason = await engine.walk(500)
    assert len(rows) == PAGE
    assert one_line(reason)
    no_url_twice(server)
    await engine.close()


async def test_walk_stops_where_a_later_page_loops(started, server) -> None:
    engine, _ = await started(connect=False)
    server.faults.add(Fault(method="GET", path=LIST, times=1))  # page 1 as it is
    server.faults.add(Fault(method="GET", path=LIST, link='<{url}>; rel="next"', times=None))
    rows, reason = await engine.walk(500)
    assert len(rows) == 2 * PAGE and len({r["id"] for r in rows}) == 2 * PAGE
    assert one_line(reason)
    no_url_twice(server)
    await engine.close()


async def test_walk_stops_at_its_limit_or_at_the_end(started, server) -> None:
    engine, _ = await started(connect=False)
    rows, reason = await engine.walk(50)
    assert len(rows) == 50 and reason == ""
    assert len(lists(server)) == 2
    server.requests.clear()
    rows, reason = await engine.walk(1000)
    everything = server.conversation_rows()
    assert [r["id"] for r in rows] == [r["id"] for r in everything] and reason == ""
    assert len(lists(server)) == -(-len(everything) // PAGE)
    no_url_twice(server)
    await engine.close()


@pytest.mark.parametrize("where", ["under another rel", "a bad next before the good one"])
async def test_an_unparsable_link_beside_a_valid_next_keeps_the_page(
    started, server, where
) -> None:
    bad = "<http://[::1/api/v1/conversations?max_id=5>"
    if where == "under another rel":
        fault = Fault(method="GET", path=LIST, link_extra=f'{bad}; rel="last"')
    else:
        cursor = server.conversation_rows()[PAGE - 1]["last_status"]["id"]
        good = f"<{{base}}{LIST}?limit={PAGE}&max_id={cursor}>"
        fault = Fault(method="GET", path=LIST, link=f'{bad}; rel="next", {good}; rel="next"')
    server.faults.add(fault)
    engine, _ = await started()
    assert len(engine.inbox) == PAGE and engine.problem == "" and engine.paging == "idle"
    engine.need_more()
    await engine.idle()
    assert len(engine.inbox) == 2 * PAGE and not engine.paging_loop
    no_url_twice(server)
    await engine.close()


async def test_an_unparsable_next_alone_ends_paging_quietly(started, server, clock) -> None:
    """httpx keeps the last link of each rel: a bad `next` after the good one replaces it,
    and cannot be followed. The page stays; nothing fails and nothing retries."""
    bad = '<http://[::1/api/v1/conversations?max_id=5>; rel="next"'
    server.faults.add(Fault(method="GET", path=LIST, link_extra=bad))
    engine, _ = await started()
    assert len(engine.inbox) == PAGE and engine.problem == ""
    assert engine.paging == "end" and engine.retry_at is None
    await advance(engine, clock, HOUR)
    assert len(lists(server)) == 1
    await engine.close()


# -- rows deleted elsewhere ----------------------------------------------------------------


async def delete_elsewhere(server: FakeMastodon, conversation_id: str, how: str) -> None:
    """Another client forgets the row (its DELETE), or every message in it is deleted."""
    if how == "api":
        async with MastodonClient(
            server.base_url, server.token, transport=server.transport()
        ) as other:
            await other.remove(conversation_id)
    else:
        for status_id in list(server.row(conversation_id).status_ids):
            server.delete_status(status_id)
    assert conversation_id not in {r["id"] for r in server.conversation_rows()}


@pytest.mark.parametrize("how", ["api", "statuses"])
async def test_a_row_deleted_elsewhere_goes_on_refresh(started, server, how) -> None:
    engine, changes = await started()
    gone = engine.inbox[5]
    await delete_elsewhere(server, gone.id, how)
    engine.refresh()
    await engine.idle()
    assert gone.id not in ids(engine)
    assert gone.id not in cached_ids(engine)
    assert RowGone(gone.id) in changes
    assert cached_ids(engine) == ids(engine)
    await engine.close()


async def test_a_row_that_only_moved_to_the_top_stays(started, server) -> None:
    engine, changes = await started()
    engine.need_more()
    await engine.idle()
    near = chat_with_one(server, engine, 10)
    below = chat_with_one(server, engine, PAGE + 5)  # on page 2, not in what refresh reads
    reply_in(server, near, "still here", later=1)
    reply_in(server, below, "me too", later=2)
    engine.refresh()
    await engine.idle()
    assert ids(engine)[:2] == [below.id, near.id]
    assert len(engine.inbox) == 2 * PAGE
    assert not [c for c in changes if isinstance(c, RowGone)]
    assert cached_ids(engine) == ids(engine)
    await engine.close()


async def test_the_background_sweep_drops_a_row_deleted_below_page_1(
    started, server, clock, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    first, _ = await started(path)
    first.need_more()
    await first.idle()
    await first.close()
    deep = first.inbox[PAGE + 20]
    moved = chat_with_one(server, first, PAGE + 5)
    await delete_elsewhere(server, deep.id, "api")

    engine, changes = await started(path)  # a start from the cache: catch-up, then the sweep
    assert deep.id in ids(engine), "page 1 alone does not show it"
    reply_in(server, moved, "moved up after the catch-up")
    asked = len(lists(server))
    for _ in range(SWEEP_PAGES + 2):
        await advance(engine, clock, SWEEP_PAUSE)
    await engine.idle()
    assert len(lists(server)) > asked, "the sweep read pages"
    assert deep.id not in ids(engine) and deep.id not in cached_ids(engine)
    assert RowGone(deep.id) in changes
    assert moved.id in ids(engine), "a row that moved up is not taken for deleted"
    assert [c.conversation_id for c in changes if isinstance(c, RowGone)] == [deep.id]
    await engine.close()


async def test_the_sweep_reads_its_pages_spaced_out(started, server, clock, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    await fill_cache(started, path, pages=4)
    engine, _ = await started(path)
    asked = len(lists(server))
    await advance(engine, clock, SWEEP_PAUSE - 0.5)
    assert len(lists(server)) == asked, "not before its pause"
    await advance(engine, clock, 0.5)
    assert len(lists(server)) == asked + 1, "one page, then a pause"
    for _ in range(SWEEP_PAGES + 2):
        await advance(engine, clock, SWEEP_PAUSE)
    await engine.idle()
    assert len(lists(server)) - asked <= SWEEP_PAGES + 2, "cheap: a few pages at most"
    assert len(engine.inbox) == FIRST_BATCH < 4 * PAGE, "nothing was deleted, nothing dropped"
    await engine.close()


# -- the unread count, and what the engine claims to know ----------------------------------


async def test_the_unread_count_is_the_caches_count(started, server, clock) -> None:
    engine, _ = await started()

    async def agrees() -> int:
        assert engine.store is not None
        cached = await engine.cached_unread_count()
        assert engine.unread_count == cached == engine.store.unread_count()
        return cached

    count = await agrees()
    assert count == sum(c.unread for c in engine.inbox) > 0
    await engine.mark_read(unread_row(engine).id)
    assert await agrees() == count - 1, "at once, before the server is told"
    await engine.idle()
    assert await agrees() == count - 1
    read = next(c for c in engine.inbox if not c.unread and c.last_status is not None)
    reply_in(server, chat_with_one(server, engine, engine.inbox.index_of(read.id) or 0), "hi")
    engine.refresh()
    await engine.idle()
    assert await agrees() == count
    engine.need_more()
    await engine.idle()
    assert await agrees() == sum(c.unread for c in engine.inbox)
    await engine.remove(unread_row(engine).id)
    await engine.idle()
    after_removal = await agrees()
    await advance(engine, clock, UNDO_SECONDS)
    await engine.idle()
    assert await agrees() == after_removal
    await engine.close()


async def test_rows_are_not_claimed_known_before_the_cache_or_server_says(
    started, server, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    hold = asyncio.Event()
    server.faults.add(Fault(method="GET", path=LIST, hold=hold))
    engine, _ = await started(path, connect=False)
    assert not engine.rows_known and engine.unread_count == 0
    engine.connect()
    await until(lambda: len(server.requests) == 1)
    assert not engine.rows_known, "a page in flight is not an empty inbox"
    hold.set()
    await engine.idle()
    assert engine.rows_known and len(engine.inbox) == PAGE
    await engine.close()

    again, _ = await started(path, connect=False)
    assert again.rows_known, "the cache said"
    assert len(server.requests) == 1
    await again.close()


async def test_a_first_start_asks_for_page_1_once(started, server, clock) -> None:
    engine, changes = await started(connect=False)
    assert server.requests == [] and len(engine.inbox) == 0
    assert RowsChanged(0) in changes, "the empty first screen is painted"
    engine.need_more()
    await advance(engine, clock, HOUR)
    await engine.idle()
    assert server.requests == [], "nothing before connect()"
    engine.connect()
    await engine.idle()
    await advance(engine, clock, HOUR)
    await engine.idle()
    assert [(r.method, r.path, r.query) for r in server.requests] == [
        ("GET", LIST, {"limit": str(PAGE)})
    ]
    assert len(engine.inbox) == PAGE and engine.rows_known
    engine.need_more()
    await engine.idle()
    assert len(lists(server)) == 2 and "max_id" in server.requests[-1].query
    await engine.close()


async def test_a_warm_start_paints_from_the_cache_before_any_request(
    started, server, clock, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    first, _ = await started(path)
    first.need_more()
    await first.idle()
    await first.mark_read(unread_row(first).id)
    await first.idle()
    await first.close()
    server.requests.clear()

    engine, changes = await started(path, connect=False)
    assert ids(engine) == ids(first) and engine.rows_known
    assert engine.unread_count == first.unread_count
    assert RowsChanged(0) in changes
    engine.need_more()
    await advance(engine, clock, HOUR)
    await engine.idle()
    assert server.requests == [], "the first screen costs no request"
    engine.connect()
    await engine.idle()
    assert lists(server) == [f"{LIST}?limit={PAGE}"], "then page 1, to catch up"
    await engine.close()


async def test_the_unread_count_covers_cached_rows_not_loaded_yet(
    started, server, clock, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    people = [server.add_account(f"extra{n}", f"Extra {n}") for n in range(30)]
    for person in people:  # more conversations than one batch from the cache
        server.post_status(person, "hello", mentions=[server.me])
    oldest = server.conversation_rows()[-10:]
    for row in oldest:
        server.row(row["id"]).unread = True
    first, _ = await started(path)
    while first.paging != "end":
        first.need_more()
        await first.idle()
    total = len(server.conversation_rows())
    assert len(first.inbox) == total > CACHE_BATCH
    await first.close()

    engine, _ = await started(path, connect=False)
    assert len(engine.inbox) == FIRST_BATCH, "the first screen's batch painted"
    assert engine.store is not None
    assert engine.unread_count == engine.store.unread_count() > engine.inbox.unread_count
    await engine.close()


async def test_the_sweep_goes_on_from_the_refresh_without_asking_page_1_again(
    started, server, clock, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    await fill_cache(started, path, pages=4)
    engine, _ = await started(path)
    for _ in range(SWEEP_PAGES + 2):
        await advance(engine, clock, SWEEP_PAUSE)
    await engine.idle()
    page_1 = [url for url in lists(server) if "max_id" not in url]
    assert len(page_1) == 2, "page 1 once by each start's refresh; the sweep goes on from it"
    await engine.close()


async def test_a_bug_in_engine_work_is_one_notice_and_the_engine_goes_on(
    started, server, clock, tmp_path, monkeypatch
) -> None:
    path = tmp_path / "cache.sqlite3"
    first, _ = await started(path)
    await first.close()
    engine, changes = await started(path, connect=False)

    async def broken(*, quiet: bool, silent: bool = False) -> bool:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "_refresh_now", broken)
    engine.connect()
    await engine.idle()
    notices = [c.text for c in changes if isinstance(c, Notice)]
    assert notices == ["Unexpected error: RuntimeError: a bug"]
    before = len(engine.inbox)
    engine.need_more()
    await engine.idle()
    assert len(engine.inbox) > before, "paging still works"


# -- found in review --------------------------------------------------------------------


async def test_a_refresh_keeps_a_row_that_only_moved_down(started, server) -> None:
    """Its newest message was deleted: the server moves it down, not away."""
    engine, changes = await started()
    engine.need_more()
    await engine.idle()
    deep = chat_with_one(server, engine, PAGE + 5)
    reply_in(server, deep, "oops, wrong person", later=1)
    engine.refresh()
    await engine.idle()
    assert ids(engine)[0] == deep.id
    server.delete_status(server.row(deep.id).status_ids[-1])
    engine.refresh()
    await engine.idle()
    assert deep.id in ids(engine) and deep.id in cached_ids(engine)
    assert RowGone(deep.id) not in changes


async def test_the_problem_line_goes_when_r_loads_a_small_inbox_whose_page_failed(
    started, server, clock
) -> None:
    rows = [r["id"] for r in server.conversation_rows()]
    async with MastodonClient(server.base_url, server.token, transport=server.transport()) as c:
        for conversation_id in rows[10:]:
            await c.remove(conversation_id)
    server.faults.add(Fault(method="GET", path=LIST, status=503))
    engine, _ = await started()
    assert engine.paging == "failed" and engine.problem
    engine.refresh()
    await engine.idle()
    assert len(engine.inbox) == 10 and engine.paging == "end"
    assert engine.problem == "" and engine.retry_at is None


async def test_forgetting_an_unread_row_lowers_the_unread_count(started, server) -> None:
    engine, _ = await started()
    unread = next(c for c in engine.inbox if c.unread)
    before = engine.unread_count
    async with MastodonClient(server.base_url, server.token, transport=server.transport()) as c:
        await c.remove(unread.id)  # removed by another client
    engine.refresh()
    await engine.idle()
    assert unread.id not in ids(engine)
    assert engine.unread_count == before - 1
