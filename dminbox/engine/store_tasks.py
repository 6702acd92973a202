"""The engine's store work: each function runs whole on the store's own thread.

One call is one hop off the event loop, so the screen never waits on the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dminbox.engine import reconcile
from dminbox.engine.triage import load_local_unread
from dminbox.models import Conversation, Status

if TYPE_CHECKING:
    from dminbox.page import Page
    from dminbox.store import Cache

__all__ = [
    "Start",
    "cached_thread",
    "counts",
    "delete_conversations",
    "read_start",
    "store_page",
    "store_thread",
]

FIRST_BATCH = 80
"""Conversations read for the first screen: two screenfuls of the tallest common terminal."""


@dataclass
class Start:
    """What the first screen needs from the cache, read in one hop to the store's thread."""

    rows: list[Conversation]
    paging: Any
    pending_reads: set[str]
    pending: int
    unread: int
    open_row: Conversation | None
    open_thread: list[Status]
    sends: list[Any]
    """Messages queued by an earlier run (or this one), still on their way."""
    local_unread: set[str]
    """Conversations marked unread in this cache only (a server without `/unread`)."""


def read_start(store: Cache) -> Start:
    rows = store.conversations(limit=FIRST_BATCH)
    queued = store.queued()
    last_open = store.get("last_open")
    open_row = store.conversation(last_open) if last_open else None
    return Start(
        rows=rows,
        paging=store.paging(),
        pending_reads={a.conversation_id for a in queued if a.action == "read"},
        pending=len(queued),
        unread=store.unread_count(),
        open_row=open_row,
        open_thread=cached_thread(store, open_row) if open_row else [],
        sends=[a for a in queued if a.action == "send"],
        local_unread=load_local_unread(store),
    )


def store_page(
    store: Cache,
    page: Page,
    page_url: str | None,
    removed: set[str],
    older: bool,
    local_unread: frozenset[str] = frozenset(),
) -> tuple[Page, int]:
    """Stores a page, minding the outbox: a queued removal hides its row, a read stays
    read, an unread mark (queued, or kept locally) stays unread."""
    queued = store.queued()
    removing = {a.conversation_id for a in queued if a.action == "remove"} | removed
    reading = {a.conversation_id for a in queued if a.action == "read"}
    unreading = {a.conversation_id for a in queued if a.action == "unread"} | local_unread
    keep: list[Conversation] = []
    raw: list[dict[str, Any]] = []
    for conversation, row in zip(page.conversations, page.raw, strict=True):
        if conversation.id in removing:
            continue
        if conversation.id in reading and conversation.unread:
            conversation = reconcile.with_unread(conversation, False)
            row = {**row, "unread": False}
        elif conversation.id in unreading and not conversation.unread:
            conversation = reconcile.with_unread(conversation, True)
            row = {**row, "unread": True}
        keep.append(conversation)
        raw.append(row)
    store.put_conversations(raw, page_url=page_url)
    if older:
        store.page_read(page_url)
    return replace(page, conversations=keep, raw=raw), store.unread_count()


def store_thread(store: Cache, conversation: Conversation, context: dict[str, Any]) -> list[Status]:
    raw = [*(context.get("ancestors") or []), *(context.get("descendants") or [])]
    valid = [s for s in raw if isinstance(s, dict) and "id" in s]
    store.put_thread(conversation.id, valid)
    return cached_thread(store, conversation)


def cached_thread(store: Cache, conversation: Conversation) -> list[Status]:
    statuses = store.thread(conversation.id)
    if not statuses and conversation.last_status is not None:
        return [conversation.last_status]
    return statuses


def delete_conversations(store: Cache, ids: list[str]) -> None:
    for conversation_id in ids:
        store.delete_conversation(conversation_id)


def counts(store: Cache) -> tuple[int, int]:
    return len(store.queued()), store.unread_count()
