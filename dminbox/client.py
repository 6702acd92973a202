"""The Mastodon API client: one httpx.AsyncClient, typed results, one-line errors.

The client never builds a pagination cursor: a page carries the `next` and
`prev` URLs the server sent in its `Link` header, and the caller follows them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx
import pydantic

from dminbox import __version__
from dminbox.errors import (
    ApiError,
    AuthenticationError,
    MissingScopeError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from dminbox.models import Account, Context, Conversation, Status
from dminbox.page import PAGE_SIZE, Page

__all__ = ["MastodonClient", "Page", "PAGE_SIZE"]

READ = "read:statuses"
WRITE_CONVERSATIONS = "write:conversations"
"""The narrow scopes each call needs; a 403 names the one that is missing."""

T = TypeVar("T", bound=pydantic.BaseModel)


@dataclass
class MastodonClient:
    """Speaks to one Mastodon-compatible server on behalf of one token."""

    instance: str
    """The server's origin, e.g. `https://mastodon.social`."""
    token: str = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    timeout: float = 20.0

    def __post_init__(self) -> None:
        self.instance = self.instance.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.instance,
            transport=self.transport,
            timeout=httpx.Timeout(self.timeout, connect=10.0),
            follow_redirects=False,
            headers={
                "Authorization": f"Bearer {self.token}",
                "User-Agent": f"dminbox/{__version__}",
                "Accept": "application/json",
            },
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> MastodonClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- endpoints -----------------------------------------------------

    async def verify_credentials(self) -> Account:
        response = await self._request(
            "GET", "/api/v1/accounts/verify_credentials", scope="read:accounts"
        )
        return _parse(Account, _json(response))

    async def conversations(self, url: str | None = None, *, limit: int = PAGE_SIZE) -> Page:
        """The first page of the inbox, or the page at `url` (a Link URL from an earlier page)."""
        if url is None:
            response = await self._request(
                "GET", "/api/v1/conversations", params={"limit": max(1, limit)}, scope=READ
            )
        else:
            response = await self._request("GET", self._same_origin(url), scope=READ)
        rows = _json(response)
        if not isinstance(rows, list):
            raise ServerError("The server sent something that is not a list of conversations.")
        conversations: list[Conversation] = []
        raw: list[dict[str, Any]] = []
        for row in rows:
            try:
                conversations.append(Conversation.model_validate(row))
            except pydantic.ValidationError:
                continue
            raw.append(row)
        links = _links(response)
        return Page(
            conversations=conversations,
            next_url=links.get("next"),
            prev_url=links.get("prev"),
            skipped=len(rows) - len(conversations),
            raw=raw,
        )

    async def mark_read(self, conversation_id: str) -> Conversation:
        path = f"/api/v1/conversations/{_seg(conversation_id)}/read"
        response = await self._request("POST", path, scope=WRITE_CONVERSATIONS)
        return _parse(Conversation, _json(response))

    async def remove(self, conversation_id: str) -> None:
        await self._request(
            "DELETE", f"/api/v1/conversations/{_seg(conversation_id)}", scope=WRITE_CONVERSATIONS
        )

    async def context(self, status_id: str) -> Context:
        return _parse(Context, await self.context_raw(status_id))

    async def context_raw(self, status_id: str) -> dict[str, Any]:
        """The context as the server sent it, for storing; `context()` parses it."""
        response = await self._request(
            "GET", f"/api/v1/statuses/{_seg(status_id)}/context", scope=READ
        )
        data = _json(response)
        if not isinstance(data, dict):
            raise ServerError("The server sent a context dminbox cannot read.")
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
        data = {"status": text, "visibility": "direct"}
        if in_reply_to_id:
            data["in_reply_to_id"] = in_reply_to_id
        if spoiler_text:
            data["spoiler_text"] = spoiler_text
        response = await self._request(
            "POST",
            "/api/v1/statuses",
            data=data,
            headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex},
            scope="write:statuses",
        )
        return _parse(Status, _json(response))

    # -- plumbing ------------------------------------------------------

    def _same_origin(self, url: str) -> str:
        """A Link URL resolved and pinned to the instance's origin.

        Proxies may name another host or port in their links; the token must
        never travel to any origin but the one the user chose.
        """
        absolute = urlsplit(urljoin(self.instance + "/", url))
        origin = urlsplit(self.instance)
        return urlunsplit((origin.scheme, origin.netloc, absolute.path, absolute.query, ""))

    async def _request(
        self, method: str, url: str, *, scope: str = "", **kwargs: Any
    ) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as error:
            raise NetworkError(f"{self._host} did not answer in time.") from error
        except httpx.TransportError as error:
            raise NetworkError(f"Cannot reach {self._host}: {_reason(error)}.") from error
        if response.is_success:
            return response
        raise _error_for(response, self._host, scope)

    @property
    def _host(self) -> str:
        return urlsplit(self.instance).netloc or self.instance


def _seg(value: str) -> str:
    """An id as one safe path segment: ids are opaque strings from the server."""
    return quote(value, safe="")


def _links(response: httpx.Response) -> dict[str, str]:
    """rel -> URL from the `Link` header, resolved against the request URL."""
    links: dict[str, str] = {}
    for key, link in response.links.items():
        url = link.get("url")
        if not url:
            continue
        for rel in str(key).lower().split():
            links.setdefault(rel, urljoin(str(response.request.url), url))
    return links


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        host = response.request.url.host
        raise ServerError(
            f"{host} sent a reply that is not JSON (HTTP {response.status_code})."
        ) from error


def _parse(model: type[T], data: Any) -> T:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        name = model.__name__.lower()
        raise ServerError(f"The server sent a {name} dminbox cannot read.") from error


def _reason(error: httpx.TransportError) -> str:
    name = {
        httpx.ConnectError: "connection refused or host not found",
        httpx.RemoteProtocolError: "the connection was dropped",
        httpx.ReadError: "the connection was dropped",
        httpx.WriteError: "the connection was dropped",
        httpx.ProxyError: "the proxy refused the connection",
    }
    for kind, text in name.items():
        if isinstance(error, kind):
            return text
    return "network error"


def _server_message(response: httpx.Response) -> str | None:
    """The `error` string of a Mastodon error body, if there is one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        message = body.get("error_description") or body.get("error")
        if isinstance(message, str) and message.strip():
            return message.strip()
    return None


def _reset_time(response: httpx.Response) -> datetime | None:
    value = response.headers.get("X-RateLimit-Reset", "")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_KINDS: dict[int, Callable[[str], ApiError]] = {
    404: NotFoundError,
    410: NotFoundError,
    422: ValidationError,
}


def _error_for(response: httpx.Response, host: str, scope: str = "") -> ApiError:
    status = response.status_code
    said = _server_message(response)
    if status == 401:
        return AuthenticationError(
            f"The token was refused ({said or 'invalid or revoked'}): log in again."
        )
    if status == 403:
        needs = f"the {scope} permission" if scope else "the permission for this"
        return MissingScopeError(
            f"The token lacks {needs} ({said or 'forbidden'}): "
            "log in again with dminbox login to grant it."
        )
    if status == 429:
        reset_at = _reset_time(response)
        when = f" until {reset_at.astimezone().strftime('%H:%M:%S')}" if reset_at else ""
        return RateLimitedError(f"Rate limited by {host}: wait{when}.", reset_at=reset_at)
    if status in _KINDS:
        return _KINDS[status](said or f"{host} answered HTTP {status}.")
    if status >= 500:
        kind = "" if said else " (an error page, not the API)"
        reason = f": {said}" if said else ""
        return ServerError(
            f"{host} had a problem, HTTP {status}{kind}{reason}.", status_code=status
        )
    if 300 <= status < 400:
        return ServerError(
            f"{host} redirected the request (HTTP {status}): check the instance URL.",
            status_code=status,
        )
    return ApiError(
        f"{host} refused the request, HTTP {status}: {said or 'no reason given'}.",
        status_code=status,
    )
