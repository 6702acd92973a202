"""Pydantic models for the Mastodon entities dminbox reads.

Servers add fields over time: unknown fields are accepted and ignored, and
every field a real server may leave out or send as null has a default.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Entity(BaseModel):
    """Base of every entity: tolerant of extra fields, immutable once parsed."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(Entity):
    id: str
    username: str = ""
    acct: str = ""
    display_name: str = ""
    url: str | None = None
    bot: bool = False

    @property
    def label(self) -> str:
        """The display name, or the acct when the name is empty."""
        return self.display_name.strip() or self.acct or self.username or self.id


class Mention(Entity):
    id: str
    username: str = ""
    acct: str = ""
    url: str | None = None


class MediaAttachment(Entity):
    id: str
    type: str = "unknown"
    url: str | None = None
    remote_url: str | None = None
    preview_url: str | None = None
    description: str | None = None


class Status(Entity):
    id: str
    created_at: datetime
    account: Account
    content: str = ""
    spoiler_text: str = ""
    sensitive: bool = False
    visibility: str = "direct"
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    url: str | None = None
    uri: str | None = None
    mentions: list[Mention] = Field(default_factory=list)
    media_attachments: list[MediaAttachment] = Field(default_factory=list)
    edited_at: datetime | None = None


class Conversation(Entity):
    id: str
    unread: bool = False
    accounts: list[Account] = Field(default_factory=list)
    last_status: Status | None = None


class Context(Entity):
    ancestors: list[Status] = Field(default_factory=list)
    descendants: list[Status] = Field(default_factory=list)
