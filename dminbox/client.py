"""The Mastodon API client: one httpx.AsyncClient, typed results, one-line errors.

The client never builds a pagination cursor: a page carries the `next` and
`prev` URLs the server sent in its `Link` header, and the caller follows them.
Every request goes through dminbox/http.py, which bounds the answer's size
and the time it may take, and maps failures to the errors of dminbox/errors.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import quote

import httpx

from dminbox.errors import ApiError, NotFoundError, ServerError
from dminbox.http import (
    DEADLINE,
    MAX_BYTES,
    READ_TIMEOUT,
    Reply,
    build_client,
    error_for,
    fetch,
    pin_to_origin,
    pinned_links,
)
from dminbox.models import Account, Context, Conversation, Status
from dminbox.page import PAGE_SIZE, Page
from dminbox.text import one_line

__all__ = ["MastodonClient"]

READ = "read:statuses"
WRITE_CONVERSATIONS = "write:conversations"
"""The narrow scopes each call needs; a 403 names the one that is missing."""


class _Validated(Protocol):
    @classmethod
    def model_validate(cls, data: Any) -> Self: ...


T = TypeVar("T", bound=_Validated)


@dataclass
class MastodonClient:
    """Speaks to one Mastodon-compatible server on behalf of one token."""

    instance: str
    """The server's origin, e.g. `https://mastodon.social`."""
    token: str = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    timeout: float = READ_TIMEOUT
    """Seconds httpx waits for each read."""
    max_bytes: int = MAX_BYTES
    """The largest answer read, counted after decompression; a larger one is a ServerError."""
    deadline: float = DEADLINE
    """Seconds one request may take in all, body included; a slower one is a ServerError."""

    def __post_init__(self) -> None:
        self.instance = self.instance.rstrip("/")
        self._origin = httpx.URL(self.instance)
        self._http = build_client(
            base_url=self.instance,
            transport=self.transport,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The one httpx client (the stream's WebSocket rides on its transport)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> MastodonClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- endpoints -----------------------------------------------------

    async def verify_credentials(self) -> Account:
        reply = await self._request(
            "GET", "/api/v1/accounts/verify_credentials", scope="read:accounts"
        )
        return _parse(Account, _json(reply), reply.host)

    async def conversations(self, url: str | None = None, *, limit: int = PAGE_SIZE) -> Page:
        """The first page of the inbox, or the page at `url` (a Link URL from an earlier page)."""
        if url is None:
            reply = await self._request(
                "GET", "/api/v1/conversations", params={"limit": max(1, limit)}, scope=READ
            )
        else:
            reply = await self._request("GET", self._same_origin(url), scope=READ)
        rows = _json(reply)
        if not isinstance(rows, list):
            raise ServerError(f"{reply.host} sent something that is not a list of conversations.")
        conversations: list[Conversation] = []
        raw: list[dict[str, Any]] = []
        for row in rows:
            try:
                conversations.append(Conversation.model_validate(row))
            except ValueError:  # pydantic's ValidationError is one
                continue
            raw.append(row)
        links = pinned_links(reply, self._origin)
        return Page(
            conversations=conversations,
            next_url=links.get("next"),
            prev_url=links.get("prev"),
            skipped=len(rows) - len(conversations),
            raw=raw,
        )

    async def mark_read(self, conversation_id: str) -> Conversation:
        path = f"/api/v1/conversations/{_seg(conversation_id)}/read"
        reply = await self._request("POST", path, scope=WRITE_CONVERSATIONS)
        return _parse(Conversation, _json(reply), reply.host)

    async def mark_unread(self, conversation_id: str) -> Conversation:
        """Mastodon 4.2+; GoToSocial and older Mastodons answer 404 or 405."""
        path = f"/api/v1/conversations/{_seg(conversation_id)}/unread"
        reply = await self._request("POST", path, scope=WRITE_CONVERSATIONS)
        return _parse(Conversation, _json(reply), reply.host)

    async def remove(self, conversation_id: str) -> None:
        await self._request(
            "DELETE", f"/api/v1/conversations/{_seg(conversation_id)}", scope=WRITE_CONVERSATIONS
        )

    async def context(self, status_id: str) -> Context:
        return _parse(Context, await self.context_raw(status_id), self._host)

    async def context_raw(self, status_id: str) -> dict[str, Any]:
        """The context as the server sent it, for storing; `context()` parses it."""
        reply = await self._request(
            "GET", f"/api/v1/statuses/{_seg(status_id)}/context", scope=READ
        )
        data = _json(reply)
        if not isinstance(data, dict):
            raise ServerError(f"{reply.host} sent a context dminbox cannot read.")
        return data

    async def post_status(
        self,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        spoiler_text: str = "",
        idempotency_key: str | None = None,
    ) -> Status:
        """Posts a direct status. Retrying with the same key never posts twice."""
        raw = await self.post_status_raw(
            text,
            in_reply_to_id=in_reply_to_id,
            spoiler_text=spoiler_text,
            idempotency_key=idempotency_key,
        )
        return _parse(Status, raw, self._host)

    async def post_status_raw(
        self,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        spoiler_text: str = "",
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """`post_status`, returning the status as the server sent it (checked to parse)."""
        data = {"status": text, "visibility": "direct"}
        if in_reply_to_id:
            data["in_reply_to_id"] = in_reply_to_id
        if spoiler_text:
            data["spoiler_text"] = spoiler_text
        reply = await self._request(
            "POST",
            "/api/v1/statuses",
            data=data,
            headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex},
            scope="write:statuses",
        )
        raw = _json(reply)
        _parse(Status, raw, reply.host)
        if not isinstance(raw, dict):  # pragma: no cover - _parse refuses it first
            raise ServerError(f"{reply.host} sent a status dminbox cannot read.")
        return raw

    async def instance_info(self) -> dict[str, Any]:
        """`/api/v2/instance`, or `/api/v1/instance` on a server without it (Mastodon < 4)."""
        try:
            reply = await self._request("GET", "/api/v2/instance")
        except NotFoundError:
            reply = await self._request("GET", "/api/v1/instance")
        data = _json(reply)
        if not isinstance(data, dict):
            raise ServerError(f"{reply.host} sent an instance dminbox cannot read.")
        return data

    async def lookup_account(self, acct: str) -> Account | None:
        """The account with this acct (`user` or `user@domain`), or None when the server
        does not know it: looked up, then searched with `resolve` (a remote account the
        server has not seen yet must be fetched first)."""
        acct = acct.strip().lstrip("@")
        try:
            reply = await self._request(
                "GET", "/api/v1/accounts/lookup", params={"acct": acct}, scope="read:accounts"
            )
            return _parse(Account, _json(reply), reply.host)
        except NotFoundError:
            pass
        reply = await self._request(
            "GET",
            "/api/v2/search",
            params={"q": acct, "type": "accounts", "resolve": "true", "limit": 5},
            scope="read:search",
        )
        data = _json(reply)
        found = data.get("accounts") if isinstance(data, dict) else None
        wanted = acct.lower()
        local = wanted.split("@", 1)[0] if wanted.endswith("@" + self._host.lower()) else None
        for row in found if isinstance(found, list) else []:
            try:
                account = Account.model_validate(row)
            except ValueError:
                continue
            if account.acct.lower() in (wanted, local):
                return account
        return None

    # -- plumbing ------------------------------------------------------

    def _same_origin(self, url: str) -> str:
        """A URL to follow (from a Link header or the cache), pinned to the instance's origin."""
        pinned = pin_to_origin(url, self._origin)
        if pinned is None:
            raise ApiError(f"A link from {self._host} cannot be followed: {one_line(url, 80)}")
        return pinned

    @property
    def _host(self) -> str:
        return self._origin.netloc.decode("ascii", "replace")

    async def _request(self, method: str, url: str, *, scope: str = "", **kwargs: Any) -> Reply:
        reply = await fetch(
            self._http, method, url, max_bytes=self.max_bytes, deadline=self.deadline, **kwargs
        )
        if reply.is_success:
            return reply
        raise error_for(reply, scope)


def _seg(value: str) -> str:
    """An id as one safe path segment: ids are opaque strings from the server."""
    return quote(value, safe="")


def _json(reply: Reply) -> Any:
    try:
        return reply.json()
    except ValueError as error:
        raise ServerError(
            f"{reply.host} sent a reply that is not JSON (HTTP {reply.status_code})."
        ) from error


def _parse(model: type[T], data: Any, host: str) -> T:
    try:
        return model.model_validate(data)
    except ValueError as error:  # pydantic's ValidationError is one
        name = model.__name__.lower()
        raise ServerError(f"{host} sent a {name} dminbox cannot read.") from error
