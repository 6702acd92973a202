"""The cache file itself: one SQLite connection, the schema and its migrations, damage.

`Database.open` checks the file is ours and brings its schema up to date; a
corrupt, truncated or foreign file is moved aside and a new one made in its
place, with a one-line `notice` saying so. Damage found later (a malformed
page) is handled the same way by every method wrapped in `recovering`.

The connection is used from one thread at a time, and that thread need not
be the one that opened it. Writes are short IMMEDIATE transactions, so a
second dminbox on the same file makes a writer wait its turn (up to
`BUSY_TIMEOUT` seconds) instead of failing: callers keep that wait off the
UI's event loop.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from dminbox.errors import CacheBusy, CacheError
from dminbox.store import files, find_index

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "Database", "Part", "recovering"]

SCHEMA_VERSION = 5
"""The one schema version; `_MIGRATIONS` brings every older file up to it."""
APPLICATION_ID = 0x444D4942
"""Written into the file header ("DMIB"), so a foreign SQLite file is never taken for ours."""
BUSY_TIMEOUT = 10.0
"""Seconds a statement waits for another process's lock before it fails."""

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
    snapshot TEXT,
    payload TEXT
);
CREATE TABLE IF NOT EXISTS drafts (
    key TEXT PRIMARY KEY,
    json TEXT NOT NULL,
    updated REAL NOT NULL DEFAULT 0
)
"""
"""The current schema. Every statement is idempotent: it also finishes a migration."""


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Schema 1 had no hidden rows, and no undo delay or snapshot in the queue of actions."""
    if "hidden" not in _columns(db, "conversations"):
        db.execute("ALTER TABLE conversations ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
    columns = _columns(db, "outbox")
    if "not_before" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN not_before REAL NOT NULL DEFAULT 0")
    if "snapshot" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN snapshot TEXT")


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Schema 3 gives a queued action a payload (JSON): a reply's text, its Idempotency-Key."""
    if "payload" not in _columns(db, "outbox"):
        db.execute("ALTER TABLE outbox ADD COLUMN payload TEXT")


def _migrate_3_to_4(db: sqlite3.Connection) -> None:
    """Schema 4 keeps drafts; the table itself comes from `_SCHEMA`, which runs after."""


def _migrate_4_to_5(db: sqlite3.Connection) -> None:
    """Schema 5 has the find index (`find_index`), built here from what the cache holds."""
    find_index.create(db)
    find_index.rebuild(db)


_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
    4: _migrate_4_to_5,
}
"""From each old version to the next; the keys run from 1 to SCHEMA_VERSION - 1."""


class Database:
    """One account's cache file (or a cache in memory), open."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path | None, notice: str | None = None
    ) -> None:
        self.connection = connection
        self.path = path
        """The file; None for a cache in memory (nothing survives a restart)."""
        self.notice = notice
        """One line for the user when the file had to be moved aside, else None."""

    @classmethod
    def in_memory(cls, notice: str | None = None) -> Database:
        connection = _connect(":memory:")
        _migrate(connection)
        return cls(connection, None, notice)

    @classmethod
    def open(cls, path: Path | None) -> Database:
        """Opens (or creates) the cache at `path`; None keeps it in memory only.

        A damaged or foreign file is moved aside and replaced by an empty cache;
        a file another process holds for too long, or a folder we cannot use,
        gives a cache in memory. `notice` then says so in one line.
        """
        if path is None:
            return cls.in_memory()
        try:
            files.private_folder(path.parent)
        except OSError as error:
            return cls.in_memory(f"Cannot use the cache folder ({error}); running without a cache.")
        try:
            files.create_private(path)
        except OSError as error:
            return cls.in_memory(f"Cannot use the cache file ({error}); running without a cache.")
        connection: sqlite3.Connection | None = None
        try:
            connection = _connect(str(path))
            _migrate(connection)
        except (sqlite3.DatabaseError, CacheError) as error:
            if connection is not None:
                _close(connection)
            if isinstance(error, CacheBusy) or _is_busy(error):
                return cls.in_memory("The cache is busy (another dminbox?); running without it.")
            connection, notice = _replace(path, error)
            return cls(connection, path, notice)
        files.private_files(path)
        return cls(connection, path)

    def rebuild(self, error: Exception) -> None:
        """Moves the damaged file aside and starts a new, empty cache in its place."""
        assert self.path is not None
        _close(self.connection)
        self.connection, self.notice = _replace(self.path, error)

    def close(self) -> None:
        _close(self.connection)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: a writer waits its turn instead of failing as locked."""
        with _write(self.connection) as db:
            yield db


class Part:
    """A concern of the cache (entities, paging, outbox): it owns its SQL on one Database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @property
    def db(self) -> sqlite3.Connection:
        """The connection to read from (it changes when a damaged file is rebuilt)."""
        return self.database.connection


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Self = TypeVar("_Self", bound=Part)


def recovering(
    method: Callable[Concatenate[_Self, _P], _R],
) -> Callable[Concatenate[_Self, _P], _R]:
    """Damage found mid-run (a malformed page) rebuilds the cache instead of crashing.

    Only plain DatabaseError means damage: a busy file or a broken constraint
    is raised as it is. The call is then made once more, on the new file.
    """

    @functools.wraps(method)
    def guarded(self: _Self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            if type(error) is not sqlite3.DatabaseError or self.database.path is None:
                raise
            self.database.rebuild(error)
            return method(self, *args, **kwargs)

    return guarded


@contextlib.contextmanager
def _write(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        # SQLite may have rolled back already (a full disk): the first error is the one to see.
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def _migrate(db: sqlite3.Connection) -> None:
    """Checks the file is ours and brings its schema up to date.

    A current file costs two header reads. Otherwise the work is one
    transaction, whose checks are made again inside it: a second process
    creating the same cache at the same moment waits its turn.
    """
    current = db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    if not (current and db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION):
        with _write(db):
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            if tables and app_id != APPLICATION_ID:
                raise CacheError("not a dminbox cache")
            if version > SCHEMA_VERSION:
                raise CacheError(f"made by a newer dminbox (schema {version})")
            if tables and version:
                for step in range(version, SCHEMA_VERSION):
                    _MIGRATIONS[step](db)
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            find_index.create(db)
            if app_id != APPLICATION_ID:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    # Reads the first index page, so a damaged file shows now rather than mid-run.
    db.execute("SELECT id FROM conversations ORDER BY activity DESC LIMIT 1").fetchall()


def _connect(target: str) -> sqlite3.Connection:
    db = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    if target != ":memory:":
        _use_wal(db)
    db.execute("PRAGMA synchronous = NORMAL")
    return db


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


def _replace(path: Path, error: Exception) -> tuple[sqlite3.Connection, str]:
    """A new, empty cache where the damaged one was, and the notice that says so."""
    moved = files.move_aside(path)
    notice = (
        f"The cache file was unreadable ({_reason(error)}); "
        f"moved aside to {moved.name} and rebuilt."
    )
    files.create_private(path)
    connection = _connect(str(path))
    _migrate(connection)
    files.private_files(path)
    return connection, notice


def _close(db: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        db.close()


def _is_busy(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:80]
