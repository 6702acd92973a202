"""A page of conversations as the client hands it over: plain data, no HTTP, no pydantic.

It lives apart from the client so that the inbox, the session and the first
paint from the cache can use it without importing httpx.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dminbox.models import Conversation

__all__ = ["PAGE_SIZE", "Page"]

PAGE_SIZE = 40
"""Rows asked for per page: Mastodon's maximum (GoToSocial allows 80)."""


@dataclass(frozen=True)
class Page:
    """One page of conversations and the links the server gave with it."""

    conversations: list[Conversation]
    next_url: str | None = None
    prev_url: str | None = None
    skipped: int = 0
    """Rows the server sent that were not valid conversations (left out)."""
    raw: list[dict[str, Any]] = field(default_factory=list)
    """The valid rows as the server sent them, in the same order as `conversations`."""

    @property
    def is_last(self) -> bool:
        """True when nothing older can follow: no `next` link, or an empty page."""
        return self.next_url is None or not self.conversations
