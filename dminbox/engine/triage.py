"""Triage: marking a conversation unread again, and finding the next unread one.

Mark unread goes through the outbox like mark read: `POST
/api/v1/conversations/:id/unread` on Mastodon 4.2+. GoToSocial has no such
endpoint (it answers 404 or 405): there the mark is a flag of the cache's
own, kept through refreshes, shown as local (`◇`), and cleared when the
conversation is opened. So is it on a Mastodon older than 4.2.

Functions here take the `Engine` and work on its state; the engine's methods
of the same names delegate to them.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from dminbox.engine import reconcile
from dminbox.engine.changes import Notice, RowChanged, StateChanged
from dminbox.errors import ApiError, AuthenticationError
from dminbox.text import one_line

if TYPE_CHECKING:
    from dminbox.engine.core import Engine
    from dminbox.store import Cache, QueuedAction

__all__ = ["LOCAL_UNREAD_KEY", "load_local_unread", "mark_unread", "next_unread", "send_unread"]

log = logging.getLogger(__name__)

LOCAL_UNREAD_KEY = "local_unread"
"""The cache's state key: the conversations marked unread here only (a JSON list)."""
UNREAD_SEARCH_PAGES = 10
"""`n` loads at most this many more pages looking for an unread conversation."""
NO_ENDPOINT = (404, 405)
"""What a server without `/unread` answers (GoToSocial, Mastodon before 4.2)."""


def load_local_unread(store: Cache) -> set[str]:
    """On the store's thread: the conversations marked unread locally."""
    raw = store.get(LOCAL_UNREAD_KEY)
    try:
        ids = json.loads(raw) if raw else []
    except ValueError:
        return set()
    return {str(i) for i in ids} if isinstance(ids, list) else set()


def _save_local_unread(store: Cache, ids: set[str], conversation_id: str, unread: bool) -> None:
    store.set(**{LOCAL_UNREAD_KEY: json.dumps(sorted(ids))})
    store.set_unread(conversation_id, unread)


async def mark_unread(engine: Engine, conversation_id: str) -> bool:
    """Shows the row unread at once; the mark is stored, then sent. False when there is
    no such row or it is unread already."""
    store = engine.store
    assert store is not None
    row = engine._row(conversation_id)
    if row is None or row.unread:
        return False
    engine.pending_reads.discard(conversation_id)
    engine.inbox.replace(reconcile.with_unread(row, True))
    engine._emit(RowChanged(conversation_id))
    try:
        await engine._db(store.enqueue, "unread", conversation_id)
    except Exception as error:
        log.warning("cannot queue an unread mark: %s", error)
        if (current := engine._row(conversation_id)) is not None:
            engine.inbox.replace(reconcile.with_unread(current, False))
        engine._emit(RowChanged(conversation_id))
        engine._emit(Notice(one_line(f"Could not save that in the cache ({error})."), "error"))
        return False
    await engine._count()
    engine._spawn(engine._send_outbox(), "send")
    return True


async def send_unread(engine: Engine, action: QueuedAction) -> bool:
    """Sends one queued unread mark; False when it stays queued for a later try. A
    server without the endpoint keeps it as a local mark instead."""
    store = engine.store
    assert store is not None
    conversation_id = action.conversation_id
    try:
        await engine.client.mark_unread(conversation_id)
    except ApiError as error:
        if error.transient or isinstance(error, AuthenticationError):
            await engine._db(store.failed, action.seq, str(error))
            engine._failed(error, "outbox")
            return False
        await engine._db(store.done, action.seq)
        if error.status_code in NO_ENDPOINT:
            engine.local_unread.add(conversation_id)
            ids = set(engine.local_unread)
            await engine._db(_save_local_unread, store, ids, conversation_id, True)
            engine._emit(RowChanged(conversation_id))
            engine._emit(
                Notice(f"{engine.host} cannot mark unread: kept as a mark of dminbox's own (◇).")
            )
            return True
        if (row := engine._row(conversation_id)) is not None:
            engine.inbox.replace(reconcile.with_unread(row, False))
        await engine._db(store.set_unread, conversation_id, False)
        engine._emit(RowChanged(conversation_id))
        engine._emit(Notice(one_line(f"Could not mark unread: {error}"), "error", 8))
        return True
    await engine._db(store.done, action.seq)
    engine._succeeded("outbox")
    return True


async def clear_local_unread(engine: Engine, conversation_id: str) -> None:
    """Opening a conversation clears its local unread mark."""
    store = engine.store
    if store is None or conversation_id not in engine.local_unread:
        return
    engine.local_unread.discard(conversation_id)
    await engine._db(_save_local_unread, store, set(engine.local_unread), conversation_id, False)
    if (row := engine._row(conversation_id)) is not None:
        engine.inbox.replace(reconcile.with_unread(row, False))
    engine._emit(RowChanged(conversation_id))
    await engine._count()
    engine._emit(StateChanged())


async def next_unread(engine: Engine, start: int, *, forward: bool = True) -> int | None:
    """The index of the next unread row after `start` (or before it, backwards),
    loading further pages when none is loaded below. None when there is none."""
    inbox = engine.inbox
    step = 1 if forward else -1
    index = start + step
    for _ in range(UNREAD_SEARCH_PAGES + 1):
        while 0 <= index < len(inbox):
            if inbox[index].unread:
                return index
            index += step
        if not forward or engine.paging == "end" or engine.paging == "failed":
            return None
        before = len(inbox)
        await engine._load_more()
        if len(inbox) == before:
            return None
    return None
