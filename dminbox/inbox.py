"""The inbox as data: conversations newest first, each id once, and where paging stands.

Pure and synchronous: the screen feeds it pages from the client and reads it
to draw. Every operation costs at most one pass over the list, so it stays
well under a frame at tens of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from dminbox.models import Conversation
from dminbox.page import Page

__all__ = ["Inbox"]

_OLDEST = datetime.min.replace(tzinfo=UTC)


def _last_activity(conversation: Conversation) -> datetime:
    status = conversation.last_status
    return status.created_at if status is not None else _OLDEST


class Inbox:
    """Conversations newest first, merged by id, with the paging frontier."""

    def __init__(self) -> None:
        self._rows: list[Conversation] = []
        self._ids: set[str] = set()
        self._unread = 0
        self.next_url: str | None = None
        """Where the next older page is: the `next` link of the last page read."""
        self.prev_url: str | None = None
        """Where newer conversations are: the `prev` link of the newest page read."""
        self.started = False
        """True once the first page has been read."""
        self.reached_end = False
        """True once the server said there is nothing older."""
        self._fetched: set[str] = set()

    # -- reading ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> Conversation:
        return self._rows[index]

    def __iter__(self) -> Iterator[Conversation]:
        return iter(self._rows)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._ids

    @property
    def unread_count(self) -> int:
        return self._unread

    def index_of(self, conversation_id: str) -> int | None:
        if conversation_id not in self._ids:
            return None
        for index, row in enumerate(self._rows):
            if row.id == conversation_id:
                return index
        return None  # pragma: no cover - _ids and _rows agree

    @property
    def has_more(self) -> bool:
        """True while an older page may still exist."""
        return not self.started or (not self.reached_end and self.next_url is not None)

    def should_fetch(self, url: str | None) -> bool:
        """True unless this page URL was already read (no page is fetched twice)."""
        return url is None or url not in self._fetched

    # -- pages -----------------------------------------------------------

    def add_older_page(self, page: Page, url: str | None = None) -> int:
        """Appends a page read by following `next` (or the first page).

        Returns the first index that changed (see `add_older`).
        """
        if url is not None:
            self._fetched.add(url)
        if not self.started:
            self.started = True
            self.prev_url = page.prev_url
        first_changed = self.add_older(page.conversations)
        self.next_url = page.next_url
        if page.is_last:
            self.reached_end = True
        return first_changed

    def add_newer_page(self, page: Page) -> bool:
        """Merges a page read by following `prev`; True if it brought anything."""
        if not page.conversations:
            return False
        self.add_newer(page.conversations)
        if page.prev_url is not None:
            self.prev_url = page.prev_url
        if not self.started:
            self.started = True
            self.next_url = page.next_url
            self.reached_end = page.is_last
        return True

    # -- merging ---------------------------------------------------------

    def add_older(self, conversations: Iterable[Conversation]) -> int:
        """Older rows go to the bottom; a row seen before moves to its new place.

        Returns the first index that changed: the old length for a plain append,
        less when a row seen before was taken from higher up.
        """
        fresh = _unique_last(conversations)
        # A row seen again with the same last status did not move (a page read
        # twice, across runs): it is updated where it stands. One whose last status
        # changed moved down (its newest message was deleted) and goes to the end.
        moved: set[str] = set()
        first_changed: int | None = None
        for conversation in fresh:
            index = self.index_of(conversation.id) if conversation.id in self._ids else None
            if index is None:
                continue
            if _same_last_status(self._rows[index], conversation):
                self._unread += int(conversation.unread) - int(self._rows[index].unread)
                self._rows[index] = conversation
                first_changed = index if first_changed is None else min(first_changed, index)
            else:
                moved.add(conversation.id)
        dropped = self._drop(moved)
        if dropped is not None:
            first_changed = dropped if first_changed is None else min(first_changed, dropped)
        appended = [c for c in fresh if c.id not in self._ids]
        if first_changed is None:
            first_changed = len(self._rows)
        self._rows.extend(appended)
        self._track(appended)
        return first_changed

    def add_newer(self, conversations: Iterable[Conversation]) -> None:
        """Newer rows go to the top, newest first; a row seen before moves up."""
        fresh = sorted(_unique_last(conversations), key=_last_activity, reverse=True)
        self._drop({c.id for c in fresh} & self._ids)
        self._rows[:0] = fresh
        self._track(fresh)

    def replace(self, conversation: Conversation) -> None:
        """Updates a row in place (a new unread state); unknown ids are ignored."""
        index = self.index_of(conversation.id)
        if index is None:
            return
        self._unread += int(conversation.unread) - int(self._rows[index].unread)
        self._rows[index] = conversation

    def remove(self, conversation_id: str) -> tuple[int, Conversation] | None:
        """Takes a row out; returns where it was, so it can be put back."""
        index = self.index_of(conversation_id)
        if index is None:
            return None
        row = self._rows.pop(index)
        self._ids.discard(row.id)
        self._unread -= int(row.unread)
        return index, row

    def restore(self, index: int, conversation: Conversation) -> int:
        """Puts a removed row back near where it was; returns its index."""
        if conversation.id in self._ids:
            return self.index_of(conversation.id) or 0
        index = max(0, min(index, len(self._rows)))
        self._rows.insert(index, conversation)
        self._track([conversation])
        return index

    def clear(self) -> None:
        """Forgets every row (an account's inbox, closed, lets its rows go)."""
        self._rows = []
        self._ids = set()
        self._unread = 0

    def _drop(self, ids: set[str]) -> int | None:
        """Takes these rows out; returns the index of the first one, None if none was here."""
        if not ids:
            return None
        first: int | None = None
        kept: list[Conversation] = []
        for index, row in enumerate(self._rows):
            if row.id in ids:
                self._unread -= int(row.unread)
                first = index if first is None else first
            else:
                kept.append(row)
        self._rows = kept
        self._ids -= ids
        return first

    def _track(self, rows: list[Conversation]) -> None:
        for row in rows:
            self._ids.add(row.id)
            self._unread += int(row.unread)


def _same_last_status(a: Conversation, b: Conversation) -> bool:
    return (a.last_status.id if a.last_status else None) == (
        b.last_status.id if b.last_status else None
    )


def _unique_last(conversations: Iterable[Conversation]) -> list[Conversation]:
    """Each id once, in first-seen order, holding the last version seen."""
    latest: dict[str, Conversation] = {}
    for conversation in conversations:
        latest[conversation.id] = conversation
    return list(latest.values())
