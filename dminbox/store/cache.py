"""`Cache`: one account's store behind one object, delegating to the modules that own the SQL.

- `db`: the file, its schema and migrations, recovery from damage;
- `entities`: conversations, statuses, accounts, threads, pruning;
- `paging`: the paging frontier and the app's small values;
- `outbox`: the durable queue of actions;
- `drafts`: what the user was writing;
- `search`: finding conversations in the whole cache (`find_index` keeps it in step).

Every call is short and synchronous, and may wait for another process's lock:
the app makes them from one worker thread at a time, off the UI's event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dminbox.find_query import FIND_LIMIT, Matches
from dminbox.models import Account, Conversation, Status
from dminbox.store.db import Database
from dminbox.store.drafts import Drafts
from dminbox.store.entities import Entities
from dminbox.store.outbox import Outbox, QueuedAction
from dminbox.store.paging import Paging, PagingState
from dminbox.store.search import Search

__all__ = ["Cache"]


class Cache:
    """One account's SQLite cache. Every write is one short transaction.

    Each method is documented where its SQL is: `Entities`, `Paging`, `Outbox`.
    """

    def __init__(self, database: Database, *, limit: int = 5000) -> None:
        self._database = database
        self._entities = Entities(database, limit)
        self._paging = Paging(database)
        self._outbox = Outbox(database)
        self._drafts = Drafts(database)
        self._search = Search(database)

    @classmethod
    def open(cls, path: Path | None, *, limit: int = 5000) -> Cache:
        """Opens (or creates) the cache at `path`; None keeps it in memory only.

        A corrupt, truncated or foreign file is moved aside and a new cache is
        made; `notice` then says so in one line.
        """
        return cls(Database.open(path), limit=limit)

    def close(self) -> None:
        self._database.close()

    @property
    def path(self) -> Path | None:
        """The file; None for a cache in memory."""
        return self._database.path

    @property
    def notice(self) -> str | None:
        """One line for the user when the file had to be moved aside, else None."""
        return self._database.notice

    @notice.setter
    def notice(self, value: str | None) -> None:
        self._database.notice = value

    @property
    def limit(self) -> int:
        """The most conversations kept after pruning."""
        return self._entities.limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._entities.limit = value

    # -- entities ------------------------------------------------------------------

    def put_conversations(
        self, rows: Iterable[dict[str, Any]], *, page_url: str | None = None
    ) -> None:
        self._entities.put_conversations(rows, page_url=page_url)

    def conversations(self, *, after: str | None = None, limit: int = 100) -> list[Conversation]:
        return self._entities.conversations(after=after, limit=limit)

    def conversation(self, conversation_id: str) -> Conversation | None:
        return self._entities.conversation(conversation_id)

    def raw_conversations(
        self, *, unread_only: bool = False, limit: int = 200
    ) -> list[dict[str, Any]]:
        return self._entities.raw_conversations(unread_only=unread_only, limit=limit)

    def ids_and_activity(self, limit: int) -> list[tuple[str, str]]:
        return self._entities.ids_and_activity(limit)

    def count(self) -> int:
        return self._entities.count()

    def unread_count(self) -> int:
        return self._entities.unread_count()

    def set_unread(self, conversation_id: str, unread: bool) -> None:
        self._entities.set_unread(conversation_id, unread)

    def delete_conversation(self, conversation_id: str) -> None:
        self._entities.delete_conversations([conversation_id])

    def delete_conversations(self, ids: list[str]) -> None:
        self._entities.delete_conversations(ids)

    def put_thread(self, conversation_id: str, statuses: Iterable[dict[str, Any]]) -> None:
        self._entities.put_thread(conversation_id, statuses)

    def thread(self, conversation_id: str) -> list[Status]:
        return self._entities.thread(conversation_id)

    def forget_status(self, status_id: str) -> None:
        self._entities.forget_status(status_id)

    def prune(self) -> int:
        return self._entities.prune()

    # -- state and paging ----------------------------------------------------------

    def get(self, key: str) -> str | None:
        return self._paging.get(key)

    def set(self, **values: str | None) -> None:
        self._paging.set(**values)

    def paging(self) -> PagingState:
        return self._paging.paging()

    def set_paging(self, state: PagingState) -> None:
        self._paging.set_paging(state)

    def page_read(self, url: str | None) -> None:
        self._paging.page_read(url)

    # -- the outbox ----------------------------------------------------------------

    def enqueue(
        self,
        action: str,
        conversation_id: str,
        *,
        not_before: float = 0.0,
        snapshot: Conversation | None = None,
        payload: dict[str, Any] | None = None,
        draft_key: str | None = None,
    ) -> int:
        return self._outbox.enqueue(
            action,
            conversation_id,
            not_before=not_before,
            snapshot=snapshot,
            payload=payload,
            draft_key=draft_key,
        )

    def sent(self, seq: int, status: dict[str, Any], conversation: dict[str, Any] | None) -> None:
        self._outbox.sent(seq, status, conversation)

    def refused(self, seq: int, draft_key: str, draft: dict[str, Any]) -> None:
        self._outbox.refused(seq, draft_key, draft)

    def cancel(self, seq: int) -> QueuedAction | None:
        return self._outbox.cancel(seq)

    def unhide(self, action: QueuedAction) -> None:
        self._outbox.unhide(action)

    def queued(self) -> list[QueuedAction]:
        return self._outbox.queued()

    def is_queued(self, seq: int) -> bool:
        return self._outbox.is_queued(seq)

    def done(self, seq: int) -> None:
        self._outbox.done(seq)

    def failed(self, seq: int, error: str, not_before: float | None = None) -> None:
        self._outbox.failed(seq, error, not_before)

    def set_not_before(self, seq: int, when: float) -> None:
        self._outbox.set_not_before(seq, when)

    # -- drafts --------------------------------------------------------------------

    def draft(self, key: str) -> dict[str, Any] | None:
        return self._drafts.draft(key)

    def save_draft(self, key: str, data: dict[str, Any] | None) -> None:
        self._drafts.save_draft(key, data)

    def draft_keys(self) -> list[str]:
        return self._drafts.draft_keys()

    # -- finding -------------------------------------------------------------------------

    def search(self, query: str, limit: int = FIND_LIMIT) -> Matches:
        return self._search.search(query, limit)

    # -- accounts --------------------------------------------------------------------

    def known_accounts(self, prefix: str, limit: int = 10) -> list[Account]:
        return self._entities.known_accounts(prefix, limit)

    def account_by_acct(self, acct: str) -> Account | None:
        return self._entities.account_by_acct(acct)
