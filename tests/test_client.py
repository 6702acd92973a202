"""The client: Link headers, origin pinning, error mapping, tolerant parsing."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from dminbox.http import Reply, error_for, pinned_links, reset_time

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


async def test_links_in_a_page_are_pinned_to_the_instance() -> None:
    """Links naming another host, port or scheme are followed on the instance only."""
    link = (
        '<http://internal:3000/api/v1/conversations?max_id=5>; rel="next", '
        '<//elsewhere.example/api/v1/conversations?min_id=9#top>; rel="prev"'
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[_row(1)], headers={"Link": link})

    async with _client(handler) as client:
        page = await client.conversations()
    assert page.next_url == "https://social.example/api/v1/conversations?max_id=5"
    assert page.prev_url == "https://social.example/api/v1/conversations?min_id=9"


@pytest.mark.parametrize(
    "bad",
    [
        "http://[::1/api/v1/conversations?max_id=5",
        "mailto:someone@example.com",
        "javascript:alert(1)",
        "http://exa\x7fmple/",
    ],
)
async def test_a_link_that_cannot_be_parsed_drops_that_link_not_the_page(bad: str) -> None:
    link = (
        f'<{bad}>; rel="next", <https://social.example/api/v1/conversations?min_id=7>; rel="prev"'
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[_row(1), _row(2)], headers={"Link": link})

    async with _client(handler) as client:
        page = await client.conversations()
    assert [c.id for c in page.conversations] == ["1", "2"]
    assert page.next_url is None and page.is_last
    assert page.prev_url == "https://social.example/api/v1/conversations?min_id=7"


async def test_following_a_url_that_cannot_be_parsed_is_one_line_and_permanent() -> None:
    async with _client(_error(200, [])) as client:
        with pytest.raises(ApiError) as raised:
            await client.conversations("http://[::1/api/v1/conversations?max_id=5")
    assert not raised.value.transient
    assert str(raised.value).startswith("A link from social.example cannot be followed")


LINK_PIECES = st.sampled_from(
    [
        "<",
        ">",
        ";",
        ",",
        " ",
        '"',
        "'",
        "=",
        "rel=",
        'rel="next"',
        "rel=prev",
        "next",
        "http://",
        "https://",
        "//",
        "[::1",
        "[::1]",
        ":8080",
        ":99999",
        "social.example",
        "evil.example",
        "/api/v1/conversations",
        "?max_id=5",
        "&limit=40",
        "#x",
        "%",
        "%zz",
        "\\",
        "@",
        "javascript:",
        "..",
        "é",
        "\x00",
        "\t",
    ]
)
LINK_HEADERS = st.one_of(
    st.lists(LINK_PIECES, max_size=30).map("".join),
    st.text(st.characters(max_codepoint=0x2FF), max_size=80),
)


@settings(max_examples=400, deadline=None)
@given(header=LINK_HEADERS)
def test_any_link_header_never_raises_and_yields_only_same_origin_urls(header: str) -> None:
    origin = httpx.URL("https://social.example")
    request = httpx.Request("GET", "https://social.example/api/v1/conversations?limit=40")
    raw = header.encode("utf-8", "surrogateescape")
    response = httpx.Response(200, headers=[(b"Link", raw)], request=request)
    links = pinned_links(Reply(response, b"[]"), origin)
    for rel, url in links.items():
        assert rel and rel == rel.lower()
        parsed = httpx.URL(url)
        assert (parsed.scheme, parsed.host, parsed.port) == ("https", "social.example", None)
        assert not parsed.fragment


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


def _raising(error: type[httpx.TransportError], cause: BaseException | None = None) -> Callable:
    """A handler that fails as httpx does: the httpx error, chained to what the OS said."""

    def handler(request: httpx.Request) -> httpx.Response:
        if cause is None:
            raise error("failed", request=request)
        try:
            raise cause
        except BaseException as inner:
            raise error(str(cause), request=request) from inner

    return handler


def expired_certificate() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"
    )
    error.verify_message = "certificate has expired"
    error.verify_code = 10
    return error


def handshake_failure() -> ssl.SSLError:
    error = ssl.SSLError(1, "[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure")
    error.reason = "SSLV3_ALERT_HANDSHAKE_FAILURE"
    return error


HOST = "social.example"
TEMPORARY = "There was a temporary problem serving your request, please try again"
NGINX_502 = "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
CONTRACT = [
    (
        "401",
        _error(401, {"error": "The access token was revoked"}),
        AuthenticationError,
        False,
        "The token was refused (The access token was revoked): log in again.",
    ),
    (
        "403",
        _error(403, {"error": "This action is outside the authorized scopes"}),
        MissingScopeError,
        False,
        "The token lacks the read:statuses permission (This action is outside the authorized "
        "scopes): log in again with dminbox login to grant it.",
    ),
    ("404", _error(404, {"error": "Record not found"}), NotFoundError, False, "Record not found"),
    ("410", _error(410, "<html>Gone</html>"), NotFoundError, False, f"{HOST} answered HTTP 410."),
    (
        "422",
        _error(422, {"error": "Validation failed: Text can't be blank"}),
        ValidationError,
        False,
        "Validation failed: Text can't be blank",
    ),
    (
        "400",
        _error(400, {"error": "limit must be a number"}),
        ApiError,
        False,
        f"{HOST} refused the request, HTTP 400: limit must be a number.",
    ),
    (
        "301",
        _error(301, "<a href='/x'>moved</a>", location="/x"),
        ServerError,
        False,
        f"{HOST} redirected the request (HTTP 301): check the instance URL.",
    ),
    (
        "500",
        _error(500, {"error": "boom"}),
        ServerError,
        True,
        f"{HOST} had a problem, HTTP 500: boom.",
    ),
    (
        "502-html",
        _error(502, NGINX_502),
        ServerError,
        True,
        f"{HOST} had a problem, HTTP 502 (an error page, not the API).",
    ),
    (
        "503-json",
        _error(503, {"error": TEMPORARY}),
        ServerError,
        True,
        f"{HOST} had a problem, HTTP 503: {TEMPORARY}.",
    ),
    (
        "200-not-json",
        _error(200, "not json at all"),
        ServerError,
        True,
        f"{HOST} sent a reply that is not JSON (HTTP 200).",
    ),
    (
        "200-wrong-shape",
        _error(200, {"not": "a list"}),
        ServerError,
        True,
        f"{HOST} sent something that is not a list of conversations.",
    ),
    (
        "read-timeout",
        _raising(httpx.ReadTimeout),
        NetworkError,
        True,
        f"{HOST} did not answer in time.",
    ),
    (
        "connect-timeout",
        _raising(httpx.ConnectTimeout, TimeoutError()),
        NetworkError,
        True,
        f"{HOST} did not answer in time.",
    ),
    (
        "drop",
        _raising(httpx.RemoteProtocolError),
        NetworkError,
        True,
        f"{HOST} dropped the connection.",
    ),
    (
        "reset",
        _raising(httpx.ReadError, ConnectionResetError(104, "Connection reset by peer")),
        NetworkError,
        True,
        f"{HOST} dropped the connection.",
    ),
    (
        "refused",
        _raising(httpx.ConnectError, ConnectionRefusedError(111, "Connection refused")),
        NetworkError,
        True,
        f"{HOST} refused the connection: check the address and port.",
    ),
    (
        "dns",
        _raising(httpx.ConnectError, socket.gaierror(-2, "Name or service not known")),
        NetworkError,
        True,
        f"Cannot find {HOST}: check the spelling and your connection.",
    ),
    (
        "unreachable",
        _raising(httpx.ConnectError, OSError(101, "Network is unreachable")),
        NetworkError,
        True,
        f"Cannot connect to {HOST}: check the address and your connection.",
    ),
    (
        "tls-certificate",
        _raising(httpx.ConnectError, expired_certificate()),
        NetworkError,
        True,
        f"TLS failed with {HOST}: certificate has expired.",
    ),
    (
        "tls-handshake",
        _raising(httpx.ConnectError, handshake_failure()),
        NetworkError,
        True,
        f"TLS failed with {HOST}: sslv3 alert handshake failure.",
    ),
]


@pytest.mark.parametrize(
    ("handler", "kind", "transient", "message"),
    [case[1:] for case in CONTRACT],
    ids=[case[0] for case in CONTRACT],
)
async def test_the_error_contract(handler, kind, transient, message) -> None:
    """Each failure: its class, whether it heals by itself, and its one line."""
    async with _client(handler) as client:
        with pytest.raises(ApiError) as raised:
            await client.conversations()
    error = raised.value
    assert type(error) is kind
    assert error.transient is transient
    assert str(error) == message
    assert "\n" not in message and "<html" not in message and "secret" not in message


def test_transient_is_a_class_attribute_of_each_kind() -> None:
    assert NetworkError.transient and RateLimitedError.transient and ServerError.transient
    assert not any(
        kind.transient for kind in (ApiError, AuthenticationError, MissingScopeError, NotFoundError)
    )
    assert not ValidationError.transient
    assert (AuthenticationError.status_code, MissingScopeError.status_code) == (401, 403)
    assert (NotFoundError.status_code, ValidationError.status_code) == (404, 422)
    assert RateLimitedError.status_code == 429


async def test_status_codes_are_kept() -> None:
    for status, kind in ((410, NotFoundError), (502, ServerError), (418, ApiError)):
        async with _client(_error(status, {"error": "x"})) as client:
            with pytest.raises(kind) as raised:
                await client.remove("1")
        assert raised.value.status_code == status


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


async def test_rate_limit_reset_from_x_ratelimit_reset() -> None:
    reset = (datetime.now(UTC) + timedelta(minutes=3)).replace(microsecond=0)
    handler = _error(
        429,
        {"error": "Too many requests"},
        **{
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        },
    )
    async with _client(handler) as client:
        with pytest.raises(RateLimitedError) as raised:
            await client.mark_read("1")
    assert raised.value.reset_at == reset and raised.value.transient
    assert str(raised.value) == f"Rate limited by {HOST} until {_local(reset)}."


async def test_rate_limit_reset_from_retry_after_seconds() -> None:
    before = datetime.now(UTC)
    async with _client(_error(429, {"error": "Too many requests"}, **{"Retry-After": "90"})) as c:
        with pytest.raises(RateLimitedError) as raised:
            await c.conversations()
    reset_at = raised.value.reset_at
    assert reset_at is not None and reset_at.tzinfo is not None
    assert before + timedelta(seconds=90) <= reset_at <= datetime.now(UTC) + timedelta(seconds=90)
    assert str(raised.value) == f"Rate limited by {HOST} until {_local(reset_at)}."


async def test_rate_limit_reset_from_retry_after_http_date() -> None:
    reset = (datetime.now(UTC) + timedelta(minutes=2)).replace(microsecond=0)
    handler = _error(429, {"error": "x"}, **{"Retry-After": format_datetime(reset, usegmt=True)})
    async with _client(handler) as client:
        with pytest.raises(RateLimitedError) as raised:
            await client.conversations()
    assert raised.value.reset_at == reset
    assert str(raised.value) == f"Rate limited by {HOST} until {_local(reset)}."


@pytest.mark.parametrize(
    "headers",
    [{}, {"Retry-After": "soon"}, {"X-RateLimit-Reset": "never"}, {"Retry-After": "9" * 40}],
)
async def test_rate_limit_without_a_usable_reset(headers: dict[str, str]) -> None:
    async with _client(_error(429, {"error": "Too many requests"}, **headers)) as client:
        with pytest.raises(RateLimitedError) as raised:
            await client.conversations()
    assert raised.value.reset_at is None and raised.value.transient
    assert str(raised.value) == f"Rate limited by {HOST}: wait a few minutes."


def test_a_far_reset_names_its_day() -> None:
    reset = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    headers = httpx.Headers({"X-RateLimit-Reset": "2026-01-01T00:05:00.000000Z"})
    assert reset_time(headers) == reset
    response = httpx.Response(
        429, headers=headers, request=httpx.Request("GET", f"https://{HOST}/")
    )
    text = str(error_for(Reply(response, b"")))
    assert text == f"Rate limited by {HOST} until {reset.astimezone():%Y-%m-%d %H:%M:%S}."


async def test_server_text_is_one_clean_line() -> None:
    said = "Validation failed:\n\x1b[2J\x1b]52;c;SGVsbG8=\x07 text " + "x" * 500
    async with _client(_error(422, {"error": said})) as client:
        with pytest.raises(ValidationError) as raised:
            await client.post_status("hi")
    message = str(raised.value)
    assert message.startswith("Validation failed: text xxx") and len(message) <= 200
    assert message.isprintable()


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


def test_a_unix_time_reset_as_gotosocial_may_send_it() -> None:
    reset = datetime(2026, 12, 1, 21, 14, 5, tzinfo=UTC)
    headers = httpx.Headers({"X-RateLimit-Reset": str(int(reset.timestamp()))})
    assert reset_time(headers) == reset
