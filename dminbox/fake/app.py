"""The fake server's ASGI 3 app: routing, tokens and scopes, common headers, faults."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

import httpx

import dminbox.fake.oauth as oauth
from dminbox.fake.endpoints import Call, Endpoints
from dminbox.fake.faults import ConnectionDropped, Fault, fault_body, filler, gzip_bomb
from dminbox.fake.responses import Answer, HttpError

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon

__all__ = ["FakeMastodonApp", "RecordedRequest"]

RATE_LIMIT = 300
RATE_WINDOW = 300  # seconds: Mastodon's 300 requests per 5 minutes
INVALID_TOKEN = "The access token is invalid"
REVOKED_TOKEN = "The access token was revoked"
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
READ = ("read", "read:statuses")
WRITE_CONVERSATIONS = ("write", "write:conversations")
WRITE_STATUSES = ("write", "write:statuses")
READ_ACCOUNTS = ("read", "read:accounts", "profile")
LOOKUP = ("read", "read:accounts")
SEARCH = ("read", "read:search")

Handler = Callable[[Endpoints, Call], Answer]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...] | None  # None: no token needed
    flavours: tuple[str, ...] = ("mastodon", "gotosocial")
    anonymous: bool = False
    """With scopes: a request without a known token is answered too, for nobody (the
    handler sees an empty owner id); a token that is given must still be valid and
    carry one of the scopes (Mastodon's `authorize_if_got_token!`)."""


def _route(
    method: str,
    path: str,
    handler: Handler,
    scopes: tuple[str, ...] | None,
    flavours: tuple[str, ...] = ("mastodon", "gotosocial"),
    *,
    anonymous: bool = False,
) -> Route:
    pattern = re.compile(re.sub(r":(\w+)", r"(?P<\1>[^/]+)", path))
    return Route(method, pattern, handler, scopes, flavours, anonymous)


ROUTES = (
    _route(
        "GET", "/api/v1/accounts/verify_credentials", Endpoints.verify_credentials, READ_ACCOUNTS
    ),
    _route("GET", "/api/v1/instance", Endpoints.instance_v1, None),
    _route("GET", "/api/v2/instance", Endpoints.instance_v2, None),
    # Mastodon answers these without a token too; GoToSocial wants one.
    _route(
        "GET",
        "/api/v1/accounts/lookup",
        Endpoints.lookup_account,
        LOOKUP,
        ("mastodon",),
        anonymous=True,
    ),
    _route("GET", "/api/v1/accounts/lookup", Endpoints.lookup_account, LOOKUP, ("gotosocial",)),
    _route("GET", "/api/v2/search", Endpoints.search, SEARCH, ("mastodon",), anonymous=True),
    _route("GET", "/api/v2/search", Endpoints.search, SEARCH, ("gotosocial",)),
    _route("GET", "/api/v1/conversations", Endpoints.list_conversations, READ),
    _route("POST", "/api/v1/conversations/:id/read", Endpoints.mark_read, WRITE_CONVERSATIONS),
    _route(
        "POST",
        "/api/v1/conversations/:id/unread",
        Endpoints.mark_unread,
        WRITE_CONVERSATIONS,
        flavours=("mastodon",),
    ),
    _route(
        "DELETE", "/api/v1/conversations/:id", Endpoints.delete_conversation, WRITE_CONVERSATIONS
    ),
    _route("GET", "/api/v1/statuses/:id/context", Endpoints.status_context, READ),
    _route("GET", "/api/v1/statuses/:id", Endpoints.show_status, READ),
    _route("DELETE", "/api/v1/statuses/:id", Endpoints.delete_status, WRITE_STATUSES),
    _route("POST", "/api/v1/statuses", Endpoints.post_status, WRITE_STATUSES),
    _route("POST", "/api/v1/apps", oauth.create_app, None),
    _route("GET", "/oauth/authorize", oauth.authorize, None),
    _route("POST", "/oauth/token", oauth.token, None),
    _route("POST", "/oauth/revoke", oauth.revoke, None),
)


@dataclass
class RecordedRequest:
    """A request as the fake server saw it, kept in `FakeMastodon.requests`."""

    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: bytes = b""
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_scope(cls, scope: dict, body: bytes) -> RecordedRequest:
        query_string = scope.get("query_string", b"").decode("latin-1")
        headers = httpx.Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        )
        return cls(
            method=scope["method"].upper(),
            path=scope["path"],
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            headers=headers,
            body=body,
        )

    @property
    def bearer_token(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return self.query.get("access_token") or None


def _unauthorized(message: str) -> HttpError:
    challenge = f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{message}"'
    return HttpError(401, message, [("WWW-Authenticate", challenge)])


def _iso_reset(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeMastodonApp:
    """An ASGI 3 callable answering like Mastodon or GoToSocial, from a FakeMastodon's state.

    `websocket` scopes and GET /api/v1/streaming/direct are the streaming API
    (fake/stream_endpoints.py); faults do not apply to them (see `FakeMastodon.stream`).
    """

    def __init__(self, server: FakeMastodon) -> None:
        self.server = server
        self.endpoints = Endpoints(server)
        self._window_start = 0.0
        self._used: dict[str, int] = {}

    async def __call__(
        self,
        scope: dict,
        receive: Callable[[], Awaitable[dict]],
        send: Callable[[dict], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        # The streaming API (fake/stream_endpoints.py) imports this module.
        from dminbox.fake import stream_endpoints

        if self.server.live is not None:
            self.server.live.keep_going()
        if scope["type"] == "websocket":
            await stream_endpoints.websocket_session(self.server, scope, receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the fake Mastodon speaks HTTP only, not {scope['type']}")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = RecordedRequest.from_scope(scope, body)
        self.server.requests.append(request)
        if (
            request.method == "GET"
            and request.path == stream_endpoints.EVENT_STREAM_PATH
            and self.server.flavour == "mastodon"  # GoToSocial streams over WebSockets only
        ):
            await stream_endpoints.event_stream(self.server, request, send)
            return
        fault = self.server.faults.take(request.method, request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.hold is not None:
                await fault.hold.wait()
        if fault is not None and fault.status is not None and not fault.drop:
            answer = self._fault_answer(fault, request)
        else:
            answer = self.handle(request)
            if fault is not None and fault.drop:
                raise ConnectionDropped(f"{request.method} {request.path}")
        if fault is not None:
            self._change_links(fault, answer, request)
        if fault is None or not fault.streams:
            await self._send_whole(send, answer)
        else:
            await self._send_stream(send, answer, fault)

    async def _send_whole(self, send: Callable[[dict], Awaitable[None]], answer: Answer) -> None:
        await self._start(send, answer, len(answer.body))
        await send({"type": "http.response.body", "body": answer.body})

    async def _send_stream(
        self, send: Callable[[dict], Awaitable[None]], answer: Answer, fault: Fault
    ) -> None:
        """The body as a fault makes it: generated, compressed or dripped, one piece at a time."""
        pieces: Iterator[bytes]
        length: int | None
        if fault.gzip_bomb is not None:
            answer.headers.append(("Content-Encoding", "gzip"))
            pieces, length = gzip_bomb(fault.gzip_bomb), None
        elif fault.body_size is not None:
            pieces = filler(fault.body_size)
            length = fault.body_size if fault.content_length else None
        else:
            pieces, length = iter((answer.body,)), len(answer.body)
        await self._start(send, answer, length)
        for piece in pieces:
            if fault.drip > 0:
                for index in range(len(piece)):
                    await asyncio.sleep(fault.drip)
                    await send(
                        {
                            "type": "http.response.body",
                            "body": piece[index : index + 1],
                            "more_body": True,
                        }
                    )
            elif piece:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _start(
        self, send: Callable[[dict], Awaitable[None]], answer: Answer, length: int | None
    ) -> None:
        """The head; without a length the body is sent chunked over a socket."""
        headers = [("content-type", answer.content_type)]
        if length is not None:
            headers.append(("content-length", str(length)))
        headers.extend(answer.headers)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            }
        )

    def _change_links(self, fault: Fault, answer: Answer, request: RecordedRequest) -> None:
        """Replace or extend the Link header as the fault says (`{url}`: this request's URL)."""
        if fault.link is None and fault.link_extra is None:
            return
        query = urlencode(request.query)
        url = f"{self.server.base_url}{request.path}" + (f"?{query}" if query else "")

        def expand(template: str) -> str:
            return template.replace("{url}", url).replace("{base}", self.server.base_url)

        current = [v for k, v in answer.headers if k.lower() == "link"]
        answer.headers = [(k, v) for k, v in answer.headers if k.lower() != "link"]
        value = expand(fault.link) if fault.link is not None else ", ".join(current)
        if fault.link_extra is not None:
            value = ", ".join(part for part in (value, expand(fault.link_extra)) if part)
        if value:
            answer.headers.append(("Link", value))

    async def _lifespan(
        self, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]
    ) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def handle(self, request: RecordedRequest) -> Answer:
        """Route, check the token and answer; the common headers are added here."""
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            if self.server.flavour == "gotosocial":
                return self._redirect_without_slash(request)
            path = path.rstrip("/")  # Rails routes ignore a trailing slash
        try:
            route, params = self._match(request.method, path)
            owner_id = self._authorize(request, route.scopes, anonymous=route.anonymous)
            answer = route.handler(self.endpoints, Call(request, owner_id, params))
        except HttpError as error:
            answer = error.answer()
        if answer.is_json:
            answer.headers.extend(self._rate_limit_headers(request))
            answer.headers.append(("Cache-Control", "private, no-store"))
        return answer

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in ROUTES:
            if self.server.flavour not in route.flavours or route.method != method:
                continue
            match = route.pattern.fullmatch(path)
            if match:
                return route, match.groupdict()
        raise HttpError(404, "Record not found")

    def _authorize(
        self, request: RecordedRequest, scopes: tuple[str, ...] | None, *, anonymous: bool = False
    ) -> str:
        """The id of the token's owner, or an HttpError: 401 for the token, 403 for scopes.

        On an `anonymous` route a request without a known token is nobody's: "".
        """
        token_text = request.bearer_token
        token = self.server.tokens.get(token_text or "")
        if scopes is None:
            return token.owner_id if token and not token.revoked else self.server.me["id"]
        if token is None and anonymous:
            return ""
        if token is None:
            raise _unauthorized(INVALID_TOKEN)
        if token.revoked:
            raise _unauthorized(REVOKED_TOKEN)
        if not token.scopes.intersection(scopes):
            raise HttpError(403, OUTSIDE_SCOPES)
        return token.owner_id

    def _redirect_without_slash(self, request: RecordedRequest) -> Answer:
        # Gin's RedirectTrailingSlash: 301 for GET, 307 for other methods, relative Location.
        query_string = urlencode(request.query)
        location = request.path.rstrip("/") + (f"?{query_string}" if query_string else "")
        status = 301 if request.method == "GET" else 307
        body = f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
        return Answer(status, body, "text/html; charset=utf-8", [("Location", location)])

    def _rate_limit_headers(self, request: RecordedRequest) -> list[tuple[str, str]]:
        now = self.server.wall_clock()
        window_start = now.timestamp() // RATE_WINDOW * RATE_WINDOW
        if window_start != self._window_start:
            self._window_start, self._used = window_start, {}
        caller = request.bearer_token or "anonymous"
        self._used[caller] = self._used.get(caller, 0) + 1
        reset = datetime.fromtimestamp(window_start + RATE_WINDOW, UTC)
        return [
            ("X-RateLimit-Limit", str(RATE_LIMIT)),
            ("X-RateLimit-Remaining", str(max(0, RATE_LIMIT - self._used[caller]))),
            ("X-RateLimit-Reset", _iso_reset(reset)),
        ]

    def _fault_answer(self, fault: Fault, request: RecordedRequest) -> Answer:
        assert fault.status is not None
        content_type, body = fault_body(fault.status)
        answer = Answer(fault.status, body, content_type)
        if fault.status == 429 and fault.retry_after is not None:
            wait = fault.retry_after
            value = wait if isinstance(wait, str) else str(max(0, math.ceil(wait)))
            answer.headers = [("Retry-After", value)]
        elif fault.status == 429:
            reset = self.server.wall_clock() + timedelta(seconds=fault.reset_after)
            answer.headers = [
                ("X-RateLimit-Limit", str(RATE_LIMIT)),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", _iso_reset(reset)),
            ]
        elif answer.is_json:
            answer.headers.extend(self._rate_limit_headers(request))
        return answer
