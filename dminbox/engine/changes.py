"""What the engine tells its observer: each a small frozen record of one change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dminbox.models import Conversation, Status

__all__ = [
    "Change",
    "Notice",
    "RowChanged",
    "RowGone",
    "RowsChanged",
    "StateChanged",
    "ThreadChanged",
    "TokenRefused",
]


@dataclass(frozen=True)
class RowsChanged:
    """Rows were added, removed or moved; `first_changed` is the first index that differs."""

    first_changed: int = 0


@dataclass(frozen=True)
class RowChanged:
    """One row changed in place (its unread state, or its pending mark)."""

    conversation_id: str


@dataclass(frozen=True)
class RowGone:
    """A row left the list for good (removed, or deleted elsewhere)."""

    conversation_id: str


@dataclass(frozen=True)
class StateChanged:
    """Something the title or the status line says changed: counts, health, paging."""


@dataclass(frozen=True)
class ThreadChanged:
    """The open conversation's messages, from the cache or freshly from the server."""

    conversation: Conversation
    statuses: list[Status]
    note: str = ""


@dataclass(frozen=True)
class Notice:
    """A one-line message worth a toast (an action refused, a damaged cache rebuilt)."""

    text: str
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float = 6.0


@dataclass(frozen=True)
class TokenRefused:
    """The server refused the token (401): told once; queued actions stay queued."""

    reason: str


Change = RowsChanged | RowChanged | RowGone | StateChanged | ThreadChanged | Notice | TokenRefused
