"""Rows judged against what the server sent: which moved, which are gone elsewhere.

Pure functions over the loaded rows (`Inbox`) and the rows a refresh just read.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from dminbox.inbox import Inbox
from dminbox.models import Conversation

__all__ = ["activity", "gone", "last_id", "top", "with_unread"]


_OLDEST = datetime.min.replace(tzinfo=UTC)


def top(inbox: Inbox, count: int) -> list[tuple[str, str | None, bool]]:
    """What the first `count` rows show: who, which last message, read or not."""
    return [(c.id, last_id(c), c.unread) for c in itertools.islice(inbox, count)]


def last_id(conversation: Conversation) -> str | None:
    return conversation.last_status.id if conversation.last_status else None


def activity(conversation: Conversation) -> datetime:
    status = conversation.last_status
    return status.created_at if status is not None else _OLDEST


def with_unread(conversation: Conversation, unread: bool) -> Conversation:
    return conversation.model_copy(update={"unread": unread})


def gone(inbox: Inbox, rows: list[Conversation], *, complete: bool) -> list[str]:
    """Loaded rows the server no longer has: those dated within what `rows` (the newest,
    just read) cover, yet absent from them. With `complete`, `rows` are the whole inbox.
    Rows without a date are never judged."""
    seen = {c.id for c in rows}
    dated = [c.last_status.created_at for c in rows if c.last_status is not None]
    if not dated and not complete:
        return []
    oldest = _OLDEST if complete else min(dated)
    return [
        c.id
        for c in inbox
        if c.id not in seen and c.last_status is not None and c.last_status.created_at >= oldest
    ]
