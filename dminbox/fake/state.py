"""The fake server's data and the rules that change it: accounts, statuses, conversation rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from dminbox.fake.content import guess_language, render_status_html
from dminbox.fake.ids import CursorKey, IdMaker

__all__ = ["AccountRecord", "ConversationRow", "InboxState", "StateWatcher", "StatusRecord"]

# Accounts made without a date are spread from here, a day apart, so ids are repeatable.
ACCOUNTS_SINCE = datetime(2022, 11, 1, 12, tzinfo=UTC)


@dataclass
class AccountRecord:
    id: str
    username: str
    display_name: str
    domain: str | None
    created_at: datetime
    note: str = ""
    bot: bool = False
    local_base_url: str = ""
    mention_label: str = ""

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.domain}" if self.domain else self.username

    @property
    def origin(self) -> str:
        return f"https://{self.domain}" if self.domain else self.local_base_url

    @property
    def url(self) -> str:
        return f"{self.origin}/@{self.username}"


@dataclass
class StatusRecord:
    id: str
    account_id: str
    text: str
    content: str
    created_at: datetime
    visibility: str
    thread_id: str
    mention_ids: list[str] = field(default_factory=list)
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    spoiler_text: str = ""
    media: list[dict] = field(default_factory=list)
    language: str | None = "en"


@dataclass
class ConversationRow:
    """One owner's view of one thread with one set of other people."""

    id: str
    owner_id: str
    thread_id: str
    participant_ids: tuple[str, ...]
    status_ids: list[str] = field(default_factory=list)
    unread: bool = False

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.owner_id, self.thread_id, self.participant_ids)

    @property
    def last_status_id(self) -> str | None:
        return self.status_ids[-1] if self.status_ids else None


class StateWatcher(Protocol):
    """Told of the changes a streaming client hears about (fake/stream.py)."""

    def row_changed(self, row: ConversationRow) -> None:
        """A row was created or saved: a new status in it, one taken out, read or unread."""

    def status_deleted(self, status: StatusRecord) -> None:
        """A direct status is gone; its rows have not been changed yet."""


class InboxState:
    """Everything the fake server knows, and the rules from docs/mastodon.md that change it.

    Changes made through its methods are told to `watcher`; setting a row's
    fields directly (as tests that bend the rules do) tells nobody.
    """

    def __init__(self, flavour: str, base_url: str, seed: int = 0) -> None:
        self.flavour = flavour
        self.ids = IdMaker(flavour, random.Random(seed))
        self.accounts: dict[str, AccountRecord] = {}
        self.statuses: dict[str, StatusRecord] = {}
        self.replies: dict[str, list[str]] = {}
        self.rows: dict[str, ConversationRow] = {}
        self.remote_only: dict[str, AccountRecord] = {}
        """Accounts on other servers that this one has not fetched yet: lookup and search
        cannot see them until a search with resolve (or a mention in a post) fetches one."""
        self._row_by_key: dict[tuple[str, str, tuple[str, ...]], ConversationRow] = {}
        self._base_url = base_url
        self.watcher: StateWatcher | None = None

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        old, self._base_url = self._base_url, value.rstrip("/")
        for account in [*self.accounts.values(), *self.remote_only.values()]:
            account.local_base_url = self._base_url
        # Stored HTML links local accounts and hashtags: point them at the new address too.
        for status in self.statuses.values():
            status.content = status.content.replace(f'"{old}/', f'"{self._base_url}/')

    @property
    def local_domain(self) -> str:
        """The host (and port) of the base URL: `user@<it>` names a local account."""
        return self._base_url.split("://", 1)[-1].lower()

    def is_local(self, domain: str | None) -> bool:
        return not domain or domain.lower() == self.local_domain

    # Accounts

    def add_account(
        self,
        username: str,
        display_name: str = "",
        domain: str | None = None,
        *,
        created_at: datetime | None = None,
        note: str = "",
        bot: bool = False,
    ) -> AccountRecord:
        self._check_new(username, domain)
        account = self._record(username, display_name, domain, created_at, note, bot)
        self.accounts[account.id] = account
        self._refresh_mention_labels(username)
        return account

    def add_remote_account(
        self,
        username: str,
        domain: str,
        display_name: str = "",
        *,
        created_at: datetime | None = None,
        note: str = "",
        bot: bool = False,
    ) -> AccountRecord:
        """An account another server has, that this one will know only once it fetches it."""
        if self.is_local(domain):
            raise ValueError(f"{domain!r} is this server's own domain, not a remote one")
        self._check_new(username, domain)
        account = self._record(username, display_name, domain, created_at, note, bot)
        self.remote_only[account.id] = account
        return account

    def resolve(self, username: str, domain: str | None) -> AccountRecord | None:
        """What a WebFinger fetch finds: the account when known, or a remote-only one,
        which is known from then on; None when no server has it."""
        known = self.find_account(username, domain)
        if known is not None or self.is_local(domain):
            return known
        fetched = self._match(list(self.remote_only.values()), username, domain, local_only=False)
        if fetched is None:
            return None
        del self.remote_only[fetched.id]
        self.accounts[fetched.id] = fetched
        self._refresh_mention_labels(fetched.username)
        return fetched

    def _check_new(self, username: str, domain: str | None) -> None:
        remote = list(self.remote_only.values())
        if self.find_account(username, domain, local_only=domain is None) or (
            not self.is_local(domain) and self._match(remote, username, domain, local_only=False)
        ):
            raise ValueError(f"an account @{username}@{domain or 'local'} exists already")

    def _record(
        self,
        username: str,
        display_name: str,
        domain: str | None,
        created_at: datetime | None,
        note: str,
        bot: bool,
    ) -> AccountRecord:
        count = len(self.accounts) + len(self.remote_only)
        when = created_at or ACCOUNTS_SINCE + timedelta(days=count)
        return AccountRecord(
            id=self.ids.entity_id(when),
            username=username,
            display_name=display_name,
            domain=domain,
            created_at=when,
            note=note,
            bot=bot,
            local_base_url=self._base_url,
        )

    def _refresh_mention_labels(self, username: str) -> None:
        # Mastodon shows the short name unless another known account shares it.
        namesakes = [a for a in self.accounts.values() if a.username.lower() == username.lower()]
        for account in namesakes:
            account.mention_label = account.acct if len(namesakes) > 1 else account.username

    def find_account(
        self, username: str, domain: str | None, *, local_only: bool = True
    ) -> AccountRecord | None:
        """The account `@username@domain` names; without a domain, a local one."""
        return self._match(list(self.accounts.values()), username, domain, local_only=local_only)

    def _match(
        self,
        candidates: list[AccountRecord],
        username: str,
        domain: str | None,
        *,
        local_only: bool,
    ) -> AccountRecord | None:
        if self.is_local(domain):
            domain = None
        named = [a for a in candidates if a.username.lower() == username.lower()]
        if domain:
            return next((a for a in named if (a.domain or "").lower() == domain.lower()), None)
        local = next((a for a in named if a.domain is None), None)
        if local or local_only:
            return local
        return named[0] if named else None

    # Statuses

    def can_see(self, viewer_id: str, status: StatusRecord) -> bool:
        return (
            status.visibility in ("public", "unlisted")
            or status.account_id == viewer_id
            or viewer_id in status.mention_ids
        )

    def post(
        self,
        author_id: str,
        text: str,
        *,
        mention_ids: list[str],
        visibility: str = "direct",
        in_reply_to_id: str | None = None,
        spoiler_text: str = "",
        media: list[dict] | None = None,
        created_at: datetime | None = None,
        content_html: str | None = None,
    ) -> StatusRecord:
        """Store a status and file it in every participant's conversation row."""
        parent = self.statuses.get(in_reply_to_id) if in_reply_to_id else None
        if in_reply_to_id and parent is None:
            raise LookupError(in_reply_to_id)
        when = created_at or datetime.now(UTC)
        status_id = self.ids.status_id(when)
        mentioned = list(dict.fromkeys(m for m in mention_ids if m in self.accounts))
        recipients = [self.accounts[account_id] for account_id in mentioned]

        def resolve(username: str, domain: str | None) -> AccountRecord | None:
            # Only the recipients become links: they are exactly the status's mentions.
            return self._match(recipients, username, domain, local_only=False)

        status = StatusRecord(
            id=status_id,
            account_id=author_id,
            text=text,
            created_at=when,
            content=content_html
            if content_html is not None
            else render_status_html(text, resolve, self._base_url),
            visibility=visibility,
            thread_id=parent.thread_id if parent else status_id,
            mention_ids=mentioned,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            spoiler_text=spoiler_text,
            media=[self._media(item, when) for item in media or []],
            language=guess_language(text),
        )
        self.statuses[status.id] = status
        if parent:
            self.replies.setdefault(parent.id, []).append(status.id)
        if visibility == "direct":
            self._file_in_conversations(status)
        return status

    def _media(self, given: dict, when: datetime) -> dict:
        media: dict[str, object] = {
            "id": self.ids.entity_id(when),
            "type": "image",
            "url": None,
            "preview_url": None,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": {},
            "description": None,
            "blurhash": None,
        }
        media.update(given)
        return media

    def _file_in_conversations(self, status: StatusRecord) -> None:
        everyone = list(dict.fromkeys([status.account_id, *status.mention_ids]))
        for owner_id in everyone:
            others = tuple(sorted((p for p in everyone if p != owner_id), key=self.ids.cursor_key))
            key = (owner_id, status.thread_id, others)
            row = self._row_by_key.get(key)
            if row is None:
                row = ConversationRow(
                    id=self.ids.row_id(status.created_at),
                    owner_id=owner_id,
                    thread_id=status.thread_id,
                    participant_ids=others,
                )
                self.rows[row.id] = row
                self._row_by_key[key] = row
            row.status_ids.append(status.id)
            row.status_ids.sort(key=self.ids.cursor_key)
            if owner_id != status.account_id:
                row.unread = True
            elif self.flavour == "mastodon":
                # Mastodon marks your own reply as read; GoToSocial leaves the flag alone.
                row.unread = False
            if self.watcher is not None:
                self.watcher.row_changed(row)

    def delete_status(self, status_id: str) -> StatusRecord:
        """Remove a status; its rows fall back to their previous status or go."""
        status = self.statuses.pop(status_id)
        if status.in_reply_to_id in self.replies:
            self.replies[status.in_reply_to_id].remove(status_id)
        if self.watcher is not None and status.visibility == "direct":
            self.watcher.status_deleted(status)
        for row in list(self.rows.values()):
            if status_id in row.status_ids:
                row.status_ids.remove(status_id)
                if not row.status_ids:
                    self.forget_row(row)  # a destroyed row is never streamed
                elif self.watcher is not None:
                    self.watcher.row_changed(row)  # saved with its previous status
        return status

    def context(
        self, status: StatusRecord, viewer_id: str
    ) -> tuple[list[StatusRecord], list[StatusRecord]]:
        """Ancestors oldest first and descendants depth first, as the viewer may see them."""
        ancestors: list[StatusRecord] = []
        parent = self.statuses.get(status.in_reply_to_id or "")
        while parent is not None:
            if self.can_see(viewer_id, parent):
                ancestors.append(parent)
            parent = self.statuses.get(parent.in_reply_to_id or "")
        descendants: list[StatusRecord] = []
        pending = list(reversed(self.replies.get(status.id, [])))
        while pending:
            child = self.statuses[pending.pop()]
            if self.can_see(viewer_id, child):
                descendants.append(child)
            pending.extend(reversed(self.replies.get(child.id, [])))
        return list(reversed(ancestors)), descendants

    # Conversation rows

    def mark(self, row: ConversationRow, *, unread: bool) -> None:
        """Mark a row read or unread, as POST .../read and .../unread do."""
        row.unread = unread
        if self.watcher is not None:
            self.watcher.row_changed(row)

    def forget_row(self, row: ConversationRow) -> None:
        """Drop a row: a later message in its thread starts a new row with a new id."""
        self.rows.pop(row.id, None)
        if self._row_by_key.get(row.key) is row:
            del self._row_by_key[row.key]

    def rows_of(self, owner_id: str) -> list[ConversationRow]:
        """The owner's rows, newest last status first; rows without a status last."""
        mine = [row for row in self.rows.values() if row.owner_id == owner_id]
        dated = [row for row in mine if row.last_status_id]
        dated.sort(key=self._row_key, reverse=True)
        return dated + [row for row in mine if not row.last_status_id]

    def _row_key(self, row: ConversationRow) -> CursorKey:
        return self.ids.cursor_key(row.last_status_id or "")

    def page(
        self,
        owner_id: str,
        *,
        limit: int,
        max_id: str | None = None,
        since_id: str | None = None,
        min_id: str | None = None,
    ) -> list[ConversationRow]:
        """A page of rows, chosen the way Mastodon's paginate_by_id does.

        With `min_id` the rows just above the cursor come back oldest first (the
        caller flips them for Mastodon); otherwise the newest rows below `max_id`
        and above `since_id`, newest first.
        """
        key = self.ids.cursor_key
        rows = self.rows_of(owner_id)
        dated = [row for row in rows if row.last_status_id]
        undated = [row for row in rows if not row.last_status_id]
        if max_id is not None:
            dated = [row for row in dated if self._row_key(row) < key(max_id)]
        if min_id is not None:
            newer = [row for row in dated if self._row_key(row) > key(min_id)]
            return list(reversed(newer))[:limit]
        if since_id is not None:
            return [row for row in dated if self._row_key(row) > key(since_id)][:limit]
        return (dated + undated)[:limit]
