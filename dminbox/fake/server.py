"""FakeMastodon: the one object tests, `--demo` and the loopback server drive."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from dminbox.fake.app import FakeMastodonApp, RecordedRequest
from dminbox.fake.content import MENTION_RE
from dminbox.fake.counting import TEXT_LIMIT
from dminbox.fake.entities import EntityRenderer
from dminbox.fake.faults import FaultList
from dminbox.fake.oauth import CODE_LIFETIME, OOB, OAuthApp, OAuthState
from dminbox.fake.state import ConversationRow, InboxState
from dminbox.fake.stream import StreamHub
from dminbox.fake.transport import FakeTransport

if TYPE_CHECKING:
    from dminbox.fake.demo_live import LiveDemo

__all__ = ["ALL_SCOPES", "DEFAULT_BASE_URL", "AccessToken", "FakeMastodon"]

DEFAULT_BASE_URL = "https://fake.dminbox.invalid"
ALL_SCOPES = frozenset({"read", "write", "follow", "push", "profile"})
FLAVOURS = ("mastodon", "gotosocial")


@dataclass
class AccessToken:
    owner_id: str
    scopes: frozenset[str]
    revoked: bool = False
    client_id: str | None = None
    """The OAuth app the token was issued to; None for tokens made with `add_token`."""


class FakeMastodon:
    """A Mastodon (or GoToSocial) server in memory, answering through `asgi` or `transport()`.

    `me` owns `token` ("demo-token", every scope). Build the world with
    `add_account` (known accounts), `add_remote_account` (accounts only a search
    with resolve finds) and `post_status`; watch it with `requests` and
    `conversation_rows`; misbehave on demand with `faults`. Logging in works
    as on Mastodon (POST /api/v1/apps, /oauth/authorize, /oauth/token,
    /oauth/revoke); `issue_code` stands in for the browser.

    The direct stream (docs/mastodon.md, "Streaming") is served as a WebSocket at
    `/api/v1/streaming?stream=direct` (or `/api/v1/streaming/`; httpx-ws's
    `aconnect_ws(url, client, subprotocols=[token])` through `transport()` or
    over `serve`) and, on Mastodon only, as server-sent events at
    `/api/v1/streaming/direct`. Each account's streams hear a `conversation`
    event when a status lands in one of its rows, or the row is marked read or
    unread, or loses a deleted status; and a `delete` event for a deleted direct
    status it could see. A destroyed row (DELETE) sends nothing. Revoking a token
    closes its streams. `stream` (a StreamHub, fake/stream.py) holds the switches:

        server.stream.drop()              # hang up every open stream now, no close frame
        server.stream.close(code=1000)    # close them cleanly instead
        server.stream.stall(True)         # open, but silent: no events, pings or thumps;
        server.stream.stall(False)        #   the held events then all arrive
        server.stream.refuse = 502        # refuse new streams with this HTTP status
                                          #   (200/404: the upgrade answered as plain HTTP)
        server.stream.refuse = None       # accept again
        server.stream.ping_interval = 0.05   # WebSocket pings, seconds (30; None: never)
        server.stream.thump_interval = 0.05  # `:thump` comments, seconds (15; None: never)
        server.stream.heartbeat(0.05)     # both at once
        server.stream.connections         # streams opened so far (a reconnect adds one)
        server.stream.attempts            # stream requests so far, refused ones too
        server.stream.open                # streams open now
        await server.stream.wait_for_connections(2, timeout=1.0)

    As on Mastodon, a WebSocket client that leaves a ping unanswered until the
    next one is cut off. Faults (`faults`) do not apply to the streaming API.
    """

    def __init__(
        self,
        flavour: str = "mastodon",
        *,
        base_url: str = DEFAULT_BASE_URL,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        max_characters: int | None = None,
        instance_v2: bool = True,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, not {flavour!r}")
        self.flavour = flavour
        self.max_characters = TEXT_LIMIT[flavour] if max_characters is None else max_characters
        """The longest status POST /api/v1/statuses accepts, as the instance reports it."""
        self.instance_v2 = instance_v2
        """False: GET /api/v2/instance is a 404, as before Mastodon 4.0 (v1 still answers)."""
        self.state = InboxState(flavour, base_url.rstrip("/"), seed)
        self.renderer = EntityRenderer(self.state)
        self.stream = StreamHub(self)
        self.state.watcher = self.stream
        self.live: LiveDemo | None = None
        """With `demo(live=True)`: new messages now and then while the server is used."""
        self.faults = FaultList()
        self.requests: list[RecordedRequest] = []
        self.tokens: dict[str, AccessToken] = {}
        self.oauth = OAuthState(self)
        self._clock = clock
        self._me_id = self.state.add_account("me", "Me").id
        self.token = "demo-token"
        self.add_token(self.token, set(ALL_SCOPES))
        self.asgi = FakeMastodonApp(self)

    @classmethod
    def demo(
        cls,
        flavour: str = "mastodon",
        seed: int = 0,
        now: datetime | None = None,
        *,
        live: bool = False,
        **options,
    ) -> FakeMastodon:
        """A server holding the demo inbox; with `now` given, everything is repeatable.

        With `live`, people from the demo write a handful of new messages, one every
        20–40 s, once the server is first asked something (fake/demo_live.py): for
        `dminbox --demo` and `python -m dminbox.fake`, never for tests.
        """
        from dminbox.fake.demo import fill_demo_inbox

        if now is not None and "clock" not in options:
            # Time moves on from `now`, so messages sent during the demo are the newest.
            started = time.monotonic()
            options["clock"] = lambda: now + timedelta(seconds=time.monotonic() - started)
        server = cls(flavour, seed=seed, **options)
        fill_demo_inbox(server, seed=seed, now=now or datetime.now(UTC))
        if live:
            from dminbox.fake.demo_live import LiveDemo

            server.live = LiveDemo(server, seed=seed)
        return server

    # Time

    def now(self) -> datetime:
        """The time stamped on statuses posted through the API."""
        return self._clock() if self._clock else datetime.now(UTC)

    def wall_clock(self) -> datetime:
        """Real time, for rate-limit resets: a client really waits for those."""
        return datetime.now(UTC)

    # Where it lives

    @property
    def base_url(self) -> str:
        return self.state.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.state.base_url = value

    def transport(self) -> httpx.AsyncBaseTransport:
        return FakeTransport(self.asgi)

    # Accounts and tokens

    @property
    def me(self) -> dict:
        return self.account(self._me_id)

    def account(self, account_id: str) -> dict:
        return self.renderer.account(self.state.accounts[account_id])

    def add_account(
        self,
        username: str,
        display_name: str = "",
        domain: str | None = None,
        *,
        created_at: datetime | None = None,
        note: str = "",
        bot: bool = False,
    ) -> dict:
        """Add a person; `acct` is "username" when local, "username@domain" when remote."""
        record = self.state.add_account(
            username, display_name, domain, created_at=created_at, note=note, bot=bot
        )
        return self.account(record.id)

    def add_remote_account(
        self,
        acct: str,
        display_name: str = "",
        *,
        created_at: datetime | None = None,
        note: str = "",
        bot: bool = False,
    ) -> dict:
        """A person on another server ("user@domain") that this one has not fetched yet.

        Lookup and search do not see them until a search with `resolve=true` names
        them exactly (or a posted status mentions them): then they are known like
        an `add_account` one. Returns the Account JSON they will have.
        """
        username, _, domain = acct.removeprefix("@").partition("@")
        if not username or not domain:
            raise ValueError(f"a remote account is named user@domain, not {acct!r}")
        record = self.state.add_remote_account(
            username, domain, display_name, created_at=created_at, note=note, bot=bot
        )
        return self.renderer.account(record)

    def add_token(
        self,
        token: str,
        scopes: set[str] | frozenset[str],
        *,
        owner: dict | None = None,
        client_id: str | None = None,
    ) -> None:
        owner_id = owner["id"] if owner else self._me_id
        self.tokens[token] = AccessToken(owner_id, frozenset(scopes), client_id=client_id)

    def revoke_token(self, token: str) -> None:
        self.tokens.setdefault(token, AccessToken(self._me_id, frozenset())).revoked = True
        self.stream.token_revoked(token)

    # OAuth (see fake/oauth.py)

    def register_app(
        self, name: str = "dminbox", scopes: str = "read write", redirect_uri: str = OOB
    ) -> OAuthApp:
        """An app, as if registered through POST /api/v1/apps."""
        return self.oauth.register(name, [redirect_uri], scopes.split())

    def issue_code(
        self,
        client_id: str,
        scopes: str | list[str],
        *,
        owner: dict | None = None,
        expires_in: timedelta = CODE_LIFETIME,
    ) -> str:
        """An authorization code, as the browser step would show it; `owner` defaults to me.

        No checks are made here: the token endpoint checks the code's app and expiry.
        """
        scope_list = scopes.split() if isinstance(scopes, str) else list(scopes)
        owner_id = owner["id"] if owner else self._me_id
        return self.oauth.issue_code(client_id, scope_list, owner_id, expires_in=expires_in)

    def sign_in(self, account: dict | None) -> None:
        """Who approves at GET /oauth/authorize from now on (None: me)."""
        self.oauth.signed_in_id = account["id"] if account else None

    def forget_app(self, client_id: str) -> None:
        """Drop an app registration, as Mastodon before 4.3 vacuumed unused apps."""
        self.oauth.apps.pop(client_id, None)

    # Statuses and conversations

    def post_status(
        self,
        author: dict,
        text: str,
        *,
        mentions: list[dict] | None = None,
        in_reply_to_id: str | None = None,
        spoiler_text: str = "",
        media: list[dict] | None = None,
        created_at: datetime | None = None,
        content_html: str | None = None,
    ) -> dict:
        """Post a direct status from `author` to exactly `mentions`.

        Mentions missing from the text are put in front of it, as clients do.
        `content_html` replaces the generated HTML, to imitate what a remote
        server may send.
        """
        recipients = [self.state.accounts[m["id"]] for m in mentions or []]
        missing = [a for a in recipients if not self._mentions(text, a.username)]
        if missing:
            text = " ".join(f"@{a.acct}" for a in missing) + " " + text
        status = self.state.post(
            author["id"],
            text,
            mention_ids=[a.id for a in recipients],
            in_reply_to_id=in_reply_to_id,
            spoiler_text=spoiler_text,
            media=media,
            created_at=created_at or self.now(),
            content_html=content_html,
        )
        return self.renderer.status(status)

    @staticmethod
    def _mentions(text: str, username: str) -> bool:
        return any(
            m.group("username").lower() == username.lower() for m in MENTION_RE.finditer(text)
        )

    def delete_status(self, status_id: str) -> None:
        self.state.delete_status(status_id)

    def status(self, status_id: str) -> dict:
        return self.renderer.status(self.state.statuses[status_id])

    def conversation_rows(self, owner: dict | None = None) -> list[dict]:
        """The owner's (default: me) Conversation JSON, newest last status first."""
        owner_id = owner["id"] if owner else self._me_id
        return [self.renderer.conversation(row) for row in self.state.rows_of(owner_id)]

    def row(self, row_id: str) -> ConversationRow:
        """The stored row behind a Conversation id, for tests that bend the rules."""
        return self.state.rows[row_id]
