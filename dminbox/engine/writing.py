"""Writing: drafts, messages on their way, the server's limits and who is who.

A message is one more durable action in the outbox (`send`): queued in the
same transaction that takes its draft away, sent with an `Idempotency-Key`
made when it was queued and kept with it, so a retry after a timeout or a
dropped connection never posts twice. A permanent refusal puts the text back
in its draft, in the transaction that takes it off the queue. At every moment
the text is in exactly one place: the draft, or the outbox.

The `Writer` belongs to the `Engine` and holds the writing half of its state:
the pending messages, the limits, the user's own account.
"""

from __future__ import annotations

import html
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dminbox.engine.changes import PendingMessage, SendRefused, Sent, ThreadChanged
from dminbox.errors import ApiError, AuthenticationError
from dminbox.models import Account, Conversation, Status
from dminbox.text import one_line

if TYPE_CHECKING:
    from dminbox.compose import Limits
    from dminbox.engine.core import Engine
    from dminbox.store import QueuedAction

__all__ = ["NEW_KEY", "Draft", "Writer", "reply_key"]

log = logging.getLogger(__name__)

NEW_KEY = "new"
"""The draft of a new message (to no conversation yet)."""


def reply_key(conversation_id: str) -> str:
    """The draft key of a reply in this conversation."""
    return f"reply:{conversation_id}"


@dataclass(frozen=True)
class Draft:
    """What the user is writing: a reply in a conversation, or a new message."""

    key: str
    """`reply:<conversation id>` or `new`: one draft each."""
    text: str = ""
    spoiler_text: str = ""
    to: tuple[str, ...] = ()
    """A new message's To: field, accts as typed (the text holds the mentions that count)."""
    in_reply_to_id: str | None = None
    """The message answered; it only places the reply in the thread."""
    conversation_id: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.spoiler_text.strip() or self.to)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "spoiler_text": self.spoiler_text,
            "to": list(self.to),
            "in_reply_to_id": self.in_reply_to_id,
            "conversation_id": self.conversation_id,
        }

    @classmethod
    def from_json(cls, key: str, data: Any) -> Draft:
        """From stored data; anything that does not fit gives way to an empty field."""
        if not isinstance(data, dict):
            return cls(key)

        def text(name: str) -> str:
            value = data.get(name)
            return value if isinstance(value, str) else ""

        def optional(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        to = data.get("to")
        return cls(
            key=key,
            text=text("text"),
            spoiler_text=text("spoiler_text"),
            to=tuple(a for a in to if isinstance(a, str)) if isinstance(to, list) else (),
            in_reply_to_id=optional("in_reply_to_id"),
            conversation_id=optional("conversation_id"),
        )


@dataclass
class _Pending:
    draft: Draft
    status: Status
    waiting: str = ""


@dataclass
class Writer:
    """The engine's writing half: drafts, pending messages, limits, the user's account."""

    engine: Engine
    account_id: str | None = None
    """The user's own account id, when the caller knows it (a stored account does)."""
    _pending: dict[int, _Pending] = field(default_factory=dict)
    _limits: Limits | None = None
    _me: Account | None = None

    # -- drafts ----------------------------------------------------------------------

    async def draft(self, key: str) -> Draft | None:
        """The stored draft under this key, if any."""
        store = await self.engine.open_store()
        data = await self.engine._db(store.draft, key)
        return None if data is None else Draft.from_json(key, data)

    async def save_draft(self, draft: Draft) -> None:
        """Keeps the draft (an empty one is deleted)."""
        store = await self.engine.open_store()
        await self.engine._db(store.save_draft, draft.key, None if draft.empty else draft.to_json())

    # -- the server's limits and accounts ---------------------------------------------

    async def limits(self) -> Limits:
        """The server's text limits: from the cache at once, asked once a run."""
        from dminbox.compose import Limits

        if self._limits is not None:
            return self._limits
        engine = self.engine
        store = await engine.open_store()
        stored = await engine._db(store.get, "instance_limits")
        if stored:
            try:
                self._limits = Limits.from_json(json.loads(stored))
            except ValueError:
                self._limits = None
        try:
            fresh = Limits.from_instance(await engine.client.instance_info())
        except ApiError as error:
            log.info("cannot read the instance's limits: %s", error)
            return self._limits or Limits()
        self._limits = fresh
        await engine._db(store.set, instance_limits=json.dumps(fresh.to_json()))
        return fresh

    async def me(self) -> Account:
        """The user's own account: from the cache, else asked of the server once."""
        if self._me is not None:
            return self._me
        engine = self.engine
        store = await engine.open_store()
        stored = await engine._db(store.get, "me")
        if stored:
            try:
                self._me = Account.from_stored(json.loads(stored))
                return self._me
            except (ValueError, KeyError, TypeError):
                pass
        try:
            account = await engine.client.verify_credentials()
        except ApiError as error:
            log.info("cannot ask who the user is: %s", error)
            return Account(id=self.account_id or "", display_name="You")
        self._me = account
        await engine._db(store.set, me=account.model_dump_json())
        return account

    async def known_accounts(self, prefix: str, limit: int = 8) -> list[Account]:
        """Accounts in the cache starting with `prefix`, the user left out: for To:."""
        store = await self.engine.open_store()
        me = self._me.id if self._me else self.account_id
        found = await self.engine._db(store.known_accounts, prefix, limit + 1)
        return [a for a in found if a.id != me][:limit]

    async def find_account(self, acct: str) -> Account | None:
        """The account with this acct: the cache first, then the server (lookup, then a
        search that resolves a remote account). None when nobody has it; the server's
        failures raise `ApiError`."""
        store = await self.engine.open_store()
        cached = await self.engine._db(store.account_by_acct, acct)
        if cached is not None:
            return cached
        return await self.engine.client.lookup_account(acct)

    # -- sending ---------------------------------------------------------------------

    def payload(self, draft: Draft) -> dict[str, Any]:
        """What the outbox keeps of a message: the text, and the key that makes it once."""
        queued_at = datetime.fromtimestamp(self.engine.clock.now(), UTC)
        return {
            "draft": draft.to_json(),
            "draft_key": draft.key,
            "idempotency_key": uuid.uuid4().hex,
            "queued_at": queued_at.isoformat(),
        }

    def remember(self, action: QueuedAction) -> None:
        """Notes a queued message, so its thread shows it as pending."""
        payload = action.payload or {}
        draft = Draft.from_json(str(payload.get("draft_key") or NEW_KEY), payload.get("draft"))
        when = _moment(payload.get("queued_at"))
        me = self._me or Account(id=self.account_id or "", display_name="You")
        status = Status(
            id=f"pending-{action.seq}",
            created_at=when,
            account=me,
            content="<p>" + html.escape(draft.text).replace("\n", "<br>") + "</p>",
            spoiler_text=draft.spoiler_text,
            in_reply_to_id=draft.in_reply_to_id,
        )
        self._pending[action.seq] = _Pending(draft, status, action.last_error or "")

    def pending_in(self, conversation_id: str) -> tuple[PendingMessage, ...]:
        return tuple(
            PendingMessage(p.status, p.waiting)
            for p in self._pending.values()
            if p.draft.conversation_id == conversation_id
        )

    def thread_changed(
        self, conversation: Conversation, statuses: list[Status], note: str = ""
    ) -> ThreadChanged:
        return ThreadChanged(conversation, statuses, note, self.pending_in(conversation.id))

    async def post(self, action: QueuedAction) -> bool:
        """Sends one queued message; False when it stays queued for a later try."""
        engine = self.engine
        store = engine.store
        assert store is not None
        payload = action.payload or {}
        draft = Draft.from_json(str(payload.get("draft_key") or NEW_KEY), payload.get("draft"))
        if action.seq not in self._pending:
            self.remember(action)
        try:
            raw = await engine.client.post_status_raw(
                draft.text,
                in_reply_to_id=draft.in_reply_to_id,
                spoiler_text=draft.spoiler_text,
                idempotency_key=str(payload.get("idempotency_key") or "") or None,
            )
        except ApiError as error:
            if error.transient or isinstance(error, AuthenticationError):
                await engine._db(store.failed, action.seq, str(error))
                self._pending[action.seq].waiting = one_line(str(error), 120)
                self.engine.show_pending(draft.conversation_id)
                engine._failed(error, "outbox")
                return False
            await engine._db(store.refused, action.seq, draft.key, draft.to_json())
            self._pending.pop(action.seq, None)
            self.engine.show_pending(draft.conversation_id)
            reason = one_line(str(error))
            engine._emit(SendRefused(draft.key, reason))
            return True
        status = Status.model_validate(raw)
        row = engine._row(draft.conversation_id) if draft.conversation_id else None
        moved: Conversation | None = None
        if row is not None and _joins(row, status, self._me_id()):
            moved = Conversation(id=row.id, unread=False, accounts=row.accounts, last_status=status)
        conversation_raw = None
        if moved is not None:
            conversation_raw = {**moved.model_dump(), "last_status": raw}
        await engine._db(store.sent, action.seq, raw, conversation_raw)
        self._pending.pop(action.seq, None)
        if moved is not None:
            engine.moved_to_top(moved)
        if moved is not None:
            engine._emit(Sent(draft.key, status, moved.id))
        if moved is not None and row is not None and row.unread:
            # Answered, so read: not every server marks it read for its owner (GoToSocial
            # does not), and page 1 would bring it back unread.
            try:
                await engine.client.mark_read(row.id)
            except ApiError as error:
                log.info("cannot mark an answered conversation read: %s", error)
        engine._spawn(engine.after_send(draft.key, status, known=moved is not None), "after-send")
        return True

    def _me_id(self) -> str | None:
        return self._me.id if self._me else self.account_id


def _joins(row: Conversation, status: Status, me_id: str | None) -> bool:
    """True when the posted status reaches exactly the conversation's participants, so it
    joins that conversation (otherwise the server started another one)."""
    participants = {a.id for a in row.accounts if a.id != me_id}
    mentioned = {m.id for m in status.mentions if m.id != me_id}
    return participants == mentioned


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return datetime.now(UTC)
