"""The entity store: conversations, the statuses of every thread read, their accounts.

Entities are kept as the server sent them (JSON) and parsed on the way out,
a screenful at a time, with `from_stored` (no pydantic): reading the first
screen costs the same for 100 or 100,000 rows. Conversations are ordered by
an activity key (the last status's time in UTC, then the id), read through an
index, newest first.

The cache keeps at most `limit` conversations: past it (with some slack, so
the cost is paid once in many pages) the oldest go, with their threads and
the statuses and accounts nothing else uses.

Every write keeps the find index in step (`find_index`), in its own transaction.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dminbox.models import Account, Conversation, Status
from dminbox.store import find_index, paging
from dminbox.store.db import Database, Part, recovering

__all__ = ["PRUNE_SLACK", "Entities"]

PRUNE_SLACK = 100
"""Rows allowed over the limit before pruning (at least; a tenth of the limit for large
limits), so pruning is paid once in many pages, not on every write."""

_Row = tuple[str, str, int, str | None]
"""A conversation as read: id, its own JSON, unread, its last status's JSON."""
_SELECT = (
    "SELECT c.id, c.json, c.unread, s.json FROM conversations c"
    " LEFT JOIN statuses s ON s.id = c.last_status_id"
)
_NEWEST_FIRST = " ORDER BY c.activity DESC, c.id DESC"
_CHUNK = 500
"""Ids per `IN (...)` list, well below SQLite's limit on bound parameters."""


class Entities(Part):
    """Conversations, statuses, accounts and threads, and how many are kept."""

    def __init__(self, database: Database, limit: int = 5000) -> None:
        super().__init__(database)
        self.limit = limit
        """The most conversations kept (after pruning)."""

    # -- conversations ---------------------------------------------------------------

    @recovering
    def put_conversations(
        self, rows: Iterable[dict[str, Any]], *, page_url: str | None = None
    ) -> None:
        """Stores conversations as the server sent them (merged by id), in the page's order."""
        rows = list(rows)
        activities = _page_activities(rows)
        with self.database.write() as db:
            for row, activity in zip(rows, activities, strict=True):
                put_conversation(db, row, page_url, activity)
        self._prune_if_needed()

    @recovering
    def conversations(self, *, after: str | None = None, limit: int = 100) -> list[Conversation]:
        """Up to `limit` conversations, newest first, starting after the one with id `after`."""
        if after is None:
            rows = self.db.execute(
                f"{_SELECT} WHERE c.hidden = 0{_NEWEST_FIRST} LIMIT ?", (limit,)
            ).fetchall()
        else:
            anchor = self.db.execute(
                "SELECT activity FROM conversations WHERE id = ?", (after,)
            ).fetchone()
            if anchor is None:
                return []
            rows = self.db.execute(
                f"{_SELECT} WHERE c.hidden = 0 AND (c.activity, c.id) < (?, ?){_NEWEST_FIRST}"
                " LIMIT ?",
                (anchor[0], after, limit),
            ).fetchall()
        return _parsed(_raw(self.db, rows))

    @recovering
    def conversation(self, conversation_id: str) -> Conversation | None:
        rows = self.db.execute(
            f"{_SELECT} WHERE c.id = ? AND c.hidden = 0", (conversation_id,)
        ).fetchall()
        found = _parsed(_raw(self.db, rows))
        return found[0] if found else None

    @recovering
    def raw_conversations(
        self, *, unread_only: bool = False, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Conversations as the API gives them, newest first (for `dminbox list --json`)."""
        where = " WHERE c.hidden = 0" + (" AND c.unread = 1" if unread_only else "")
        rows = self.db.execute(f"{_SELECT}{where}{_NEWEST_FIRST} LIMIT ?", (limit,)).fetchall()
        return _raw(self.db, rows)

    @recovering
    def ids_and_activity(self, limit: int) -> list[tuple[str, str]]:
        """(id, activity key) of the newest `limit` shown conversations, newest first:
        enough to check the cache against the server's first page without parsing."""
        rows = self.db.execute(
            "SELECT id, activity FROM conversations WHERE hidden = 0"
            " ORDER BY activity DESC, id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [(str(row[0]), str(row[1])) for row in rows]

    @recovering
    def count(self) -> int:
        """Conversations shown (a removal waiting for the server's answer is not)."""
        result: int = self.db.execute(
            "SELECT count(*) FROM conversations WHERE hidden = 0"
        ).fetchone()[0]
        return result

    @recovering
    def unread_count(self) -> int:
        result: int = self.db.execute(
            "SELECT count(*) FROM conversations WHERE unread = 1 AND hidden = 0"
        ).fetchone()[0]
        return result

    @recovering
    def set_unread(self, conversation_id: str, unread: bool) -> None:
        with self.database.write() as db:
            db.execute(
                "UPDATE conversations SET unread = ? WHERE id = ?", (int(unread), conversation_id)
            )

    @recovering
    def delete_conversations(self, ids: list[str]) -> None:
        """Deletes conversations (and their place in threads), all in one transaction."""
        with self.database.write() as db:
            delete(db, ids)

    # -- threads ---------------------------------------------------------------------

    @recovering
    def put_thread(self, conversation_id: str, statuses: Iterable[dict[str, Any]]) -> None:
        with self.database.write() as db:
            for status in statuses:
                put_status(db, status, conversation_id)

    @recovering
    def thread(self, conversation_id: str) -> list[Status]:
        """Every cached status of the conversation's thread, oldest first."""
        rows = self.db.execute(
            "SELECT s.json FROM threads t JOIN statuses s ON s.id = t.status_id"
            " WHERE t.conversation_id = ? ORDER BY s.created_at, s.id",
            (conversation_id,),
        ).fetchall()
        statuses: list[Status] = []
        for (raw,) in rows:
            with contextlib.suppress(ValueError):
                statuses.append(Status.from_stored(json.loads(raw)))
        return statuses

    @recovering
    def forget_status(self, status_id: str) -> None:
        """A status deleted on the server: out of every thread and the cache."""
        with self.database.write() as db:
            find_index.status_forgotten(db, status_id)
            db.execute("DELETE FROM threads WHERE status_id = ?", (status_id,))
            db.execute("DELETE FROM statuses WHERE id = ?", (status_id,))

    # -- accounts --------------------------------------------------------------------

    @recovering
    def known_accounts(self, prefix: str, limit: int = 10) -> list[Account]:
        """Accounts seen in the cache whose acct or name starts with `prefix`, those
        written to most often first: what the To: field completes."""
        pattern = prefix.lstrip("@").replace("\\", "\\\\").replace("%", "\\%")
        pattern = pattern.replace("_", "\\_") + "%"
        rows = self.db.execute(
            "SELECT a.json FROM accounts a LEFT JOIN participants p ON p.account_id = a.id"
            " WHERE json_extract(a.json, '$.acct') LIKE ? ESCAPE '\\'"
            " OR json_extract(a.json, '$.display_name') LIKE ? ESCAPE '\\'"
            " GROUP BY a.id ORDER BY count(p.conversation_id) DESC, json_extract(a.json, '$.acct')"
            " LIMIT ?",
            (pattern, pattern, limit),
        ).fetchall()
        return _accounts(rows)

    @recovering
    def account_by_acct(self, acct: str) -> Account | None:
        """The cached account with exactly this acct (case-insensitive), if any."""
        rows = self.db.execute(
            "SELECT json FROM accounts WHERE lower(json_extract(json, '$.acct')) = ? LIMIT 1",
            (acct.lstrip("@").lower(),),
        ).fetchall()
        found = _accounts(rows)
        return found[0] if found else None

    # -- size ------------------------------------------------------------------------

    def _prune_if_needed(self) -> None:
        # A bare count(*) is SQLite's btree count: 0.02 ms at 100,000 rows.
        rows = self.db.execute("SELECT count(*) FROM conversations").fetchone()[0]
        if rows > self.limit + max(PRUNE_SLACK, self.limit // 10):
            self.prune()

    @recovering
    def prune(self) -> int:
        """Drops the oldest conversations beyond the limit, their threads and orphans;
        paging will fetch the first dropped page again. Returns how many went."""
        with self.database.write() as db:
            doomed = db.execute(
                "SELECT id, page_url FROM conversations ORDER BY activity DESC, id DESC"
                " LIMIT -1 OFFSET ?",
                (self.limit,),
            ).fetchall()
            if not doomed:
                return 0
            delete(db, [row[0] for row in doomed])
            db.execute("DELETE FROM statuses WHERE id NOT IN (SELECT status_id FROM threads)")
            db.execute(
                "DELETE FROM accounts WHERE id NOT IN (SELECT account_id FROM participants)"
                " AND id NOT IN (SELECT account_id FROM statuses)"
            )
            paging.after_prune(db, doomed[0][1])
            return len(doomed)


# -- inside a transaction (the outbox uses these too) --------------------------------


def put_conversation(
    db: sqlite3.Connection,
    row: dict[str, Any],
    page_url: str | None,
    activity: str | None = None,
) -> None:
    """Stores one conversation, its accounts and last status; `activity` None
    takes the key from the last status alone."""
    conversation_id = str(row["id"])
    accounts = [a for a in row.get("accounts") or [] if isinstance(a, dict) and "id" in a]
    last = row.get("last_status")
    status = last if isinstance(last, dict) else None
    core = {k: v for k, v in row.items() if k not in ("accounts", "last_status")}
    db.execute(
        "INSERT INTO conversations (id, activity, unread, last_status_id, page_url, json)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " activity = excluded.activity, unread = excluded.unread,"
        " last_status_id = excluded.last_status_id,"
        " page_url = coalesce(excluded.page_url, conversations.page_url),"
        " json = excluded.json",
        (
            conversation_id,
            _activity(row) if activity is None else activity,
            int(bool(row.get("unread"))),
            str(status["id"]) if status else None,
            page_url,
            json.dumps(core),
        ),
    )
    db.execute("DELETE FROM participants WHERE conversation_id = ?", (conversation_id,))
    for position, account in enumerate(accounts):
        _put_account(db, account)
        db.execute(
            "INSERT INTO participants VALUES (?, ?, ?)",
            (conversation_id, position, str(account["id"])),
        )
    if status is not None:
        put_status(db, status, conversation_id)
    find_index.conversation_written(db, conversation_id, accounts)


def put_status(db: sqlite3.Connection, status: dict[str, Any], conversation_id: str) -> None:
    """Stores one status (and its author) as part of the conversation's thread."""
    author = status.get("account")
    account: dict[str, Any] = author if isinstance(author, dict) else {}
    if account.get("id") is not None:
        _put_account(db, account)
    status_id = str(status["id"])
    old = db.execute("SELECT json FROM statuses WHERE id = ?", (status_id,)).fetchone()
    stored = json.dumps(status)
    db.execute(
        "INSERT OR REPLACE INTO statuses VALUES (?, ?, ?, ?)",
        (status_id, str(account.get("id", "")), str(status.get("created_at", "")), stored),
    )
    linked = db.execute("INSERT OR IGNORE INTO threads VALUES (?, ?)", (conversation_id, status_id))
    # The find index, in this same transaction (an unchanged status costs it nothing).
    find_index.status_written(
        db, conversation_id, status, old[0] if old else None, stored, linked.rowcount > 0
    )


def delete(db: sqlite3.Connection, ids: list[str]) -> None:
    """Deletes conversations, their participants and their threads (statuses and
    accounts stay until the next prune, which drops what nothing uses)."""
    params = [(conversation_id,) for conversation_id in ids]
    db.executemany("DELETE FROM conversations WHERE id = ?", params)
    db.executemany("DELETE FROM participants WHERE conversation_id = ?", params)
    db.executemany("DELETE FROM threads WHERE conversation_id = ?", params)
    find_index.forget(db, ids)


def set_hidden(db: sqlite3.Connection, conversation_id: str, hidden: bool) -> bool:
    """Hides a conversation (a removal not yet confirmed) or shows it again; False if
    there is no such row."""
    cursor = db.execute(
        "UPDATE conversations SET hidden = ? WHERE id = ?", (int(hidden), conversation_id)
    )
    if cursor.rowcount > 0:
        find_index.hidden_changed(db, conversation_id, hidden)
    return cursor.rowcount > 0


def mark_read(db: sqlite3.Connection, conversation_id: str) -> None:
    db.execute("UPDATE conversations SET unread = 0 WHERE id = ?", (conversation_id,))


def _put_account(db: sqlite3.Connection, account: dict[str, Any]) -> None:
    db.execute(
        "INSERT OR REPLACE INTO accounts VALUES (?, ?)",
        (str(account["id"]), json.dumps(account)),
    )


# -- reading -------------------------------------------------------------------------


def _raw(db: sqlite3.Connection, rows: list[_Row]) -> list[dict[str, Any]]:
    """Conversations as the API gives them: with their accounts (in order) and last status.

    The accounts of every row come in one query per `_CHUNK` rows, not one per
    row. A row whose JSON no longer parses (damage) is left out.
    """
    accounts: dict[str, list[dict[str, Any]] | None] = {row[0]: [] for row in rows}
    ids = list(accounts)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found = db.execute(
            "SELECT p.conversation_id, a.json FROM participants p"
            " JOIN accounts a ON a.id = p.account_id"
            f" WHERE p.conversation_id IN ({', '.join('?' * len(chunk))})"
            " ORDER BY p.conversation_id, p.position",
            chunk,
        )
        for conversation_id, account in found:
            people = accounts[conversation_id]
            try:
                if people is not None:
                    people.append(json.loads(account))
            except ValueError:
                accounts[conversation_id] = None
    result = []
    for conversation_id, core, unread, status in rows:
        people = accounts[conversation_id]
        try:
            if people is None:
                continue
            data = json.loads(core)
            data["unread"] = bool(unread)
            data["accounts"] = people
            data["last_status"] = json.loads(status) if status is not None else None
        except (ValueError, TypeError):
            continue
        result.append(data)
    return result


def _parsed(rows: list[dict[str, Any]]) -> list[Conversation]:
    """Entities from stored JSON; a row that no longer fits (damage) is left out."""
    found: list[Conversation] = []
    for row in rows:
        with contextlib.suppress(ValueError):
            found.append(Conversation.from_stored(row))
    return found


def _activity(conversation: dict[str, Any]) -> str:
    """The sort key: the last status's time in UTC, to the microsecond; "" without one."""
    status = conversation.get("last_status") or {}
    created = status.get("created_at") if isinstance(status, dict) else None
    if not isinstance(created, str):
        return ""
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return ""


def _page_activities(rows: list[dict[str, Any]]) -> list[str]:
    """Each row's sort key; a row with no last status keeps its place in the page.

    Such a row sorts just below the dated row above it (`…Z` becomes `…Yz`,
    `…Yy`, … for each in turn), or, at the top of a page, just above the first
    dated row below it (`…Z~z`, `…Z~y`, …).
    """
    keys = [_activity(row) for row in rows]
    result = list(keys)
    above = ""
    run = 0
    for index, key in enumerate(keys):
        if key:
            above, run = key, 0
        elif above:
            result[index] = above[:-1] + "Y" + chr(ord("z") - min(run, 25))
            run += 1
    below_run = 0
    for index, key in enumerate(keys):
        if key:
            break
        below = next((k for k in keys[index:] if k), "")
        if below:
            result[index] = below + "~" + chr(ord("z") - min(below_run, 25))
            below_run += 1
    return result


def _accounts(rows: list[tuple[str]]) -> list[Account]:
    accounts: list[Account] = []
    for (raw,) in rows:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            data = json.loads(raw)
            if isinstance(data, dict):
                accounts.append(Account.from_stored(data))
    return accounts
