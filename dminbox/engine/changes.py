"""What the engine tells its observer: each a small frozen record of one change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dminbox.models import Conversation, Status

__all__ = [
    "Arrived",
    "Change",
    "Notice",
    "PendingMessage",
    "RowChanged",
    "RowGone",
    "RowsChanged",
    "SendRefused",
    "Sent",
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
class PendingMessage:
    """A message the user sent that the server has not confirmed yet, as the thread shows it."""

    status: Status
    """A local copy (its id is not the server's): who, when, what."""
    waiting: str = ""
    """Why it has not gone yet ("" while it is being sent)."""


@dataclass(frozen=True)
class ThreadChanged:
    """The open conversation's messages, from the cache or freshly from the server, and
    the user's messages to it still on their way."""

    conversation: Conversation
    statuses: list[Status]
    note: str = ""
    pending: tuple[PendingMessage, ...] = ()


@dataclass(frozen=True)
class Sent:
    """The server posted a message: `status` is its answer. `conversation_id` is the
    conversation it is in, once known (a new message's is known after a refresh)."""

    draft_key: str
    status: Status
    conversation_id: str | None


@dataclass(frozen=True)
class SendRefused:
    """The server refused a message for good: its text is back in its draft."""

    draft_key: str
    reason: str


@dataclass(frozen=True)
class Arrived:
    """A new message from someone else came in by itself (the stream, or a poll): worth
    a toast, and the bell or a terminal notification if the user wants them."""

    conversation: Conversation


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


Change = (
    RowsChanged
    | RowChanged
    | RowGone
    | StateChanged
    | ThreadChanged
    | Notice
    | TokenRefused
    | Sent
    | SendRefused
    | Arrived
)
