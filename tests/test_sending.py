"""Sending messages through the engine's durable outbox, against the fake server: replies,
new messages, forks, retries that never post twice, refusals that give the text back,
drafts and the server's limits. No Textual, and time moved by hand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from dminbox.clock import ManualClock
from dminbox.engine import (
    NEW_KEY,
    Change,
    Draft,
    Engine,
    Notice,
    SendRefused,
    Sent,
    ThreadChanged,
    reply_key,
)
from dminbox.fake import FakeMastodon, Fault
from dminbox.fake.app import RecordedRequest
from dminbox.models import Conversation
from dminbox.text import html_to_text

from conftest import NOW, make_engine, manual_clock
from outage import Outage

STATUSES = "/api/v1/statuses"
LIST = "/api/v1/conversations"


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
    """Builds engines on `server` and `clock`, started and connected; any a test leaves
    open is closed at the end. (As in test_engine.py.)"""
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


async def later(engine: Engine, clock: ManualClock, seconds: float) -> None:
    """Moves the clock on, lets the timers that became due start their work, and waits
    for it (and for what it started) to finish."""
    for _ in range(3):
        await asyncio.sleep(0)  # timers just made start their sleep at the present moment
    clock.advance(seconds)
    for _ in range(3):
        await asyncio.sleep(0)  # woken timers spawn their work
    await engine.idle()


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Yields to the event loop until `condition` holds (no fixed sleep)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0)


class Recorder(httpx.AsyncBaseTransport):
    """Notes every request the client tries, before it reaches the link (even one refused)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seen: list[httpx.Request]) -> None:
        self.inner = inner
        self.seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def ids(engine: Engine) -> list[str]:
    return [c.id for c in engine.inbox]


def chat_with_one(
    server: FakeMastodon, engine: Engine, *, unread: bool | None = None
) -> Conversation:
    """A loaded row below the top with one other person in it, and a last status."""
    me = server.me["id"]
    return next(
        c
        for c in list(engine.inbox)[1:]
        if len(c.accounts) == 1
        and c.accounts[0].id != me
        and c.last_status is not None
        and unread in (None, c.unread)
    )


def reply_to(conversation: Conversation, text: str) -> Draft:
    """The reply the composer would send in `conversation`, addressed to its participants."""
    assert conversation.last_status is not None
    mentions = " ".join(f"@{a.acct}" for a in conversation.accounts)
    return Draft(
        reply_key(conversation.id),
        text=f"{mentions} {text}",
        in_reply_to_id=conversation.last_status.id,
        conversation_id=conversation.id,
    )


def posts(server: FakeMastodon) -> list[RecordedRequest]:
    """Every POST of a status the server saw."""
    return [r for r in server.requests if r.method == "POST" and r.path == STATUSES]


def form(request: RecordedRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def on_server(server: FakeMastodon, text: str) -> list[str]:
    """The ids of the server's statuses with exactly this text."""
    return [s.id for s in server.state.statuses.values() if s.text == text]


def of_type(changes: list[Change], kind: type) -> list[Any]:
    return [c for c in changes if isinstance(c, kind)]


def queued(engine: Engine) -> list[Any]:
    assert engine.store is not None
    return engine.store.queued()


def cached_thread_ids(engine: Engine, conversation_id: str) -> list[str]:
    assert engine.store is not None
    return [s.id for s in engine.store.thread(conversation_id)]


def text_of(content: str) -> str:
    return html_to_text(content).text


# -- a reply -------------------------------------------------------------------------


async def test_a_reply_is_posted_once_and_its_row_goes_to_the_top(started, server) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine, unread=True)
    assert conversation.last_status is not None
    draft = reply_to(conversation, "hi")
    await engine.writer.save_draft(draft)
    page_1 = asyncio.Event()
    server.faults.add(Fault(method="GET", path=LIST, hold=page_1))

    seq = await engine.send(draft)
    await until(lambda: bool(of_type(changes, Sent)))

    # The server's answer alone moves the row: page 1 is still on its way.
    assert seq is not None
    (post,) = posts(server)
    sent_form = form(post)
    assert sent_form["visibility"] == "direct"
    assert sent_form["in_reply_to_id"] == conversation.last_status.id
    assert sent_form["status"] == draft.text
    assert post.headers.get("idempotency-key")
    (status_id,) = on_server(server, draft.text)
    (sent,) = of_type(changes, Sent)
    assert sent.conversation_id == conversation.id and sent.status.id == status_id
    assert sent.draft_key == draft.key

    def row_on_top() -> None:
        top = engine.inbox[0]
        assert top.id == conversation.id and not top.unread
        assert top.last_status is not None and top.last_status.id == status_id
        assert ids(engine).count(conversation.id) == 1
        assert cached_thread_ids(engine, conversation.id).count(status_id) == 1
        assert engine.writer.pending_in(conversation.id) == ()

    row_on_top()
    page_1.set()
    await engine.idle()

    after_post = server.requests[server.requests.index(post) + 1 :]
    assert any(r.method == "GET" and r.path == LIST for r in after_post), "page 1 was read"
    row_on_top()
    assert not any(i.startswith("pending-") for i in cached_thread_ids(engine, conversation.id))
    assert await engine.writer.draft(draft.key) is None
    assert engine.pending_count == 0 and queued(engine) == []
    assert len(of_type(changes, Sent)) == 1
    assert server.conversation_rows()[0]["id"] == conversation.id, "the server agrees"


async def test_a_reply_leaves_its_row_read_where_the_server_does_not_mark_it(clock) -> None:
    # GoToSocial leaves the flag of a conversation alone when its owner posts in it: the
    # read must be sent, or the refresh after the message brings the row back unread.
    server = FakeMastodon.demo("gotosocial", now=NOW)
    engine = make_engine(server, clock=clock)
    try:
        await engine.start()
        engine.connect()
        await engine.idle()
        conversation = chat_with_one(server, engine, unread=True)

        await engine.send(reply_to(conversation, "read it"))
        await engine.idle()

        row = engine._row(conversation.id)
        assert engine.inbox[0].id == conversation.id
        assert row is not None and not row.unread
        assert not server.row(conversation.id).unread, "the server was told"
        reads = [r.path for r in server.requests if r.method == "POST" and r.path.endswith("/read")]
        assert reads == [f"{LIST}/{conversation.id}/read"]
        assert engine.pending_count == 0
        engine.refresh()
        await engine.idle()
        row = engine._row(conversation.id)
        assert row is not None and not row.unread
    finally:
        await engine.close()


async def test_a_reply_shows_as_pending_in_its_open_thread_until_confirmed(started, server) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine)
    await engine.open(conversation)
    await engine.idle()
    hold = asyncio.Event()
    server.faults.add(Fault(method="POST", path=STATUSES, hold=hold))
    draft = reply_to(conversation, "on its way")
    before = len(changes)

    await engine.send(draft)

    def threads() -> list[ThreadChanged]:
        return of_type(changes[before:], ThreadChanged)

    await until(lambda: any(t.pending for t in threads()))
    waiting = next(t for t in threads() if t.pending)
    assert waiting.conversation.id == conversation.id
    (pending,) = waiting.pending
    assert text_of(pending.status.content) == draft.text
    assert engine.pending_count == 1
    seen = len(changes)

    hold.set()
    await engine.idle()

    (status_id,) = on_server(server, draft.text)
    after = of_type(changes[seen:], ThreadChanged)
    assert after, "the thread is redrawn once the server confirmed"
    confirmed = after[0]
    assert confirmed.conversation.id == conversation.id
    assert confirmed.pending == ()
    assert [s.id for s in confirmed.statuses].count(status_id) == 1
    assert all(t.pending == () for t in after)


# -- nothing twice -------------------------------------------------------------------


async def test_a_lost_answer_is_retried_with_the_same_key_and_posts_once(
    started, server, clock
) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine)
    server.faults.add(Fault(method="POST", path=STATUSES, drop=True))
    draft = reply_to(conversation, "said once")

    await engine.send(draft)
    await engine.idle()

    assert len(on_server(server, draft.text)) == 1, "the server posted it; the answer was lost"
    assert engine.pending_count == 1 and len(queued(engine)) == 1
    assert engine.problem and engine.retry_at is not None
    assert await engine.writer.draft(draft.key) is None, "the text is in the outbox alone"
    assert not of_type(changes, Sent)

    clock.advance(engine.retry_at - clock.now() + 1)
    await until(lambda: len(posts(server)) == 2)
    await engine.idle()

    first, second = posts(server)
    key = first.headers["idempotency-key"]
    assert key and second.headers["idempotency-key"] == key
    (status_id,) = on_server(server, draft.text)
    assert engine.pending_count == 0 and queued(engine) == []
    assert engine.problem == ""
    assert engine.inbox[0].id == conversation.id
    assert engine.inbox[0].last_status.id == status_id
    assert cached_thread_ids(engine, conversation.id).count(status_id) == 1
    assert [s.conversation_id for s in of_type(changes, Sent)] == [conversation.id]


async def test_retry_now_sends_a_message_that_failed(started, server, clock) -> None:
    engine, _ = await started()
    conversation = chat_with_one(server, engine)
    server.faults.add(Fault(method="POST", path=STATUSES, status=503))
    draft = reply_to(conversation, "try again")

    await engine.send(draft)
    await engine.idle()
    assert engine.pending_count == 1 and on_server(server, draft.text) == []

    engine.retry_now()
    await engine.idle()

    first, second = posts(server)
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert len(on_server(server, draft.text)) == 1
    assert engine.pending_count == 0 and engine.problem == ""


async def test_a_message_queued_offline_is_sent_by_the_next_run_once(
    started, server, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    tried: list[httpx.Request] = []
    link = Outage(server.transport())
    engine, _ = await started(path, transport=Recorder(link, tried))
    conversation = chat_with_one(server, engine)
    link.down = True
    draft = reply_to(conversation, "sent later")

    await engine.send(draft)
    await engine.idle()

    assert engine.pending_count == 1 and engine.online is False
    assert on_server(server, draft.text) == []
    first_key = next(r for r in tried if r.url.path == STATUSES).headers["idempotency-key"]
    await engine.close()

    link = Outage(server.transport())  # the server is back
    again, changes = await started(path, connect=False, transport=Recorder(link, tried))
    (pending,) = again.writer.pending_in(conversation.id)
    assert text_of(pending.status.content) == draft.text, "still shown on its way"
    assert "refused the connection" in pending.waiting, "and why"
    assert again.pending_count == 1
    again.connect()
    await again.idle()

    keys = [r.headers["idempotency-key"] for r in tried if r.url.path == STATUSES]
    assert len(keys) == 2 and set(keys) == {first_key}
    assert len(posts(server)) == 1
    (status_id,) = on_server(server, draft.text)
    assert again.pending_count == 0 and queued(again) == []
    assert again.inbox[0].id == conversation.id
    assert again.inbox[0].last_status.id == status_id
    assert [s.conversation_id for s in of_type(changes, Sent)] == [conversation.id]
    assert await again.writer.draft(draft.key) is None


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 422])
async def test_a_refused_message_goes_back_to_its_draft(started, server, clock, status) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine)
    await engine.open(conversation)
    await engine.idle()
    server.faults.add(Fault(method="POST", path=STATUSES, status=status))
    draft = Draft(
        reply_key(conversation.id),
        text=reply_to(conversation, "no").text,
        spoiler_text="careful",
        in_reply_to_id=conversation.last_status.id,
        conversation_id=conversation.id,
    )
    row_before, index_before = engine._row(conversation.id), ids(engine).index(conversation.id)
    before = len(changes)

    await engine.send(draft)
    await engine.idle()

    (refused,) = of_type(changes, SendRefused)
    assert refused.draft_key == draft.key
    phrase = {403: "Forbidden", 422: "Unprocessable Entity"}[status]
    assert phrase in refused.reason
    assert queued(engine) == [] and engine.pending_count == 0
    assert await engine.writer.draft(draft.key) == draft
    assert on_server(server, draft.text) == []
    assert not of_type(changes, Sent)
    assert engine.retry_at is None
    await later(engine, clock, 3600)
    assert len(posts(server)) == 1, "a refusal is not retried"
    assert engine.writer.pending_in(conversation.id) == ()
    last = of_type(changes[before:], ThreadChanged)[-1]
    assert last.pending == (), "the open thread no longer shows it"
    assert engine._row(conversation.id) == row_before, "the row is as it was"
    assert ids(engine).index(conversation.id) == index_before


async def test_the_servers_own_refusal_reason_is_given(started, server, clock) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine)
    draft = reply_to(conversation, "x" * 600)

    await engine.send(draft)
    await engine.idle()

    (refused,) = of_type(changes, SendRefused)
    assert "character limit of 500" in refused.reason
    assert await engine.writer.draft(draft.key) == draft
    assert queued(engine) == []


async def test_a_reply_to_a_status_deleted_meanwhile_is_refused_not_gone(
    started, server, clock
) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine)
    assert conversation.last_status is not None
    draft = reply_to(conversation, "too late")
    server.delete_status(conversation.last_status.id)

    await engine.send(draft)
    await engine.idle()

    (post,) = posts(server)
    (refused,) = of_type(changes, SendRefused)
    assert "does not appear to exist" in refused.reason
    assert await engine.writer.draft(draft.key) == draft
    assert queued(engine) == [] and engine.pending_count == 0
    assert conversation.id in ids(engine), "the conversation is not dropped"
    assert engine.store is not None and engine.store.conversation(conversation.id) is not None
    assert not [n for n in of_type(changes, Notice) if "already gone" in n.text]


# -- new conversations ---------------------------------------------------------------


async def test_a_new_message_brings_its_conversation_to_the_top(started, server) -> None:
    someone = server.add_account("someone", "Someone New")
    engine, changes = await started()
    before = set(ids(engine))
    draft = Draft(NEW_KEY, text="@someone hello", to=("someone",))
    await engine.writer.save_draft(draft)

    await engine.send(draft)
    await engine.idle()

    (post,) = posts(server)
    assert form(post)["visibility"] == "direct" and "in_reply_to_id" not in form(post)
    (status_id,) = on_server(server, draft.text)
    top = engine.inbox[0]
    assert top.id not in before
    assert top.last_status is not None and top.last_status.id == status_id
    assert [a.id for a in top.accounts] == [someone["id"]]
    assert server.conversation_rows()[0]["id"] == top.id
    (sent,) = of_type(changes, Sent)
    assert sent.draft_key == NEW_KEY and sent.conversation_id == top.id
    assert sent.status.id == status_id
    assert await engine.writer.draft(NEW_KEY) is None
    assert engine.pending_count == 0


async def test_a_reply_to_other_people_forks_a_new_conversation(started, server) -> None:
    engine, changes = await started()
    conversation = chat_with_one(server, engine)
    assert conversation.last_status is not None
    other = next(
        a
        for a in server.state.accounts.values()
        if a.id not in {server.me["id"], conversation.accounts[0].id}
    )
    draft = Draft(
        reply_key(conversation.id),
        text=f"@{conversation.accounts[0].acct} @{other.acct} meet each other",
        in_reply_to_id=conversation.last_status.id,
        conversation_id=conversation.id,
    )
    before = set(ids(engine))

    await engine.send(draft)
    await engine.idle()

    (status_id,) = on_server(server, draft.text)
    row = engine._row(conversation.id)
    assert row is not None and row.last_status is not None
    assert row.last_status.id == conversation.last_status.id, "the original row keeps its own"
    assert engine.store is not None
    stored = engine.store.conversation(conversation.id)
    assert stored is not None and stored.last_status is not None
    assert stored.last_status.id == conversation.last_status.id
    assert status_id not in cached_thread_ids(engine, conversation.id)
    fork = engine.inbox[0]
    assert fork.id not in before and fork.id != conversation.id
    assert fork.last_status is not None and fork.last_status.id == status_id
    assert {a.id for a in fork.accounts} == {conversation.accounts[0].id, other.id}
    (sent,) = of_type(changes, Sent)
    assert sent.conversation_id == fork.id


# -- drafts --------------------------------------------------------------------------


async def test_a_draft_is_kept_across_runs_and_an_empty_one_deleted(
    server, clock, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    draft = Draft(
        reply_key("c1"),
        text="half written",
        spoiler_text="cw",
        to=("alice", "bob@elsewhere.example"),
        in_reply_to_id="s1",
        conversation_id="c1",
    )
    new = Draft(NEW_KEY, text="also kept")
    first = make_engine(server, path, clock=clock)
    await first.writer.save_draft(draft)
    await first.writer.save_draft(new)
    await first.close()

    second = make_engine(server, path, clock=clock)
    assert await second.writer.draft(draft.key) == draft
    assert await second.writer.draft(NEW_KEY) == new
    await second.writer.save_draft(Draft(draft.key, text="  \n"))
    assert await second.writer.draft(draft.key) is None
    await second.close()

    third = make_engine(server, path, clock=clock)
    assert await third.writer.draft(draft.key) is None
    assert await third.writer.draft(NEW_KEY) == new
    assert await third.writer.draft("reply:nobody") is None
    await third.close()
    assert server.requests == [], "drafts never ask the server"


# -- limits --------------------------------------------------------------------------


@pytest.mark.parametrize(("flavour", "limit"), [("mastodon", 500), ("gotosocial", 5000)])
async def test_the_limits_are_the_servers_asked_once_a_run(clock, flavour, limit) -> None:
    server = FakeMastodon.demo(flavour, now=NOW)
    engine = make_engine(server, clock=clock)
    try:
        assert (await engine.writer.limits()).max_characters == limit
        assert (await engine.writer.limits()).max_characters == limit
    finally:
        await engine.close()
    asked = [r.path for r in server.requests if r.path.endswith("/instance")]
    assert asked == ["/api/v2/instance"]


async def test_the_limits_come_from_the_cache_when_the_server_is_away(clock, tmp_path) -> None:
    server = FakeMastodon.demo("gotosocial", now=NOW)
    path = tmp_path / "cache.sqlite3"
    first = make_engine(server, path, clock=clock)
    assert (await first.writer.limits()).max_characters == 5000
    await first.close()

    link = Outage(server.transport())
    link.down = True
    second = make_engine(server, path, clock=clock, transport=link)
    try:
        assert (await second.writer.limits()).max_characters == 5000
        assert link.refused >= 1, "the server was asked, and could not answer"
    finally:
        await second.close()
