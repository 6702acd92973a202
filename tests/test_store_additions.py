"""What the store added for the sync engine, and the promises its split must keep.

Schema 3 (a payload per queued action) and its migration from a schema-2 file;
retries scheduled by `failed`; deleting many conversations at once; the
reconcile check's (id, activity) list; a cache used from another thread than
the one that opened it; opening that takes no lock; imports that stay light.
"""

from __future__ import annotations

import concurrent.futures
import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dminbox.store import SCHEMA_VERSION, Cache, PagingState, QueuedAction, cache_path
from dminbox.store.db import APPLICATION_ID

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
STORE = Path(__file__).parent.parent / "dminbox" / "store"


def _author(account_id: str) -> dict:
    return {"id": account_id, "username": f"u{account_id}", "acct": f"u{account_id}@x.invalid"}


def _row(conversation_id: str, minutes: int, *, unread: bool = False) -> dict:
    author = _author(f"a{conversation_id}")
    created = (EPOCH + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": conversation_id,
        "unread": unread,
        "accounts": [author],
        "last_status": {
            "id": f"s{conversation_id}",
            "created_at": created,
            "account": author,
            "content": f"<p>hello {conversation_id}</p>",
            "visibility": "direct",
        },
    }


def _rows(count: int) -> list[dict]:
    """Newest first, as pages come: `c0` is the newest."""
    return [_row(f"c{n}", count - n, unread=n % 2 == 0) for n in range(count)]


@pytest.fixture
def path() -> Path:
    return cache_path("https://mastodon.social", "42")


# -- schema 3: a payload per action, and the migration from schema 2 --------------------------

_SCHEMA_2 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY, activity TEXT NOT NULL, unread INTEGER NOT NULL,
    last_status_id TEXT, page_url TEXT, json TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_by_activity ON conversations (activity DESC, id DESC);
CREATE INDEX conversations_unread_shown ON conversations (unread)
    WHERE unread = 1 AND hidden = 0;
CREATE TABLE participants (
    conversation_id TEXT NOT NULL, position INTEGER NOT NULL, account_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
CREATE INDEX participants_by_account ON participants (account_id);
CREATE TABLE accounts (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE statuses (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at TEXT NOT NULL, json TEXT NOT NULL
);
CREATE TABLE threads (
    conversation_id TEXT NOT NULL, status_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, status_id)
);
CREATE INDEX threads_by_status ON threads (status_id);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    snapshot TEXT
);
"""


def _write_schema_2(path: Path) -> dict:
    """A cache as dminbox with schema 2 left it: two conversations (one hidden by a
    queued removal with its snapshot), a queued read, the paging state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_2)
    kept, removed = _row("k", 2, unread=True), _row("r", 1)
    for row, hidden in ((kept, 0), (removed, 1)):
        status, author = row["last_status"], row["accounts"][0]
        activity = status["created_at"].replace(".000Z", ".000000Z")
        core = {"id": row["id"]}
        db.execute(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, NULL, ?, ?)",
            (row["id"], activity, int(row["unread"]), status["id"], json.dumps(core), hidden),
        )
        db.execute("INSERT INTO accounts VALUES (?, ?)", (author["id"], json.dumps(author)))
        db.execute("INSERT INTO participants VALUES (?, 0, ?)", (row["id"], author["id"]))
        db.execute(
            "INSERT INTO statuses VALUES (?, ?, ?, ?)",
            (status["id"], author["id"], status["created_at"], json.dumps(status)),
        )
        db.execute("INSERT INTO threads VALUES (?, ?)", (row["id"], status["id"]))
    db.execute("INSERT INTO state VALUES ('next_url', 'https://mastodon.social/next')")
    db.execute("INSERT INTO state VALUES ('started', '1')")
    db.execute(
        "INSERT INTO outbox (action, conversation_id, attempts, last_error)"
        " VALUES ('read', 'k', 1, 'timed out')"
    )
    db.execute(
        "INSERT INTO outbox (action, conversation_id, not_before, snapshot)"
        " VALUES ('remove', 'r', 99.5, ?)",
        (json.dumps(removed),),
    )
    db.commit()
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    return removed


def test_a_schema_2_cache_is_migrated_keeping_its_rows_queue_and_paging(path: Path) -> None:
    removed = _write_schema_2(path)
    cache = Cache.open(path)
    assert cache.notice is None
    assert [c.id for c in cache.conversations()] == ["k"], "the hidden row stays hidden"
    assert cache.unread_count() == 1
    assert cache.paging() == PagingState(next_url="https://mastodon.social/next", started=True)
    read, remove = cache.queued()
    assert read == QueuedAction(1, "read", "k", 0.0, 1, "timed out", None, None)
    assert (remove.seq, remove.action, remove.not_before, remove.payload) == (
        2,
        "remove",
        99.5,
        None,
    )
    assert remove.snapshot is not None and remove.snapshot.id == "r"
    # The new column takes a payload.
    seq = cache.enqueue("reply", "k", payload={"text": "hi", "key": "abc"})
    assert cache.queued()[-1].payload == {"text": "hi", "key": "abc"}
    # Schema 4 keeps drafts.
    cache.save_draft("reply:k", {"text": "half a thought"})
    assert cache.draft("reply:k") == {"text": "half a thought"}
    cache.close()

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert "payload" in {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
    assert "json" in {r[1] for r in db.execute("PRAGMA table_info(drafts)")}
    db.close()
    assert not [p for p in path.parent.iterdir() if ".corrupt-" in p.name]

    again = Cache.open(path)
    assert [a.seq for a in again.queued()] == [1, 2, seq]
    assert again.cancel(2) is not None
    assert [c.id for c in again.conversations()] == ["k", "r"]
    assert again.raw_conversations()[1]["last_status"] == removed["last_status"]
    again.close()


def test_a_payload_round_trips_and_survives_a_restart(path: Path) -> None:
    cache = Cache.open(path)
    cache.put_conversations([_row("1", 0)])
    payload = {"text": "Grüße, 👋 <b>not markup</b>", "idempotency_key": "k-1", "n": [1, None]}
    seq = cache.enqueue("reply", "1", payload=payload, not_before=5.0)
    plain = cache.enqueue("read", "1")
    cache.close()
    cache = Cache.open(path)
    by_seq = {a.seq: a for a in cache.queued()}
    assert by_seq[seq].payload == payload
    assert by_seq[seq].not_before == 5.0
    assert by_seq[plain].payload is None
    cache.close()


def test_a_payload_that_no_longer_parses_reads_as_none(path: Path) -> None:
    cache = Cache.open(path)
    seq = cache.enqueue("reply", "1", payload={"text": "x"})
    cache.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE outbox SET payload = '{not json' WHERE seq = ?", (seq,))
    db.commit()
    db.close()
    cache = Cache.open(path)
    (action,) = cache.queued()
    assert (action.seq, action.payload) == (seq, None)
    cache.close()


def test_failed_counts_the_attempt_and_moves_not_before_only_when_given() -> None:
    cache = Cache.open(None)
    seq = cache.enqueue("read", "1", not_before=10.0)
    cache.failed(seq, "offline")
    assert cache.queued()[0].not_before == 10.0
    cache.failed(seq, "rate limited", not_before=1234.5)
    cache.failed(seq, "still limited", 2000.0)
    (action,) = cache.queued()
    assert (action.attempts, action.last_error, action.not_before) == (3, "still limited", 2000.0)
    cache.failed(seq, "offline again")
    assert cache.queued()[0].not_before == 2000.0


# -- many conversations deleted at once; the reconcile check ---------------------------------


def _commits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every COMMIT the caches opened from now on run (a trace of the connection)."""
    seen: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = real_connect(*args, **kwargs)
        db.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
        return db

    monkeypatch.setattr(sqlite3, "connect", connect)
    return seen


def test_delete_conversations_takes_them_and_their_threads_in_one_transaction(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = _commits(monkeypatch)
    cache = Cache.open(path)
    rows = _rows(30)
    cache.put_conversations(rows)
    gone = [f"c{n}" for n in range(0, 30, 3)]
    before = len(commits)
    cache.delete_conversations([*gone, "no-such-id"])
    assert len(commits) == before + 1
    kept = [row["id"] for row in rows if row["id"] not in gone]
    assert [c.id for c in cache.conversations(limit=100)] == kept
    assert cache.count() == len(kept)
    assert cache.unread_count() == sum(1 for row in rows if row["unread"] and row["id"] in kept)
    assert all(cache.thread(i) == [] for i in gone)
    assert cache.thread("c1") != []
    cache.delete_conversations([])
    assert cache.count() == len(kept)
    cache.delete_conversation("c1")
    assert cache.conversation("c1") is None
    cache.close()


def test_ids_and_activity_are_the_newest_shown_rows_newest_first() -> None:
    cache = Cache.open(None)
    rows = _rows(20)
    cache.put_conversations(rows)
    cache.enqueue("remove", "c1")
    listed = cache.ids_and_activity(5)
    assert [i for i, _ in listed] == ["c0", "c2", "c3", "c4", "c5"]
    assert [i for i, _ in cache.ids_and_activity(100)] == [c.id for c in cache.conversations()]
    keys = [key for _, key in cache.ids_and_activity(100)]
    assert keys == sorted(keys, reverse=True)
    assert keys[0] == "2026-01-01T00:20:00.000000Z"
    assert cache.ids_and_activity(0) == []


def test_a_row_whose_json_no_longer_parses_is_left_out(path: Path) -> None:
    cache = Cache.open(path)
    cache.put_conversations(_rows(3))
    cache.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE conversations SET json = '{broken' WHERE id = 'c1'")
    db.commit()
    db.close()
    cache = Cache.open(path)
    assert [c.id for c in cache.conversations()] == ["c0", "c2"]
    assert [r["id"] for r in cache.raw_conversations()] == ["c0", "c2"]
    assert cache.conversation("c1") is None
    cache.close()


# -- threads, locks and imports --------------------------------------------------------------


def test_a_cache_opened_on_one_thread_works_from_another(path: Path) -> None:
    """As the engine uses it: opened anywhere, then every call from one worker thread."""
    cache = Cache.open(path)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:

        def use() -> list[str]:
            assert threading.current_thread() is not threading.main_thread()
            cache.put_conversations(_rows(5), page_url="https://x.invalid/p")
            seq = cache.enqueue("read", "c0", payload={"a": 1})
            cache.failed(seq, "offline", not_before=1.0)
            cache.set_paging(PagingState(next_url="n", started=True))
            cache.set(last_open="c2")
            cache.delete_conversations(["c4"])
            cache.done(seq)
            return [c.id for c in cache.conversations()]

        assert worker.submit(use).result() == ["c0", "c1", "c2", "c3"]
        worker.submit(cache.close).result()


def test_opening_a_current_cache_takes_no_lock(path: Path) -> None:
    """Another process in the middle of a long write does not hold up the start."""
    cache = Cache.open(path)
    cache.put_conversations(_rows(3))
    cache.close()
    rival = sqlite3.connect(path, isolation_level=None)
    rival.execute("BEGIN IMMEDIATE")
    rival.execute("UPDATE conversations SET unread = 0")
    try:
        began = time.perf_counter()
        cache = Cache.open(path)
        shown = [c.id for c in cache.conversations()]
        unread = cache.unread_count()
        elapsed = time.perf_counter() - began
    finally:
        rival.execute("ROLLBACK")
        rival.close()
    assert cache.notice is None
    assert (shown, unread) == (["c0", "c1", "c2"], 2), "the committed rows, as they were"
    assert elapsed < 1.0, elapsed
    cache.close()


def test_the_store_imports_no_pydantic_httpx_or_textual() -> None:
    code = (
        "import sys\n"
        "from dminbox.store import Cache\n"
        "cache = Cache.open(None)\n"
        "cache.put_conversations([{'id': '1', 'unread': True, 'accounts': [],"
        " 'last_status': None}])\n"
        "cache.conversations(); cache.thread('1'); cache.enqueue('read', '1', payload={})\n"
        "cache.queued(); cache.unread_count()\n"
        "bad = sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('pydantic', 'httpx', 'textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_facade_only_delegates() -> None:
    """The SQL lives in the concern modules; `Cache` holds none."""
    facade = (STORE / "cache.py").read_text(encoding="utf-8")
    for word in ("execute", "SELECT", "INSERT", "UPDATE", "DELETE", "import sqlite3"):
        assert word not in facade, word


def test_the_quick_unread_count_reads_this_schema() -> None:
    """`dminbox.quick` counts unread rows with its own SQL, to start without imports:
    a new schema version must be one it knows."""
    from dminbox import quick

    assert quick.APPLICATION_ID == APPLICATION_ID
    assert SCHEMA_VERSION in quick.COUNTED_SCHEMAS
