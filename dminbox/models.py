"""The Mastodon entities dminbox reads, as frozen dataclasses.

Two ways in, and neither costs more than it must:

- From the network: `Conversation.model_validate(data)` validates with
  pydantic (imported on first use, so start-up never pays for it). Servers add
  fields over time: unknown fields are ignored, and every field a real server
  may leave out or send as null has a default.
- From the cache: `Conversation.from_stored(data)` builds the entity from JSON
  that was validated before it was stored, without pydantic. A row that no
  longer fits (a damaged file) raises `ValueError` and is left out.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

__all__ = ["Account", "Context", "Conversation", "MediaAttachment", "Mention", "Status"]


_ADAPTERS: dict[type, Any] = {}


def _adapter(cls: type) -> Any:
    """The pydantic validator of an entity class, built once, on first use."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        import pydantic

        adapter = _ADAPTERS[cls] = pydantic.TypeAdapter(cls)
    return adapter


class Entity:
    """What every entity can do: validate, copy with changes, dump as JSON data."""

    __slots__ = ()

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """Validates untrusted data; raises `pydantic.ValidationError` (a ValueError)."""
        result: Self = _adapter(cls).validate_python(data)
        return result

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Self:
        result: Self = _adapter(cls).validate_json(text)
        return result

    def model_copy(self, *, update: dict[str, Any]) -> Self:
        return dataclasses.replace(self, **update)  # type: ignore[type-var]

    def model_dump(self) -> dict[str, Any]:
        """The entity as JSON data (datetimes as ISO 8601 strings)."""
        result: dict[str, Any] = _adapter(type(self)).dump_python(self, mode="json")
        return result

    def model_dump_json(self) -> str:
        return bytes(_adapter(type(self)).dump_json(self)).decode("utf-8")


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _stored(build: Any) -> Any:
    """Turns what a row that no longer fits raises into `ValueError`."""

    @functools.wraps(build)
    def guarded(cls: type, data: dict[str, Any]) -> Any:
        try:
            return build(cls, data)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"a stored {cls.__name__} no longer fits: {error!r}") from error

    return guarded


def _moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a date")
    return datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
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

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Account:
        return cls(
            id=str(data["id"]),
            username=_text(data, "username"),
            acct=_text(data, "acct"),
            display_name=_text(data, "display_name"),
            url=_optional_text(data, "url"),
            bot=data.get("bot") is True,
        )


@dataclass(frozen=True, slots=True)
class Mention(Entity):
    id: str
    username: str = ""
    acct: str = ""
    url: str | None = None

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Mention:
        return cls(
            id=str(data["id"]),
            username=_text(data, "username"),
            acct=_text(data, "acct"),
            url=_optional_text(data, "url"),
        )


@dataclass(frozen=True, slots=True)
class MediaAttachment(Entity):
    id: str
    type: str = "unknown"
    url: str | None = None
    remote_url: str | None = None
    preview_url: str | None = None
    description: str | None = None

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> MediaAttachment:
        return cls(
            id=str(data["id"]),
            type=_text(data, "type") or "unknown",
            url=_optional_text(data, "url"),
            remote_url=_optional_text(data, "remote_url"),
            preview_url=_optional_text(data, "preview_url"),
            description=_optional_text(data, "description"),
        )


@dataclass(frozen=True, slots=True)
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
    mentions: list[Mention] = field(default_factory=list)
    media_attachments: list[MediaAttachment] = field(default_factory=list)
    edited_at: datetime | None = None

    @classmethod
    @_stored
    def from_stored(cls, data: dict[str, Any]) -> Status:
        edited = data.get("edited_at")
        return cls(
            id=str(data["id"]),
            created_at=_moment(data.get("created_at")),
            account=Account.from_stored(data["account"]),
            content=_text(data, "content"),
            spoiler_text=_text(data, "spoiler_text"),
            sensitive=data.get("sensitive") is True,
            visibility=_text(data, "visibility") or "direct",
            in_reply_to_id=_optional_text(data, "in_reply_to_id"),
            in_reply_to_account_id=_optional_text(data, "in_reply_to_account_id"),
            url=_optional_text(data, "url"),
            uri=_optional_text(data, "uri"),
            mentions=[Mention.from_stored(m) for m in data.get("mentions") or ()],
            media_attachments=[
                MediaAttachment.from_stored(m) for m in data.get("media_attachments") or ()
            ],
            edited_at=_moment(edited) if edited is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Conversation(Entity):
    id: str
    unread: bool = False
    accounts: list[Account] = field(default_factory=list)
    last_status: Status | None = None

    @classmethod
    @_stored
    def from_stored(cls, data: dict[str, Any]) -> Conversation:
        """From JSON validated before it was stored; `ValueError` if it no longer fits."""
        status = data.get("last_status")
        return cls(
            id=str(data["id"]),
            unread=data.get("unread") is True,
            accounts=[Account.from_stored(a) for a in data.get("accounts") or ()],
            last_status=Status.from_stored(status) if status is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Context(Entity):
    ancestors: list[Status] = field(default_factory=list)
    descendants: list[Status] = field(default_factory=list)
