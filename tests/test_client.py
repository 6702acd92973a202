"""The client: Link headers, origin pinning, error mapping, tolerant parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from dminbox.client import MastodonClient
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

INSTANCE = "https://social.example"


def _row(n: int) -> dict:
    return {"id": str(n), "unread": False, "accounts": [], "last_status": None}


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> MastodonClient:
    return MastodonClient(INSTANCE, "secret", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("link", "next_url", "prev_url"),
    [
        (
            '<https://social.example/api/v1/conversations?max_id=9>; rel="next", '
            '<https://social.example/api/v1/conversations?min_id=12>; rel="prev"',
            "https://social.example/api/v1/conversations?max_id=9",
            "https://social.example/api/v1/conversations?min_id=12",
        ),
        (
            '</api/v1/conversations?max_id=9&limit=40>; rel="next"',
            "https://social.example/api/v1/conversations?max_id=9&limit=40",
            None,
        ),
        (
            "<https://social.example/api/v1/conversations?max_id=9>; rel=next",
            "https://social.example/api/v1/conversations?max_id=9",
            None,
        ),
        (
            '<https://social.example/api/v1/conversations?min_id=12>; rel="prev"',
            None,
            "https://social.example/api/v1/conversations?min_id=12",
        ),
        (None, None, None),
        (
            "<https://social.example/api/v1/conversations?max_id=01HZY0ABCDEFGHJKMNPQRSTVWX>;"
            ' rel="next"',
            "https://social.example/api/v1/conversations?max_id=01HZY0ABCDEFGHJKMNPQRSTVWX",
            None,
        ),
    ],
    ids=["both", "relative", "unquoted-rel", "prev-only", "none", "ulid"],
)
async def test_page_links_come_from_the_link_header(
    link: str | None, next_url: str | None, prev_url: str | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Link": link} if link else {}
        return httpx.Response(200, json=[_row(1), _row(2)], headers=headers)

    async with _client(handler) as client:
        page = await client.conversations()
    assert [c.id for c in page.conversations] == ["1", "2"]
    assert page.next_url == next_url
    assert page.prev_url == prev_url
    assert page.is_last == (next_url is None)


async def test_following_a_link_uses_it_verbatim_and_adds_no_cursor() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=[])

    url = "https://social.example/api/v1/conversations?limit=100&max_id=1088"
    async with _client(handler) as client:
        page = await client.conversations(url)
    assert str(seen[0]) == url
    assert page.is_last, "an empty page ends the list"


async def test_first_page_asks_without_a_trailing_slash_and_for_forty_rows() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    async with _client(handler) as client:
        await client.conversations()
    assert seen[0].url.path == "/api/v1/conversations"
    assert seen[0].url.params["limit"] == "40"
    assert seen[0].headers["Authorization"] == "Bearer secret"


async def test_a_link_to_another_origin_is_pinned_to_the_instance() -> None:
    """A proxy may name another host in its links; the token must not go there."""
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=[])

    async with _client(handler) as client:
        await client.conversations("http://internal:3000/api/v1/conversations?max_id=5")
    assert seen[0].host == "social.example"
    assert seen[0].scheme == "https"
    assert seen[0].params["max_id"] == "5"


async def test_rows_that_are_not_conversations_are_skipped_not_fatal() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[_row(1), {"nonsense": True}, "text", _row(2)])

    async with _client(handler) as client:
        page = await client.conversations()
    assert [c.id for c in page.conversations] == ["1", "2"]
    assert page.skipped == 2


async def test_ids_are_quoted_into_the_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with _client(handler) as client:
        await client.remove("a/../b?x")
    assert seen[0].url.raw_path == b"/api/v1/conversations/a%2F..%2Fb%3Fx"
    assert seen[0].method == "DELETE"


def _error(status: int, body: object = None, **headers: str) -> Callable:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(
                status, text=body, headers={"content-type": "text/html", **headers}
            )
        return httpx.Response(status, json=body, headers=headers)

    return handler


@pytest.mark.parametrize(
    ("handler", "kind", "words"),
    [
        (_error(401, {"error": "The access token was revoked"}), AuthenticationError, "revoked"),
        (
            _error(403, {"error": "This action is outside the authorized scopes"}),
            MissingScopeError,
            "permission",
        ),
        (_error(404, {"error": "Record not found"}), NotFoundError, "Record not found"),
        (
            _error(422, {"error": "Validation failed: Text can't be blank"}),
            ValidationError,
            "Text can't be blank",
        ),
        (_error(500, {"error": "boom"}), ServerError, "HTTP 500"),
        (
            _error(503, {"error": "There was a temporary problem"}),
            ServerError,
            "temporary problem",
        ),
        (_error(502, "<html><body><h1>502 Bad Gateway</h1>\n</body></html>"), ServerError, "502"),
        (_error(200, "not json at all"), ServerError, "not JSON"),
        (_error(200, {"not": "a list"}), ServerError, "not a list"),
    ],
    ids=["401", "403", "404", "422", "500", "503", "html-502", "non-json", "wrong-shape"],
)
async def test_errors_map_to_one_line_messages(handler, kind, words) -> None:
    async with _client(handler) as client:
        with pytest.raises(kind) as raised:
            await client.conversations()
    message = str(raised.value)
    assert words in message
    assert "\n" not in message
    assert "<html" not in message


async def test_rate_limit_carries_the_reset_time() -> None:
    handler = _error(
        429,
        {"error": "Too many requests"},
        **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-01-01T00:05:00.000000Z"},
    )
    async with _client(handler) as client:
        with pytest.raises(RateLimitedError) as raised:
            await client.mark_read("1")
    assert raised.value.reset_at == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    local = raised.value.reset_at.astimezone().strftime("%H:%M:%S")
    assert local in str(raised.value)


@pytest.mark.parametrize(
    "exception",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("drop")],
)
async def test_transport_failures_become_network_errors(exception: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception

    async with _client(handler) as client:
        with pytest.raises(NetworkError) as raised:
            await client.context("1")
    assert "social.example" in str(raised.value)
    assert isinstance(raised.value, ApiError)


async def test_post_status_sends_an_idempotency_key_and_direct_visibility() -> None:
    seen: list[httpx.Request] = []
    status = {
        "id": "7",
        "created_at": "2026-01-01T00:00:00.000Z",
        "account": {"id": "1", "acct": "me"},
        "content": "<p>hi</p>",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps(status))

    async with _client(handler) as client:
        posted = await client.post_status("@a hi", idempotency_key="k1")
    assert posted.id == "7"
    assert seen[0].headers["Idempotency-Key"] == "k1"
    assert b"visibility=direct" in seen[0].content


async def test_a_missing_scope_is_named() -> None:
    handler = _error(403, {"error": "This action is outside the authorized scopes"})
    async with _client(handler) as client:
        with pytest.raises(MissingScopeError) as raised:
            await client.remove("1")
    assert "write:conversations" in str(raised.value)
    async with _client(handler) as client:
        with pytest.raises(MissingScopeError) as raised:
            await client.conversations()
    assert "read:statuses" in str(raised.value)
