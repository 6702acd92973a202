"""The local cache: one SQLite database per account, so the inbox opens at once and offline.

Conversations, the statuses of every thread read, their accounts, the paging
frontier and the queue of actions not yet sent live here. Entities are kept
as the server sent them (JSON) and parsed on the way out, a screenful at a
time: reading the first screen costs the same for 100 or 100,000 rows.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dminbox.models import Conversation, Status

__all__ = [
    "Cache",
    "PagingState",
    "QueuedAction",
    "SCHEMA_VERSION",
    "cache_path",
    "delete_account_cache",
]

SCHEMA_VERSION = 2
APPLICATION_ID = 0x444D4942
"""Written into the file header ("DMIB"), so a foreign SQLite file is never taken for ours."""
PRUNE_SLACK = 100
"""Rows allowed over the limit before pruning (at least; a tenth of the limit for large
limits), so pruning is paid once in many pages, not on every write."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    activity TEXT NOT NULL,
    unread INTEGER NOT NULL,
    last_status_id TEXT,
    page_url TEXT,
    json TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_by_activity ON conversations (activity DESC, id DESC);
DROP INDEX IF EXISTS conversations_unread;
CREATE INDEX IF NOT EXISTS conversations_unread_shown ON conversations (unread)
    WHERE unread = 1 AND hidden = 0;
CREATE TABLE IF NOT EXISTS participants (
    conversation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
CREATE INDEX IF NOT EXISTS participants_by_account ON participants (account_id);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statuses (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS threads (
    conversation_id TEXT NOT NULL,
    status_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, status_id)
);
CREATE INDEX IF NOT EXISTS threads_by_status ON threads (status_id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    snapshot TEXT
);
"""


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in text) or "_"


def cache_path(instance: str, account_id: str) -> Path:
    """Where the cache of one account lives: `<cache dir>/<host>/<account id>.sqlite3`."""
    from dminbox.paths import cache_dir

    host = instance.split("://", 1)[-1]
    return cache_dir() / _safe_name(host) / f"{_safe_name(account_id)}.sqlite3"


def last_account_file(instance: str) -> Path:
    """Maps token fingerprints to account ids on this instance, for an offline start
    with a bare --token (see `dminbox.session.known_account`)."""
    return cache_path(instance, "x").parent / "last-account"


def delete_account_cache(instance: str, account_id: str) -> bool:
    """Deletes one account's cache files; True if there was anything to delete."""
    path = cache_path(instance, account_id)
    removed = False
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
            removed = True
    pointer = last_account_file(instance)
    with contextlib.suppress(OSError):
        lines = pointer.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.partition(" ")[2].strip() != account_id]
        if kept != lines:
            pointer.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    return removed


@dataclass(frozen=True)
class PagingState:
    next_url: str | None = None
    """The frontier: where the next older page is."""
    prev_url: str | None = None
    """Where conversations newer than the newest cached one are."""
    reached_end: bool = False
    started: bool = False


@dataclass(frozen=True)
class QueuedAction:
    """An action the user took that the server has not yet confirmed."""

    seq: int
    action: str
    """`read` or `remove`."""
    conversation_id: str
    not_before: float
    attempts: int
    last_error: str | None
    snapshot: Conversation | None
    """For a removal, the row as it was, to put back if the server refuses."""


class CacheError(Exception):
    """The file is not a dminbox cache we can use."""


def _activity(conversation: dict[str, Any]) -> str:
    status = conversation.get("last_status") or {}
    created = status.get("created_at") if isinstance(status, dict) else None
    if not isinstance(created, str):
        return ""
    with contextlib.suppress(ValueError):
        from datetime import UTC, datetime

        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return ""


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _recovering(method: _Method) -> _Method:
    """Damage found mid-run (a malformed page) rebuilds the cache instead of crashing.

    Only plain DatabaseError means damage: a busy file or a broken constraint
    is raised as it is.
    """

    @functools.wraps(method)
    def guarded(self: Cache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            if type(error) is not sqlite3.DatabaseError or self.path is None:
                raise
            self._rebuild(error)
            return method(self, *args, **kwargs)

    return guarded  # type: ignore[return-value]


class Cache:
    """One account's SQLite cache. Every write is one short transaction."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None, notice: str | None):
        self._db = connection
        self.path = path
        self.notice = notice
        """One line for the user when the file had to be moved aside, else None."""
        self.limit = 5000

    # -- opening -------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None, *, limit: int = 5000) -> Cache:
        """Opens (or creates) the cache at `path`; None keeps it in memory only.

        A corrupt, truncated or foreign file is moved aside and a new cache is
        made; `notice` then says so in one line.
        """
        if path is None:
            cache = cls(_connect(":memory:"), None, None)
            cache._migrate()
            cache.limit = limit
            return cache
        connection: sqlite3.Connection | None = None
        try:
            _private_folder(path.parent)
        except OSError as error:
            cache = cls(_connect(":memory:"), None, None)
            cache._migrate()
            cache.notice = f"Cannot use the cache folder ({error}); running without a cache."
            cache.limit = limit
            return cache
        try:
            connection = _connect(str(path))
            cache = cls(connection, path, None)
            cache._migrate()
        except (sqlite3.DatabaseError, CacheError) as error:
            if connection is not None:
                connection.close()
            if isinstance(error, CacheBusy) or _is_busy(error):
                cache = cls(_connect(":memory:"), None, None)
                cache._migrate()
                cache.notice = "The cache is busy (another dminbox?); running without it."
            else:
                cache = cls(sqlite3.connect(":memory:"), path, None)
                cache._rebuild(error)
        _private_files(path)
        cache.limit = limit
        return cache

    def _rebuild(self, error: Exception) -> None:
        """Moves the damaged file aside and starts a new, empty cache in its place."""
        assert self.path is not None
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        moved = _move_aside(self.path)
        self.notice = (
            f"The cache file was unreadable ({_reason(error)}); "
            f"moved aside to {moved.name} and rebuilt."
        )
        self._db = _connect(str(self.path))
        self._migrate()
        _private_files(self.path)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def _migrate(self) -> None:
        """Checks the file is ours and brings its schema up to date, in one transaction
        (so a second process creating the same cache at the same moment waits its turn)."""
        db = self._db
        with self._write():
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            if tables and app_id != APPLICATION_ID:
                raise CacheError("not a dminbox cache")
            if version > SCHEMA_VERSION:
                raise CacheError(f"made by a newer dminbox (schema {version})")
            if tables and version == 1:
                _migrate_1_to_2(db)
            _run_script(db, _SCHEMA)
            if app_id != APPLICATION_ID:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("SELECT id FROM conversations ORDER BY activity DESC LIMIT 1").fetchall()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: a writer waits its turn instead of failing as locked."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    # -- conversations ---------------------------------------------------------

    @_recovering
    def put_conversations(
        self, rows: Iterable[dict[str, Any]], *, page_url: str | None = None
    ) -> None:
        """Stores conversations as the server sent them (merged by id), in the page's order."""
        rows = list(rows)
        activities = _page_activities(rows)
        with self._write() as db:
            for row, activity in zip(rows, activities, strict=True):
                self._put_conversation(db, row, page_url, activity)
        self._prune_if_needed()

    def _put_conversation(
        self,
        db: sqlite3.Connection,
        row: dict[str, Any],
        page_url: str | None,
        activity: str | None = None,
    ) -> None:
        conversation_id = str(row["id"])
        accounts = [a for a in row.get("accounts") or [] if isinstance(a, dict) and "id" in a]
        status = row.get("last_status") if isinstance(row.get("last_status"), dict) else None
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
            self._put_account(db, account)
            db.execute(
                "INSERT INTO participants VALUES (?, ?, ?)",
                (conversation_id, position, str(account["id"])),
            )
        if status is not None:
            self._put_status(db, status, conversation_id)

    def _put_account(self, db: sqlite3.Connection, account: dict[str, Any]) -> None:
        db.execute(
            "INSERT OR REPLACE INTO accounts VALUES (?, ?)",
            (str(account["id"]), json.dumps(account)),
        )

    def _put_status(
        self, db: sqlite3.Connection, status: dict[str, Any], conversation_id: str
    ) -> None:
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        if account.get("id") is not None:
            self._put_account(db, account)
        db.execute(
            "INSERT OR REPLACE INTO statuses VALUES (?, ?, ?, ?)",
            (
                str(status["id"]),
                str(account.get("id", "")),
                str(status.get("created_at", "")),
                json.dumps(status),
            ),
        )
        db.execute(
            "INSERT OR IGNORE INTO threads VALUES (?, ?)", (conversation_id, str(status["id"]))
        )

    @_recovering
    def conversations(self, *, after: str | None = None, limit: int = 100) -> list[Conversation]:
        """Up to `limit` conversations, newest first, starting after the one with id `after`."""
        db = self._db
        if after is None:
            rows = db.execute(
                "SELECT id, json, last_status_id, unread FROM conversations"
                " WHERE hidden = 0 ORDER BY activity DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        else:
            anchor = db.execute(
                "SELECT activity FROM conversations WHERE id = ?", (after,)
            ).fetchone()
            if anchor is None:
                return []
            rows = db.execute(
                "SELECT id, json, last_status_id, unread FROM conversations"
                " WHERE hidden = 0 AND (activity, id) < (?, ?) ORDER BY activity DESC, id DESC"
                " LIMIT ?",
                (anchor[0], after, limit),
            ).fetchall()
        return self._assemble(rows)

    @_recovering
    def conversation(self, conversation_id: str) -> Conversation | None:
        rows = self._db.execute(
            "SELECT id, json, last_status_id, unread FROM conversations"
            " WHERE id = ? AND hidden = 0",
            (conversation_id,),
        ).fetchall()
        found = self._assemble(rows)
        return found[0] if found else None

    @_recovering
    def raw_conversations(self, *, unread_only: bool = False, limit: int = 200) -> list[dict]:
        """Conversations as the API gives them, newest first (for `dminbox list --json`)."""
        where = "WHERE hidden = 0" + (" AND unread = 1" if unread_only else "")
        rows = self._db.execute(
            f"SELECT id, json, last_status_id, unread FROM conversations {where}"
            " ORDER BY activity DESC, id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [self._raw(row) for row in rows]

    def _raw(self, row: tuple[str, str, str | None, int]) -> dict[str, Any]:
        conversation_id, core, last_status_id, unread = row
        data = json.loads(core)
        data["unread"] = bool(unread)
        accounts = self._db.execute(
            "SELECT a.json FROM participants p JOIN accounts a ON a.id = p.account_id"
            " WHERE p.conversation_id = ? ORDER BY p.position",
            (conversation_id,),
        ).fetchall()
        data["accounts"] = [json.loads(a[0]) for a in accounts]
        status = None
        if last_status_id is not None:
            found = self._db.execute(
                "SELECT json FROM statuses WHERE id = ?", (last_status_id,)
            ).fetchone()
            status = json.loads(found[0]) if found else None
        data["last_status"] = status
        return data

    def _assemble(self, rows: list[tuple[str, str, str | None, int]]) -> list[Conversation]:
        found: list[Conversation] = []
        for row in rows:
            with contextlib.suppress(ValueError):
                found.append(Conversation.from_stored(self._raw(row)))
        return found

    @_recovering
    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM conversations WHERE hidden = 0").fetchone()[0]

    @_recovering
    def unread_count(self) -> int:
        return self._db.execute(
            "SELECT count(*) FROM conversations WHERE unread = 1 AND hidden = 0"
        ).fetchone()[0]

    @_recovering
    def set_unread(self, conversation_id: str, unread: bool) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE conversations SET unread = ? WHERE id = ?", (int(unread), conversation_id)
            )

    @_recovering
    def delete_conversation(self, conversation_id: str) -> None:
        with self._write() as db:
            self._delete(db, [conversation_id])

    def _delete(self, db: sqlite3.Connection, ids: list[str]) -> None:
        for conversation_id in ids:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            db.execute("DELETE FROM participants WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM threads WHERE conversation_id = ?", (conversation_id,))

    # -- threads -------------------------------------------------------------

    @_recovering
    def put_thread(self, conversation_id: str, statuses: Iterable[dict[str, Any]]) -> None:
        with self._write() as db:
            for status in statuses:
                self._put_status(db, status, conversation_id)

    @_recovering
    def thread(self, conversation_id: str) -> list[Status]:
        """Every cached status of the conversation's thread, oldest first."""
        rows = self._db.execute(
            "SELECT s.json FROM threads t JOIN statuses s ON s.id = t.status_id"
            " WHERE t.conversation_id = ? ORDER BY s.created_at, s.id",
            (conversation_id,),
        ).fetchall()
        statuses: list[Status] = []
        for (raw,) in rows:
            with contextlib.suppress(ValueError):
                statuses.append(Status.from_stored(json.loads(raw)))
        return statuses

    # -- state -----------------------------------------------------------------

    @_recovering
    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @_recovering
    def set(self, **values: str | None) -> None:
        with self._write() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM state WHERE key = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

    def paging(self) -> PagingState:
        return PagingState(
            next_url=self.get("next_url"),
            prev_url=self.get("prev_url"),
            reached_end=self.get("reached_end") == "1",
            started=self.get("started") == "1",
        )

    def set_paging(self, state: PagingState) -> None:
        """Saves where paging stands. Once the cache was pruned, the frontier stays at
        the first dropped page, whatever the app has read since: the next start must
        fetch those rows again, since the cache no longer holds them."""
        resume = self.get("resume_url")
        if resume is not None:
            from_first = resume == _FROM_FIRST_PAGE
            state = PagingState(
                next_url=None if from_first else resume,
                prev_url=state.prev_url,
                reached_end=False,
                started=state.started and not from_first,
            )
        self.set(
            next_url=state.next_url,
            prev_url=state.prev_url,
            reached_end="1" if state.reached_end else "0",
            started="1" if state.started else "0",
        )

    # -- the queue of actions ------------------------------------------------------

    @_recovering
    def enqueue(
        self,
        action: str,
        conversation_id: str,
        *,
        not_before: float = 0.0,
        snapshot: Conversation | None = None,
    ) -> int:
        """Queues an action durably; a removal also takes the row out of the cache."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO outbox (action, conversation_id, not_before, snapshot)"
                " VALUES (?, ?, ?, ?)",
                (
                    action,
                    conversation_id,
                    not_before,
                    snapshot.model_dump_json() if snapshot is not None else None,
                ),
            )
            if action == "remove":
                db.execute("UPDATE conversations SET hidden = 1 WHERE id = ?", (conversation_id,))
            elif action == "read":
                db.execute("UPDATE conversations SET unread = 0 WHERE id = ?", (conversation_id,))
            return int(cursor.lastrowid or 0)

    @_recovering
    def cancel(self, seq: int) -> QueuedAction | None:
        """Takes an action off the queue (undo); a removal's row is put back."""
        with self._write() as db:
            action = self._action(
                db.execute(f"SELECT {_OUTBOX} FROM outbox WHERE seq = ?", (seq,)).fetchone()
            )
            if action is None:
                return None
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if action.action == "remove":
                self._unhide(db, action)
            return action

    @_recovering
    def unhide(self, action: QueuedAction) -> None:
        """A removal the server refused: the row shows again, as it was."""
        with self._write() as db:
            self._unhide(db, action)

    def _unhide(self, db: sqlite3.Connection, action: QueuedAction) -> None:
        found = db.execute(
            "UPDATE conversations SET hidden = 0 WHERE id = ?", (action.conversation_id,)
        ).rowcount
        if not found and action.snapshot is not None:
            # Pruned meanwhile: the snapshot is all that is left of it.
            self._put_conversation(db, action.snapshot.model_dump(), None)

    @_recovering
    def queued(self) -> list[QueuedAction]:
        rows = self._db.execute(f"SELECT {_OUTBOX} FROM outbox ORDER BY seq").fetchall()
        return [a for a in map(self._action, rows) if a is not None]

    @_recovering
    def is_queued(self, seq: int) -> bool:
        return self._db.execute("SELECT 1 FROM outbox WHERE seq = ?", (seq,)).fetchone() is not None

    @_recovering
    def page_read(self, url: str | None) -> None:
        """The page paging was to resume at was read again: the frontier is free to move."""
        resume = self.get("resume_url")
        if resume is not None and resume == (url or _FROM_FIRST_PAGE):
            self.set(resume_url=None)

    @_recovering
    def done(self, seq: int) -> None:
        """The server confirmed the action: off the queue (a removed row goes for good)."""
        with self._write() as db:
            row = db.execute(
                "SELECT action, conversation_id FROM outbox WHERE seq = ?", (seq,)
            ).fetchone()
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if row is not None and row[0] == "remove":
                self._delete(db, [row[1]])

    @_recovering
    def failed(self, seq: int, error: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error, seq),
            )

    @_recovering
    def set_not_before(self, seq: int, when: float) -> None:
        with self._write() as db:
            db.execute("UPDATE outbox SET not_before = ? WHERE seq = ?", (when, seq))

    @staticmethod
    def _action(row: tuple | None) -> QueuedAction | None:
        if row is None:
            return None
        seq, action, conversation_id, not_before, attempts, last_error, snapshot = row
        parsed = None
        if snapshot:
            with contextlib.suppress(ValueError):
                parsed = Conversation.from_stored(json.loads(snapshot))
        return QueuedAction(seq, action, conversation_id, not_before, attempts, last_error, parsed)

    # -- size ------------------------------------------------------------------

    def _prune_if_needed(self) -> None:
        rows = self._db.execute("SELECT count(*) FROM conversations").fetchone()[0]
        if rows > self.limit + max(PRUNE_SLACK, self.limit // 10):
            self.prune()

    @_recovering
    def prune(self) -> int:
        """Drops the oldest conversations beyond the limit, their threads and orphans."""
        db = self._db
        with self._write():
            doomed = db.execute(
                "SELECT id, page_url FROM conversations ORDER BY activity DESC, id DESC"
                " LIMIT -1 OFFSET ?",
                (self.limit,),
            ).fetchall()
            if not doomed:
                return 0
            self._delete(db, [row[0] for row in doomed])
            db.execute("DELETE FROM statuses WHERE id NOT IN (SELECT status_id FROM threads)")
            db.execute(
                "DELETE FROM accounts WHERE id NOT IN (SELECT account_id FROM participants)"
                " AND id NOT IN (SELECT account_id FROM statuses)"
            )
            # Paging resumes at the page that held the first dropped row, so nothing is skipped.
            first_dropped_page = doomed[0][1]
            resume = first_dropped_page or _FROM_FIRST_PAGE
            for key, value in (
                ("next_url", first_dropped_page),
                ("reached_end", "0"),
                ("resume_url", resume),
            ):
                if value is None:
                    db.execute("DELETE FROM state WHERE key = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))
            if first_dropped_page is None:
                db.execute("DELETE FROM state WHERE key = 'started'")
            return len(doomed)


_FROM_FIRST_PAGE = "first-page"
"""The resume point when the first dropped row came from the first page (no URL)."""

_OUTBOX = "seq, action, conversation_id, not_before, attempts, last_error, snapshot"
"""The queue's columns by name: a migrated table has them in another order."""


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


def _is_busy(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Schema 1 had no undo delay or snapshot in the queue of actions."""
    conversation_columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
    if "hidden" not in conversation_columns:
        db.execute("ALTER TABLE conversations ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    if "not_before" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN not_before REAL NOT NULL DEFAULT 0")
    if "snapshot" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN snapshot TEXT")


def _connect(target: str) -> sqlite3.Connection:
    old_umask = os.umask(0o077)
    try:
        db = sqlite3.connect(target, timeout=10.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 10000")
        if target != ":memory:":
            _use_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
    finally:
        os.umask(old_umask)
    return db


class CacheBusy(CacheError):
    """Another process held the file for longer than we wait."""


def _use_wal(db: sqlite3.Connection) -> None:
    """WAL mode, once per file. Switching needs a moment alone with the file, and
    SQLite does not wait for it by itself: another dminbox may be creating it."""
    if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    for _ in range(100):
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            time.sleep(0.05)
    raise CacheBusy("another process holds the file")


def _private_folder(path: Path) -> None:
    """The account's folder and the cache root above it, both 0700."""
    from dminbox.paths import private_dir

    private_dir(path)
    with contextlib.suppress(OSError):
        if path.parent.name:
            os.chmod(path.parent, 0o700)


def _private_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", 0o600)


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{target}{suffix}")
    return target


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:80]
