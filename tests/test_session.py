"""The session: the cache in front of the server, and the queue of actions behind it."""

from __future__ import annotations

import asyncio

import pytest

from dminbox.client import MastodonClient
from dminbox.errors import NetworkError
from dminbox.fake import FakeMastodon, Fault
from dminbox.session import InboxSession
from dminbox.store import Cache

from conftest import NOW
from outage import Outage

LIST = "/api/v1/conversations"


@pytest.fixture
def server() -> FakeMastodon:
    return FakeMastodon.demo(now=NOW)


def session_for(server: FakeMastodon, cache: Cache | None = None) -> tuple[InboxSession, Outage]:
    link = Outage(server.transport())
    client = MastodonClient(server.base_url, server.token, transport=link)
    return InboxSession(client, cache or Cache.open(None)), link


def deletes(server: FakeMastodon) -> list[str]:
    return [r.path for r in server.requests if r.method == "DELETE"]


async def test_pages_are_stored_and_read_back_from_the_cache(server) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    cached = session.cached(limit=200)
    assert [c.id for c in cached] == [c.id for c in page.conversations]
    assert session.cache.unread_count() == sum(c.unread for c in page.conversations)
    await session.close()


async def test_a_queued_removal_hides_the_row_from_later_pages(server) -> None:
    session, link = session_for(server)
    page = await session.fetch_older(None)
    target = page.conversations[0]
    session.queue("remove", target, delay=60)
    again = await session.fetch_newer(None)
    assert target.id not in [c.id for c in again.conversations]
    assert target.id not in [c.id for c in session.cached()]
    await session.close()


async def test_offline_actions_are_kept_then_replayed_in_order(server) -> None:
    session, link = session_for(server)
    page = await session.fetch_older(None)
    unread = [c for c in page.conversations if c.unread][:2]
    read_first, removed, read_last = unread[0], page.conversations[5], unread[1]
    link.down = True
    session.queue("read", read_first)
    session.queue("remove", removed)
    session.queue("read", read_last)
    results = await session.send_queued()
    assert [r.kind for r in results] == ["kept"], "the first failure stops the replay"
    assert not session.online
    assert [a.conversation_id for a in session.queued()] == [
        read_first.id,
        removed.id,
        read_last.id,
    ]
    assert session.queued()[0].attempts == 1
    link.down = False
    server.requests.clear()
    results = await session.send_queued()
    assert [r.kind for r in results] == ["sent", "sent", "sent"]
    assert session.online and session.queued() == []
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", f"{LIST}/{read_first.id}/read"),
        ("DELETE", f"{LIST}/{removed.id}"),
        ("POST", f"{LIST}/{read_last.id}/read"),
    ]
    await session.close()


async def test_a_removal_inside_its_undo_window_waits_unless_quitting(server) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    seq = session.queue("remove", page.conversations[0], delay=60)
    assert await session.send_queued() == []
    assert deletes(server) == []
    results = await session.send_queued(everything=True)
    assert [r.kind for r in results] == ["sent"]
    assert deletes(server) == [f"{LIST}/{page.conversations[0].id}"]
    assert session.cancel(seq) is None, "too late to undo"
    await session.close()


async def test_undo_puts_the_row_back_and_sends_nothing(server) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    target = page.conversations[3]
    seq = session.queue("remove", target, delay=60)
    assert target.id not in [c.id for c in session.cached()]
    assert session.cancel(seq) is not None
    assert session.cache.conversation(target.id) == target
    assert await session.send_queued(everything=True) == []
    assert deletes(server) == []
    await session.close()


@pytest.mark.parametrize(("status", "kind"), [(404, "gone"), (403, "refused"), (500, "refused")])
async def test_the_server_refusing_for_good_drops_the_action(server, status, kind) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    target = next(c for c in page.conversations if c.unread)
    server.faults.add(Fault(method="POST", path=r".*/read", status=status))
    session.queue("read", target)
    (result,) = await session.send_queued()
    assert result.kind == kind
    assert session.queued() == []
    if kind == "refused":
        assert session.cache.conversation(target.id).unread, "the cache goes back to the truth"
        assert result.message and "\n" not in result.message
    else:
        assert session.cache.conversation(target.id) is None
    await session.close()


async def test_a_refused_removal_restores_the_row_in_the_cache(server) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    target = page.conversations[2]
    server.faults.add(Fault(method="DELETE", status=403))
    session.queue("remove", target)
    (result,) = await session.send_queued()
    assert result.kind == "refused"
    assert session.cache.conversation(target.id) == target
    await session.close()


async def test_a_network_error_marks_the_session_offline(server) -> None:
    session, link = session_for(server)
    link.down = True
    with pytest.raises(NetworkError):
        await session.fetch_older(None)
    assert not session.online
    link.down = False
    await session.fetch_older(None)
    assert session.online
    await session.close()


async def test_threads_are_cached_for_reading_offline(server) -> None:
    session, link = session_for(server)
    page = await session.fetch_older(None)
    conversation = next(c for c in page.conversations if c.last_status is not None)
    thread = await session.fetch_thread(conversation)
    assert thread[-1].id == conversation.last_status.id or conversation.last_status in thread
    link.down = True
    assert [s.id for s in session.cached_thread(conversation)] == [s.id for s in thread]
    await session.close()


@pytest.mark.parametrize("status", [429, 502, 503])
async def test_the_server_asking_to_wait_keeps_the_action(server, status) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    target = next(c for c in page.conversations if c.unread)
    server.faults.add(Fault(method="POST", path=r".*/read", status=status, reset_after=60))
    session.queue("read", target)
    (result,) = await session.send_queued()
    assert (result.kind, result.why) == ("kept", "later")
    (queued,) = session.queued()
    assert queued.attempts == 1
    assert not session.cache.conversation(target.id).unread, "still read on screen"
    if status == 429:
        assert queued.not_before > session.now() + 30, "waits for the rate limit to lift"
        assert await session.send_queued() == []
    else:
        (again,) = await session.send_queued()
        assert again.kind == "sent"


async def test_undo_is_refused_once_the_removal_is_on_its_way(server) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    target = page.conversations[1]
    hold = asyncio.Event()
    server.faults.add(Fault(method="DELETE", hold=hold))
    seq = session.queue("remove", target, delay=0.0)
    sending = asyncio.create_task(session.send_queued())
    while not any(r.method == "DELETE" for r in server.requests):
        await asyncio.sleep(0)
    assert session.cancel(seq) is None, "too late: the DELETE is under way"
    hold.set()
    (result,) = await sending
    assert result.kind == "sent"
    assert session.cache.conversation(target.id) is None


async def test_a_page_that_left_before_a_removal_cannot_bring_the_row_back(server) -> None:
    session, _ = session_for(server)
    page = await session.fetch_older(None)
    target = page.conversations[0]
    late = await session.client.conversations(None)  # answered before the removal
    session.queue("remove", target)
    (result,) = await session.send_queued()
    assert result.kind == "sent"
    stored = session._store(late, page_url=None)
    assert target.id not in [c.id for c in stored.conversations]
    assert session.cache.conversation(target.id) is None
    await session.close()


async def test_a_removal_kept_offline_can_still_be_undone(server) -> None:
    session, link = session_for(server)
    page = await session.fetch_older(None)
    target = page.conversations[2]
    seq = session.queue("remove", target, delay=0.0)
    link.down = True
    (result,) = await session.send_queued()
    assert result.kind == "kept"
    assert session.cancel(seq) is not None, "nothing was sent: undo still works"
    assert session.cache.conversation(target.id) == target
    await session.close()
