"""One account's inbox as the app sees it: the cache first, the server behind it.

The session owns the API client and the cache. It stores what the server
sends, keeps every action in the cache's queue until the server confirms it
(so none is lost to a crash or a dropped link), and replays the queue in
order. It knows nothing of widgets.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from dminbox.cache import Cache, PagingState, QueuedAction, cache_path, last_account_file
from dminbox.client import MastodonClient
from dminbox.config import Settings
from dminbox.errors import (
    ApiError,
    AuthenticationError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from dminbox.models import Conversation, Status
from dminbox.page import Page

__all__ = ["ActionResult", "InboxSession", "open_session"]

log = logging.getLogger(__name__)

TEMPORARY = {502, 503, 504, 520, 521, 522, 523, 524}
"""Server answers that mean "try again later" (a proxy, maintenance), not "no"."""


class CacheWriteError(ApiError):
    """The cache could not record an action (disk full, file busy): nothing was done."""


Kind = Literal["sent", "gone", "refused", "kept"]


@dataclass(frozen=True)
class ActionResult:
    """What became of one queued action when it was sent."""

    action: QueuedAction
    kind: Kind
    """sent: done; gone: the conversation no longer exists (404); refused: the server
    said no for good (403, 422, 500…) and the action was dropped; kept: it stays
    queued and is tried again later (see `why`)."""
    message: str | None = None
    why: Literal["", "network", "token", "later"] = ""
    """For kept actions: the server could not be reached; the token was refused; or
    the server asked to wait (rate limit, a temporary 502/503/504)."""


class InboxSession:
    """The cache-backed inbox of one account."""

    def __init__(
        self,
        client: MastodonClient,
        cache: Cache,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.cache = cache
        self._in_flight: set[int] = set()
        self._removed: set[str] = set()
        """Removals the server confirmed this run: a page that left the server before
        the confirmation must not bring the row back."""
        self._clock = clock
        self.online = True
        """False after a request failed for a network reason, until one succeeds."""

    def now(self) -> float:
        """The session's clock, in seconds (time.time unless a test gives another)."""
        return self._clock()

    async def close(self) -> None:
        await self.client.aclose()
        self.cache.close()

    @property
    def instance(self) -> str:
        return self.client.instance

    @property
    def durable(self) -> bool:
        """True when queued actions survive a restart (a cache on disk)."""
        return self.cache.path is not None

    @property
    def notice(self) -> str | None:
        """A one-line notice from opening the cache (a damaged file moved aside)."""
        return self.cache.notice

    # -- what the cache holds --------------------------------------------------

    def cached(self, *, after: str | None = None, limit: int = 200) -> list[Conversation]:
        return self.cache.conversations(after=after, limit=limit)

    def cached_thread(self, conversation: Conversation) -> list[Status]:
        statuses = self.cache.thread(conversation.id)
        if not statuses and conversation.last_status is not None:
            return [conversation.last_status]
        return statuses

    def paging(self) -> PagingState:
        return self.cache.paging()

    def save_paging(self, state: PagingState) -> None:
        self.cache.set_paging(state)

    @property
    def last_open(self) -> str | None:
        return self.cache.get("last_open")

    def remember_open(self, conversation_id: str) -> None:
        self.cache.set(last_open=conversation_id)

    def unread_count(self) -> int:
        """Unread conversations in the cache (which holds at least what is loaded)."""
        try:
            return self.cache.unread_count()
        except sqlite3.Error:
            return 0

    def queued(self) -> list[QueuedAction]:
        return self.cache.queued()

    def pending_reads(self) -> set[str]:
        return {a.conversation_id for a in self.cache.queued() if a.action == "read"}

    # -- from the server ---------------------------------------------------------

    async def fetch_older(self, url: str | None) -> Page:
        """A page by its `next` URL (None: the first page), stored and returned."""
        page = await self._call(self.client.conversations(url))
        stored = self._store(page, page_url=url)
        self.cache.page_read(url)
        return stored

    async def fetch_newer(self, url: str | None) -> Page:
        """A page by its `prev` URL (None: the first page again), stored and returned."""
        page = await self._call(self.client.conversations(url))
        return self._store(page, page_url=None)

    async def fetch_thread(self, conversation: Conversation) -> list[Status]:
        """The whole thread of the conversation's last status, stored and returned."""
        status = conversation.last_status
        if status is None:
            return []
        context = await self._call(self.client.context_raw(status.id))
        raw = [*(context.get("ancestors") or []), *(context.get("descendants") or [])]
        valid = [s for s in raw if isinstance(s, dict) and "id" in s]
        self.cache.put_thread(conversation.id, valid)
        thread = self.cache.thread(conversation.id)
        return thread or [status]

    def _store(self, page: Page, *, page_url: str | None) -> Page:
        """Stores a page, minding the queue: a queued removal hides its row, a read stays read."""
        queued = self.cache.queued()
        removing = {a.conversation_id for a in queued if a.action == "remove"} | self._removed
        reading = {a.conversation_id for a in queued if a.action == "read"}
        keep: list[Conversation] = []
        raw: list[dict[str, Any]] = []
        for conversation, row in zip(page.conversations, page.raw, strict=True):
            if conversation.id in removing:
                continue
            if conversation.id in reading and conversation.unread:
                conversation = conversation.model_copy(update={"unread": False})
                row = {**row, "unread": False}
            keep.append(conversation)
            raw.append(row)
        self.cache.put_conversations(raw, page_url=page_url)
        return replace(page, conversations=keep, raw=raw)

    async def _call(self, request: Any) -> Any:
        try:
            result = await request
        except NetworkError:
            self.online = False
            raise
        self.online = True
        return result

    # -- actions -------------------------------------------------------------------

    def queue(self, action: str, conversation: Conversation, *, delay: float = 0.0) -> int:
        """Records an action durably before anything is sent; returns its queue number.

        Raises `CacheWriteError` (one line) when the cache cannot take it (disk full…).
        """
        snapshot = conversation if action == "remove" else None
        try:
            return self.cache.enqueue(
                action, conversation.id, not_before=self._clock() + delay, snapshot=snapshot
            )
        except sqlite3.Error as error:
            raise CacheWriteError(f"Could not save that in the cache ({error}).") from error

    def cancel(self, seq: int) -> QueuedAction | None:
        """Undoes a queued action whose undo window is still open and that is not on
        its way to the server; None when it is too late."""
        if seq in self._in_flight:
            return None
        return self.cache.cancel(seq)

    async def send_queued(self, *, everything: bool = False) -> list[ActionResult]:
        """Sends the due actions in order, stopping at the first that must wait.

        `everything` also sends removals still inside their undo window (on quit).
        """
        results: list[ActionResult] = []
        now = self._clock()
        for action in self.cache.queued():
            if not everything and action.not_before > now:
                continue
            if not self.cache.is_queued(action.seq):
                continue  # undone while an earlier action was being sent
            self._in_flight.add(action.seq)
            try:
                result = await self._send(action)
            finally:
                self._in_flight.discard(action.seq)
            results.append(result)
            if result.kind == "kept":
                break
        return results

    async def _send(self, action: QueuedAction) -> ActionResult:
        try:
            if action.action == "read":
                await self._call(self.client.mark_read(action.conversation_id))
            elif action.action == "remove":
                await self._call(self.client.remove(action.conversation_id))
            else:
                self.cache.done(action.seq)
                return ActionResult(action, "refused", f"Unknown action {action.action!r}.")
        except NotFoundError:
            self.cache.done(action.seq)
            self.cache.delete_conversation(action.conversation_id)
            self._removed.add(action.conversation_id)
            return ActionResult(action, "gone", "That conversation is already gone.")
        except NetworkError as error:
            self.cache.failed(action.seq, str(error))
            return ActionResult(action, "kept", str(error), why="network")
        except AuthenticationError as error:
            self.cache.failed(action.seq, str(error))
            return ActionResult(action, "kept", str(error), why="token")
        except RateLimitedError as error:
            self.cache.failed(action.seq, str(error))
            if error.reset_at is not None:
                self.cache.set_not_before(action.seq, error.reset_at.timestamp())
            return ActionResult(action, "kept", str(error), why="later")
        except ServerError as error:
            if error.status_code not in TEMPORARY:
                self.cache.done(action.seq)
                self._undo_locally(action)
                return ActionResult(action, "refused", str(error))
            self.cache.failed(action.seq, str(error))
            return ActionResult(action, "kept", str(error), why="later")
        except ApiError as error:
            self.cache.done(action.seq)
            self._undo_locally(action)
            return ActionResult(action, "refused", str(error))
        self.cache.done(action.seq)
        if action.action == "remove":
            self._removed.add(action.conversation_id)
        return ActionResult(action, "sent")

    def _undo_locally(self, action: QueuedAction) -> None:
        """The server refused for good: the cache goes back to what the server holds."""
        if action.action == "read":
            self.cache.set_unread(action.conversation_id, True)
        elif action.action == "remove":
            self.cache.unhide(action)


def open_session(settings: Settings, *, transport: Any = None) -> InboxSession:
    """The session for these settings: the demo server, or a real one with its cache."""
    if settings.demo:
        from dminbox.fake import FakeMastodon

        server = FakeMastodon.demo()
        client = MastodonClient(server.base_url, server.token, transport=server.transport())
        return InboxSession(client, Cache.open(None))
    client = MastodonClient(settings.instance, settings.token, transport=transport)
    path = account_cache_path(settings, transport=transport, ask_server=True)
    if path is None:
        return InboxSession(client, Cache.open(None))
    return InboxSession(client, Cache.open(path, limit=settings.cache_limit))


def account_cache_path(
    settings: Settings, *, transport: Any = None, ask_server: bool = False
) -> Path | None:
    """Where this account's cache is, or None when there is to be none (or it is unknown).

    The account id comes from a stored account, else from the account last used
    on this instance, else (with `ask_server`) from the server, once.
    """
    if settings.demo or not settings.use_cache:
        return None
    account_id = settings.account_id or known_account(settings.instance, settings.token)
    if account_id is None and ask_server:
        account_id = _verify(settings, transport)
    if account_id is None:
        return None
    remember_account(settings.instance, settings.token, account_id)
    return cache_path(settings.instance, account_id)


def token_fingerprint(token: str) -> str:
    """Tells tokens apart without keeping them: a one-way hash, never the token."""
    return hashlib.sha256(("dminbox:" + token).encode("utf-8")).hexdigest()[:32]


def known_account(instance: str, token: str) -> str | None:
    """The account a token was last seen to belong to on this instance, if any.

    Keyed by the token's fingerprint, so another token for the same host never
    opens this account's cache (nor sends its queued actions).
    """
    try:
        lines = last_account_file(instance).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    wanted = token_fingerprint(token)
    for line in lines:
        fingerprint, _, account_id = line.partition(" ")
        if fingerprint == wanted and account_id.strip():
            return account_id.strip()
    return None


def remember_account(instance: str, token: str, account_id: str) -> None:
    """Notes whose token this is, for an offline start next time (file 0600)."""
    path = last_account_file(instance)
    wanted = token_fingerprint(token)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        if f"{wanted} {account_id}" in lines:
            return
        kept = [line for line in lines if not line.startswith(wanted + " ") and " " in line]
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join([*kept[-15:], f"{wanted} {account_id}"]) + "\n")
    except OSError as error:
        log.warning("cannot remember the account: %s", error)


def _verify(settings: Settings, transport: Any) -> str | None:
    """Asks the server whose token this is, once, before the app starts."""
    import asyncio

    async def ask() -> str | None:
        async with MastodonClient(settings.instance, settings.token, transport=transport) as c:
            return (await c.verify_credentials()).id

    try:
        return asyncio.run(ask())
    except ApiError as error:
        log.warning("cannot verify the token: %s", error)
        return None


@dataclass
class SessionOpener:
    """Opens the session of a stored account, so the app can switch without restarting."""

    settings: Settings
    """The options of this run (cache on or off, its limit); the account part is replaced."""
    transport: Any = None
    """For tests: the transport every new client uses."""

    def open(self, stored: Any) -> InboxSession:
        from dminbox.accounts import mark_used

        with contextlib.suppress(OSError):
            mark_used(stored.acct)
        settings = self.settings.model_copy(
            update={
                "instance": stored.instance,
                "token": stored.token,
                "account_id": stored.account_id,
                "acct": stored.acct,
                "demo": False,
            }
        )
        try:
            return open_session(settings, transport=self.transport)
        except (OSError, sqlite3.Error) as error:
            from dminbox.config import ConfigError

            raise ConfigError(f"cannot open its cache ({error})") from error
