"""Merging pages into the inbox: each id once, the newest version, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dminbox.inbox import Inbox
from dminbox.models import Account, Conversation, Status
from dminbox.page import Page

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ME = Account(id="0", acct="me")


def conversation(cid: str, minute: int, unread: bool = False) -> Conversation:
    status = Status(id=f"s{cid}-{minute}", created_at=EPOCH + timedelta(minutes=minute), account=ME)
    return Conversation(id=cid, unread=unread, accounts=[ME], last_status=status)


def newest_first(rows: list[Conversation]) -> list[Conversation]:
    return sorted(rows, key=lambda c: c.last_status.created_at, reverse=True)


snapshots = st.lists(
    st.tuples(st.integers(0, 10_000), st.booleans()),
    min_size=0,
    max_size=60,
    unique_by=lambda t: t[0],
).map(
    lambda items: newest_first(
        [conversation(f"c{i}", minute, unread) for i, (minute, unread) in enumerate(items)]
    )
)


def check_invariants(inbox: Inbox) -> None:
    ids = [c.id for c in inbox]
    assert len(ids) == len(set(ids)), "an id shows once"
    assert inbox.unread_count == sum(c.unread for c in inbox)
    for index, row in enumerate(inbox):
        assert inbox.index_of(row.id) == index


@given(snapshots, st.integers(1, 7), st.integers(0, 3))
def test_paging_down_a_snapshot_rebuilds_it_exactly(rows, size, overlap) -> None:
    """Pages may overlap (a row appears on two pages); the result is the snapshot."""
    inbox = Inbox()
    start = 0
    while start < len(rows) or not inbox.started:
        chunk = rows[max(0, start - overlap) : start + size]
        more = start + size < len(rows)
        inbox.add_older_page(Page(chunk, next_url=f"next{start}" if more else None), f"u{start}")
        start += size
        if not more:
            break
    assert [c.id for c in inbox] == [c.id for c in rows]
    assert inbox.reached_end and not inbox.has_more
    check_invariants(inbox)


@given(snapshots, st.data())
def test_moved_conversations_show_once_in_last_status_order(rows, data) -> None:
    inbox = Inbox()
    inbox.add_older(rows)
    moved_ids = data.draw(st.sets(st.sampled_from([c.id for c in rows]))) if rows else set()
    moved = [
        conversation(cid, 20_000 + data.draw(st.integers(0, 500)), data.draw(st.booleans()))
        for cid in moved_ids
    ]
    shuffled = data.draw(st.permutations(moved))  # GoToSocial sends min_id pages oldest first
    inbox.add_newer(shuffled)
    check_invariants(inbox)
    assert len(inbox) == len(rows)
    times = [c.last_status.created_at for c in inbox]
    assert times == sorted(times, reverse=True)
    latest = {c.id: c for c in moved}
    for row in inbox:
        if row.id in latest:
            assert row == latest[row.id], "the version received last wins"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["older", "newer", "remove", "restore", "read"]),
            st.lists(st.integers(0, 15), max_size=6),
            st.integers(0, 1000),
        ),
        max_size=40,
    )
)
def test_any_sequence_of_operations_keeps_the_inbox_consistent(operations) -> None:
    inbox = Inbox()
    removed: list[tuple[int, Conversation]] = []
    for kind, ids, minute in operations:
        rows = [conversation(f"c{i}", minute + i, unread=i % 2 == 0) for i in ids]
        if kind == "older":
            inbox.add_older(rows)
        elif kind == "newer":
            inbox.add_newer(rows)
        elif kind == "remove" and ids:
            if (taken := inbox.remove(f"c{ids[0]}")) is not None:
                removed.append(taken)
        elif kind == "restore" and removed:
            inbox.restore(*removed.pop())
        elif kind == "read" and len(inbox):
            inbox.replace(inbox[minute % len(inbox)].model_copy(update={"unread": False}))
        check_invariants(inbox)


def test_remove_and_restore_put_the_row_back_where_it_was() -> None:
    inbox = Inbox()
    rows = [conversation(f"c{i}", 100 - i, unread=True) for i in range(5)]
    inbox.add_older(rows)
    index, row = inbox.remove("c2")
    assert index == 2 and "c2" not in inbox and inbox.unread_count == 4
    assert inbox.restore(index, row) == 2
    assert [c.id for c in inbox] == [c.id for c in rows]
    assert inbox.unread_count == 5


def test_a_url_already_read_is_not_fetched_again() -> None:
    inbox = Inbox()
    inbox.add_older_page(Page([conversation("a", 5)], next_url="n1"), None)
    assert inbox.should_fetch("n1")
    inbox.add_older_page(Page([conversation("b", 4)], next_url="n2"), "n1")
    assert not inbox.should_fetch("n1")
    assert inbox.next_url == "n2" and inbox.has_more


def test_an_empty_page_after_a_full_one_ends_the_list() -> None:
    inbox = Inbox()
    inbox.add_older_page(Page([conversation("a", 5)], next_url="n1"), None)
    inbox.add_older_page(Page([], next_url=None), "n1")
    assert inbox.reached_end and not inbox.has_more
    assert [c.id for c in inbox] == ["a"]


def test_newer_page_keeps_the_newest_prev_link() -> None:
    inbox = Inbox()
    inbox.add_older_page(Page([conversation("a", 5)], next_url=None, prev_url="p1"), None)
    assert inbox.prev_url == "p1"
    assert inbox.add_newer_page(Page([conversation("b", 9)], prev_url="p2"))
    assert inbox.prev_url == "p2"
    assert not inbox.add_newer_page(Page([], prev_url=None))
    assert inbox.prev_url == "p2"
    assert [c.id for c in inbox] == ["b", "a"]


def test_add_older_says_which_row_changed_first() -> None:
    inbox = Inbox()
    assert inbox.add_older([conversation("a", 9), conversation("b", 8)]) == 0
    assert inbox.add_older([conversation("c", 7)]) == 2, "a plain append changes only the end"
    assert inbox.add_older([conversation("b", 6), conversation("d", 5)]) == 1, "b moved down"
    assert [c.id for c in inbox] == ["a", "c", "b", "d"]


def test_a_page_read_again_leaves_unchanged_rows_in_place() -> None:
    """Across runs the same page may be read twice; rows that did not move stay put."""
    inbox = Inbox()
    inbox.add_older([conversation(c, 100 - i) for i, c in enumerate("abcdef")])
    first_changed = inbox.add_older([conversation("b", 99, unread=True), conversation("g", 1)])
    assert [c.id for c in inbox] == list("abcdefg")
    assert inbox[1].unread and inbox.unread_count == 1
    assert first_changed == 1


def test_clear_forgets_every_row_and_the_unread_count() -> None:
    inbox = Inbox()
    inbox.add_older([conversation("1", 2, unread=True), conversation("2", 1)])
    inbox.clear()
    assert len(inbox) == 0 and "1" not in inbox and inbox.unread_count == 0
