"""The SQLite store: what goes in comes back, survives crashes, rivals and damage, stays small.

Each test names the promise it guards. Real recorded Mastodon answers
(tests/fixtures/mastodon) and the fake server's demo inbox are the data.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import stat
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dminbox.fake import FakeMastodon
from dminbox.models import Conversation, Status
from dminbox.store import (
    SCHEMA_VERSION,
    Cache,
    PagingState,
    QueuedAction,
    cache_path,
    delete_account_cache,
)
from dminbox.store.db import APPLICATION_ID
from dminbox.store.entities import PRUNE_SLACK

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
WRITER = Path(__file__).parent / "cache_writer.py"
ENTITY = "entity_test_entity_conversation.yaml"
CONVERSATIONS = "test_conversations.yaml"
API_FIELDS = ("id", "unread", "accounts", "last_status")
INSTANCE = "https://mastodon.social"
ACCOUNT = "109284416329284937"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


# -- data ----------------------------------------------------------------------------------


def _recorded(name: str, path_part: str, method: str = "GET") -> Iterator[Any]:
    """The JSON bodies of the successful `method` requests to `path_part` in a recording."""
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        if (
            request["method"] == method
            and path_part in request["uri"]
            and response["status"]["code"] == 200
        ):
            yield json.loads(response["body"]["string"])


def _pages(name: str) -> list[list[dict]]:
    return list(_recorded(name, "/api/v1/conversations"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _account(account_id: str) -> dict:
    return {
        "id": account_id,
        "username": f"user{account_id}",
        "acct": f"user{account_id}@example.invalid",
        "display_name": f"User {account_id}",
        "url": f"https://example.invalid/@user{account_id}",
        "bot": False,
        "avatar": "https://example.invalid/avatars/original/missing.png",
        "note": "<p>Somebody who writes direct messages.</p>",
    }


def _status(status_id: str, when: datetime, author: dict, text: str = "") -> dict:
    return {
        "id": status_id,
        "created_at": _iso(when),
        "account": author,
        "content": f"<p>{text or 'Hello there, ' + status_id}</p>",
        "spoiler_text": "",
        "visibility": "direct",
        "in_reply_to_id": None,
        "url": f"https://example.invalid/@{author['username']}/{status_id}",
        "mentions": [],
        "media_attachments": [],
    }


def _row(
    conversation_id: str,
    when: datetime | None,
    *,
    unread: bool = False,
    accounts: list[dict] | None = None,
    status_id: str | None = None,
) -> dict:
    """A Conversation as the server sends it; `when` None gives `last_status: null`."""
    people = accounts if accounts is not None else [_account(f"p{conversation_id}")]
    status = None
    if when is not None:
        status = _status(status_id or f"s{conversation_id}", when, people[0])
    return {"id": conversation_id, "unread": unread, "accounts": people, "last_status": status}


def _ids(conversations: list[Conversation]) -> list[str]:
    return [c.id for c in conversations]


def _single_line(text: str | None) -> bool:
    return bool(text) and "\n" not in text and "\r" not in text


@pytest.fixture
def path() -> Path:
    """One account's cache file, under the XDG cache home the conftest fixture points at."""
    return cache_path(INSTANCE, ACCOUNT)


# -- 1. round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [ENTITY, CONVERSATIONS])
def test_every_recorded_conversation_comes_back_as_it_was_sent(name: str) -> None:
    pages = _pages(name)
    assert pages
    sent: dict[str, dict] = {}
    cache = Cache.open(None)
    for page in pages:
        cache.put_conversations(page, page_url=None)
        sent.update({row["id"]: row for row in page})

    assert cache.count() == len(sent)
    assert cache.unread_count() == sum(1 for row in sent.values() if row["unread"])
    for conversation_id, row in sent.items():
        stored = cache.conversation(conversation_id)
        assert stored == Conversation.model_validate(row)
        assert [a.id for a in stored.accounts] == [a["id"] for a in row["accounts"]]
    assert cache.conversation("no-such-id") is None

    raw = cache.raw_conversations(limit=1000)
    assert len(raw) == len(sent)
    for back in raw:
        row = sent[back["id"]]
        assert {k: back[k] for k in API_FIELDS} == {k: row[k] for k in API_FIELDS}
    unread_raw = cache.raw_conversations(unread_only=True, limit=1000)
    assert {r["id"] for r in unread_raw} == {i for i, r in sent.items() if r["unread"]}
    assert len(cache.raw_conversations(limit=2)) == 2

    # Newest first: the server's order of the rows that have a last status is kept.
    listed = _ids(cache.conversations(limit=1000))
    assert sorted(listed) == sorted(sent)
    dated = [row["id"] for row in pages[-1] if row["last_status"] is not None]
    assert [i for i in listed if i in dated] == dated


def test_rows_without_a_last_status_are_stored_and_read_back() -> None:
    (page,) = _pages(ENTITY)
    empty = [row for row in page if row["last_status"] is None]
    assert len(empty) == 3
    cache = Cache.open(None)
    cache.put_conversations(page)
    for row in empty:
        stored = cache.conversation(row["id"])
        assert stored is not None
        assert stored.last_status is None
        assert stored.unread is row["unread"]
        assert cache.thread(row["id"]) == []


def test_the_server_order_is_kept_for_rows_without_a_last_status() -> None:
    (page,) = _pages(ENTITY)
    cache = Cache.open(None)
    cache.put_conversations(page)
    assert _ids(cache.conversations(limit=100)) == [row["id"] for row in page]


def test_the_demo_inbox_reads_back_in_the_server_order(demo_server: FakeMastodon) -> None:
    rows = demo_server.conversation_rows()
    cache = Cache.open(None)
    for start in range(0, len(rows), 40):
        cache.put_conversations(rows[start : start + 40], page_url=f"page-{start}")
    assert _ids(cache.conversations(limit=1000)) == [row["id"] for row in rows]
    assert [r["id"] for r in cache.raw_conversations(limit=1000)] == [row["id"] for row in rows]
    assert cache.unread_count() == sum(1 for row in rows if row["unread"])


def test_a_thread_reads_back_oldest_first(demo_server: FakeMastodon) -> None:
    rows = demo_server.conversation_rows()
    longest = max(rows, key=lambda row: len(demo_server.row(row["id"]).status_ids))
    status_ids = demo_server.row(longest["id"]).status_ids
    assert len(status_ids) >= 5
    statuses = [demo_server.status(i) for i in status_ids]
    shuffled = statuses[:]
    random.Random(7).shuffle(shuffled)

    cache = Cache.open(None)
    cache.put_conversations(rows)
    cache.put_thread(longest["id"], shuffled)
    thread = cache.thread(longest["id"])
    expected = sorted(
        (Status.model_validate(s) for s in statuses), key=lambda s: (s.created_at, s.id)
    )
    assert thread == expected
    assert thread[-1].id == longest["last_status"]["id"]
    # Putting the same statuses again changes nothing.
    cache.put_thread(longest["id"], statuses)
    assert cache.thread(longest["id"]) == expected
    assert cache.thread(rows[0]["id"]) == [Status.model_validate(rows[0]["last_status"])]


def test_recorded_statuses_make_a_thread_oldest_first() -> None:
    posted = [
        *_recorded(CONVERSATIONS, "/api/v1/statuses", "POST"),
        *_recorded("test_status_context.yaml", "/api/v1/statuses", "POST"),
        *_recorded("test_status_post_direct.yaml", "/api/v1/statuses", "POST"),
    ]
    (context,) = _recorded("test_status_context.yaml", "/context")
    statuses = [*context["ancestors"], *posted, *context["descendants"]]
    assert len(statuses) == 3
    cache = Cache.open(None)
    cache.put_thread("c1", list(reversed(statuses)))
    thread = cache.thread("c1")
    assert thread == sorted(
        (Status.model_validate(s) for s in statuses), key=lambda s: (s.created_at, s.id)
    )
    assert [s.created_at for s in thread] == sorted(s.created_at for s in thread)
    assert cache.thread("c2") == []


def test_a_new_last_status_moves_the_conversation_to_the_top(demo_server: FakeMastodon) -> None:
    rows = demo_server.conversation_rows()
    cache = Cache.open(None)
    cache.put_conversations(rows)
    oldest = rows[-1]
    newest_time = datetime.fromisoformat(rows[0]["last_status"]["created_at"])
    author = oldest["accounts"][0]
    moved = {
        **oldest,
        "unread": True,
        "last_status": _status("999999999999999999", newest_time + timedelta(minutes=1), author),
    }
    cache.put_conversations([moved])
    assert cache.count() == len(rows)
    assert _ids(cache.conversations(limit=1000)) == [oldest["id"]] + [
        row["id"] for row in rows[:-1]
    ]
    stored = cache.conversation(oldest["id"])
    assert stored == Conversation.model_validate(moved)
    assert stored.last_status.id == "999999999999999999"
    assert [s.id for s in cache.thread(oldest["id"])][-2:] == [
        oldest["last_status"]["id"],
        "999999999999999999",
    ]


# -- 2. keyset paging --------------------------------------------------------------------------


def _walk(cache: Cache, limit: int) -> list[str]:
    """Every conversation, page after page, as the inbox scrolls."""
    seen: list[str] = []
    after = None
    for _ in range(cache.count() + 2):
        page = cache.conversations(after=after, limit=limit)
        assert len(page) <= limit
        if not page:
            return seen
        seen.extend(_ids(page))
        after = page[-1].id
    raise AssertionError(f"paging never ended: {seen[:50]}")


_PLUS_TWO = timezone(timedelta(hours=2))
_FORMATS: list[Callable[[datetime], str]] = [
    lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",  # as Mastodon writes it
    lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),  # microseconds
    lambda m: m.isoformat(),  # +00:00
    lambda m: m.astimezone(_PLUS_TWO).isoformat(),  # another offset, same moment
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=st.lists(
        st.tuples(
            st.integers(0, 9999),  # id
            st.one_of(st.none(), st.integers(0, 12)),  # time slot (few: ties), None: no status
            st.integers(0, len(_FORMATS) - 1),  # how the time is written
            st.booleans(),  # unread
        ),
        max_size=60,
        unique_by=lambda item: item[0],
    ),
    limit=st.integers(1, 25),
    page=st.integers(1, 60),
)
def test_keyset_paging_yields_every_row_once_in_order(
    spec: list[tuple[int, int | None, int, bool]], limit: int, page: int
) -> None:
    cache = Cache.open(None)
    rows = []
    for number, slot, form, unread in spec:
        row = _row(f"{number:04d}", None, unread=unread)  # ids of one width: no text/number doubt
        if slot is not None:
            moment = EPOCH + timedelta(seconds=slot, milliseconds=250 * (slot % 3))
            row["last_status"] = _status(f"s{number}", moment, row["accounts"][0])
            row["last_status"]["created_at"] = _FORMATS[form](moment)
        rows.append(row)
    for start in range(0, len(rows), page):
        cache.put_conversations(rows[start : start + page])

    walked = _walk(cache, limit)
    assert sorted(walked) == sorted(row["id"] for row in rows), "every row exactly once"
    assert walked == _ids(cache.conversations(limit=len(rows) + 1))
    # Rows with a last status: newest first, ties on time broken by id (descending).
    moments = {
        row["id"]: datetime.fromisoformat(row["last_status"]["created_at"].replace("Z", "+00:00"))
        for row in rows
        if row["last_status"] is not None
    }
    dated = [i for i in walked if i in moments]
    assert dated == sorted(moments, key=lambda i: (moments[i], i), reverse=True)
    assert cache.unread_count() == sum(1 for row in rows if row["unread"])


def test_ties_on_time_are_broken_by_id_across_pages() -> None:
    same = EPOCH + timedelta(hours=1)
    rows = [_row(f"{n:03d}", same) for n in (104, 101, 105, 103, 102)]
    rows += [_row("200", same + timedelta(seconds=1)), _row("100", same - timedelta(seconds=1))]
    cache = Cache.open(None)
    cache.put_conversations(rows)
    expected = ["200", "105", "104", "103", "102", "101", "100"]
    for limit in (1, 2, 3, 7, 50):
        assert _walk(cache, limit) == expected
    assert _ids(cache.conversations(after="103", limit=2)) == ["102", "101"]
    assert cache.conversations(after="no-such-id", limit=5) == []


# -- 3. migration ----------------------------------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY, activity TEXT NOT NULL, unread INTEGER NOT NULL,
    last_status_id TEXT, page_url TEXT, json TEXT NOT NULL
);
CREATE INDEX conversations_by_activity ON conversations (activity DESC, id DESC);
CREATE INDEX conversations_unread ON conversations (unread) WHERE unread = 1;
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
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
"""


def _write_schema_1(path: Path, row: dict) -> None:
    """A cache as dminbox with schema 1 left it: one conversation, one queued action."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_1)
    status = row["last_status"]
    created = datetime.fromisoformat(status["created_at"].replace("Z", "+00:00"))
    db.execute(
        "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
        (
            row["id"],
            created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            int(row["unread"]),
            status["id"],
            "https://mastodon.social/api/v1/conversations?max_id=1",
            json.dumps({"id": row["id"]}),
        ),
    )
    for position, account in enumerate(row["accounts"]):
        db.execute(
            "INSERT OR REPLACE INTO accounts VALUES (?, ?)", (account["id"], json.dumps(account))
        )
        db.execute(
            "INSERT INTO participants VALUES (?, ?, ?)", (row["id"], position, account["id"])
        )
    author = status["account"]
    db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?)", (author["id"], json.dumps(author)))
    db.execute(
        "INSERT INTO statuses VALUES (?, ?, ?, ?)",
        (status["id"], author["id"], status["created_at"], json.dumps(status)),
    )
    db.execute("INSERT INTO threads VALUES (?, ?)", (row["id"], status["id"]))
    db.execute("INSERT INTO state VALUES ('next_url', 'https://mastodon.social/next')")
    db.execute(
        "INSERT INTO outbox (action, conversation_id, attempts, last_error)"
        " VALUES ('read', ?, 2, 'timed out')",
        (row["id"],),
    )
    db.commit()
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def _schema_1_row() -> dict:
    (page,) = _pages(ENTITY)
    return next(r for r in page if r["last_status"] is not None and len(r["accounts"]) > 1)


def test_a_schema_1_cache_is_migrated_keeping_its_rows_and_queue(path: Path) -> None:
    row = _schema_1_row()
    _write_schema_1(path, row)

    cache = Cache.open(path)
    assert cache.notice is None
    assert cache.conversation(row["id"]) == Conversation.model_validate(row)
    (raw,) = cache.raw_conversations()
    assert {k: raw[k] for k in API_FIELDS} == {k: row[k] for k in API_FIELDS}
    assert cache.paging().next_url == "https://mastodon.social/next"
    (action,) = cache.queued()
    assert (action.seq, action.action, action.conversation_id) == (1, "read", row["id"])
    # The new columns can be written.
    seq = cache.enqueue(
        "remove", row["id"], not_before=50.0, snapshot=cache.conversation(row["id"])
    )
    assert [(a.seq, a.action) for a in cache.queued()] == [(1, "read"), (seq, "remove")]
    assert cache.count() == 0
    cache.close()

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    columns = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
    assert {"not_before", "snapshot"} <= columns
    db.close()
    assert not [p for p in path.parent.iterdir() if ".corrupt-" in p.name]

    again = Cache.open(path)
    assert again.notice is None
    assert [a.seq for a in again.queued()] == [1, seq]
    assert again.cancel(seq) is not None
    assert again.conversation(row["id"]) == Conversation.model_validate(row)
    again.close()


def test_queued_actions_of_a_migrated_cache_read_back_field_for_field(path: Path) -> None:
    row = _schema_1_row()
    _write_schema_1(path, row)
    cache = Cache.open(path)
    assert cache.queued() == [QueuedAction(1, "read", row["id"], 0.0, 2, "timed out", None)]
    snapshot = cache.conversation(row["id"])
    seq = cache.enqueue("remove", row["id"], not_before=50.0, snapshot=snapshot)
    cache.failed(seq, "offline")
    assert cache.queued()[-1] == QueuedAction(
        seq, "remove", row["id"], 50.0, 1, "offline", snapshot
    )


# -- 4. damaged or foreign files -----------------------------------------------------------


def _big_cache(path: Path, count: int) -> None:
    cache = Cache.open(path, limit=count * 2)
    rows = [
        _row(f"{n}", EPOCH + timedelta(minutes=n), unread=n % 3 == 0, status_id=f"{n}0")
        for n in range(count)
    ]
    cache.put_conversations(rows, page_url="https://x.invalid/page")
    cache.enqueue("read", "3")
    cache.close()


def _checkpoint(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(64 * 1024))


def _truncated(path: Path) -> None:
    _big_cache(path, 2000)
    _checkpoint(path)
    size = path.stat().st_size
    assert size > 100 * 4096, "the file spans many pages"
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    with path.open("r+b") as file:
        file.truncate(size // 2)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes VALUES (1, 'another app''s data')")
    db.commit()
    db.close()


def _newer(path: Path) -> None:
    cache = Cache.open(path)
    cache.put_conversations([_row("77", EPOCH)])
    cache.close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()


def _check_moved_file(kind: str, moved: Path, original: bytes) -> None:
    """The file moved aside is the old one, untouched where it matters."""
    if kind in ("random", "truncated"):
        assert moved.read_bytes() == original
        return
    db = sqlite3.connect(moved)
    try:
        if kind == "foreign":
            assert db.execute("SELECT body FROM notes").fetchall() == [("another app's data",)]
        elif kind == "newer":
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
            assert db.execute("SELECT id FROM conversations").fetchall() == [("77",)]
    finally:
        db.close()


def test_an_empty_file_is_taken_as_a_new_cache(path: Path) -> None:
    """0 bytes hold nothing to save, and may be a cache another process is creating
    this very moment: it is used as is, never moved aside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _empty(path)
    cache = Cache.open(path)
    assert cache.notice is None
    assert not [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
    cache.put_conversations([_row("1", EPOCH, unread=True)])
    assert _ids(cache.conversations()) == ["1"]
    cache.close()


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("random", _random_bytes),
        ("truncated", _truncated),
        ("foreign", _foreign),
        ("newer", _newer),
    ],
)
def test_a_bad_file_is_moved_aside_with_a_one_line_notice_and_rebuilt(
    path: Path, kind: str, make: Callable[[Path], None]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    make(path)
    original = path.read_bytes()

    cache = Cache.open(path)
    if kind == "truncated" and cache.notice is None:
        # SQLite did not read the damaged pages at open: the start must still not crash.
        # (Observed with SQLite 3.40: never the case, PRAGMA journal_mode fails as malformed.)
        assert len(cache.conversations(limit=200)) <= 200
        assert cache.unread_count() >= 0
        return
    assert _single_line(cache.notice), cache.notice
    moved = [
        p
        for p in path.parent.iterdir()
        if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(moved) == 1, sorted(p.name for p in path.parent.iterdir())
    assert moved[0].name.startswith(path.name)
    assert moved[0].name in cache.notice
    assert "moved aside" in cache.notice
    assert cache.count() == 0
    assert cache.queued() == []
    assert cache.paging() == PagingState()

    cache.put_conversations([_row("1", EPOCH, unread=True)])
    cache.enqueue("read", "1")
    assert _ids(cache.conversations()) == ["1"]
    cache.close()
    _check_moved_file(kind, moved[0], original)

    again = Cache.open(path)
    assert again.notice is None
    assert _ids(again.conversations()) == ["1"]
    assert [a.conversation_id for a in again.queued()] == ["1"]
    again.close()


def test_a_damaged_page_inside_the_file_does_not_crash_the_start(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _big_cache(path, 2000)
    _checkpoint(path)
    db = sqlite3.connect(path)
    (root,) = db.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'conversations'"
    ).fetchone()
    (page_size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(random.Random(2).randbytes(page_size))

    cache = Cache.open(path)
    if cache.notice is None:
        cache.conversations(limit=200)
        cache.unread_count()
    else:
        assert _single_line(cache.notice)


# -- 5. two processes at once ----------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_write_the_same_cache_at_once(path: Path) -> None:
    count = 300
    Cache.open(path).close()
    writers = [_spawn(str(path), str(count), tag) for tag in ("a", "b")]
    try:
        for writer in writers:
            assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        for writer in writers:  # the shared start signal
            writer.stdin.write("go\n")
            writer.stdin.flush()
        outcomes = [writer.communicate(timeout=60) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    for writer, (out, err) in zip(writers, outcomes, strict=True):
        assert "locked" not in err
        assert writer.returncode == 0, err
        assert out.strip() == "done"

    cache = Cache.open(path)
    assert cache.notice is None
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            assert _mode(f"{path}{suffix}") == 0o600, suffix
    ids = set(_ids(cache.conversations(limit=10 * count)))
    assert ids == {f"{tag}-{i}" for tag in ("a", "b") for i in range(count)}
    queued = cache.queued()
    assert len(queued) == 2 * count
    for tag in ("a", "b"):
        mine = [a.conversation_id for a in queued if a.conversation_id.startswith(f"{tag}-")]
        assert mine == [f"{tag}-{i}" for i in range(count)], "each process's actions in order"
    assert cache.unread_count() == 0, "every row was marked read by its queued action"
    assert cache.paging().next_url in {f"https://x.invalid/{t}/{count - 1}" for t in "ab"}
    assert cache.paging().started
    cache.close()


def test_opening_while_another_process_creates_the_cache_waits_instead_of_moving_it(
    path: Path,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rival = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    rival.execute("BEGIN IMMEDIATE")  # the lock SQLite holds while it makes the file WAL
    release = threading.Timer(0.3, rival.execute, ("ROLLBACK",))
    release.start()
    try:
        cache = Cache.open(path)
    finally:
        release.join()
        rival.close()
    assert cache.notice is None
    assert not [p.name for p in path.parent.iterdir() if ".corrupt-" in p.name]
    cache.close()


def test_a_cache_created_by_another_process_during_open_is_kept(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect
    rival_notices: list[str | None] = []

    def rival() -> None:
        other = Cache.open(path)
        other.put_conversations([_row("1", EPOCH)])
        rival_notices.append(other.notice)
        other.close()

    rival_thread = threading.Thread(target=rival)

    class Interleaved(sqlite3.Connection):
        """Lets the rival run right after the first read of application_id (if it can)."""

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            cursor = super().execute(sql, *args)
            if sql.strip() == "PRAGMA application_id" and rival_thread.ident is None:
                rival_thread.start()
                rival_thread.join(1.0)  # a lock held by open would keep it waiting
            return cursor

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(*args, factory=Interleaved, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    try:
        cache = Cache.open(path)
    finally:
        rival_thread.join(30)
    monkeypatch.undo()
    assert rival_notices == [None]
    assert cache.notice is None
    assert _ids(cache.conversations()) == ["1"], "the other process's row is in the cache"
    cache.close()


# -- 6. a kill in the middle of a write ------------------------------------------------------


def test_a_kill_during_writes_loses_no_committed_batch_and_leaves_no_half(path: Path) -> None:
    Cache.open(path).close()
    reported: dict[str, int] = {}
    # The kill lands at different points of a batch (one batch takes a few milliseconds).
    for tag, delay in (("r0", 0.0), ("r1", 0.002), ("r2", 0.005), ("r3", 0.009)):
        writer = _spawn("--batches", str(path), tag)
        try:
            committed = 0
            while committed < 4:
                line = writer.stdout.readline()
                assert line, writer.stderr.read() if writer.poll() is not None else "no output"
                committed = int(line)
            time.sleep(delay)
            writer.send_signal(signal.SIGKILL)
        finally:
            if writer.poll() is None:
                writer.kill()
            writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        reported[tag] = committed

        cache = Cache.open(path, limit=1_000_000)
        assert cache.notice is None, "a killed writer leaves a sound file"
        total = cache.count()
        assert total % 50 == 0, f"half a batch is there: {total} rows"
        ids = set(_ids(cache.conversations(limit=total + 1)))
        assert len(ids) == total
        for done_tag, batches in reported.items():
            for batch in range(batches):
                assert {f"{done_tag}-{batch}-{k}" for k in range(50)} <= ids
        assert total >= 50 * sum(reported.values())
        cache.close()


# -- 7. privacy ------------------------------------------------------------------------------


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_cache_files_are_private_and_can_be_deleted(path: Path) -> None:
    folder = path.parent
    assert folder.parent.name == "dminbox"
    assert str(folder).startswith(os.environ["XDG_CACHE_HOME"])
    folder.parent.mkdir(parents=True, mode=0o755)
    os.chmod(folder.parent, 0o755)
    old_umask = os.umask(0o022)
    try:
        cache = Cache.open(path)
        cache.put_conversations([_row("1", EPOCH, unread=True)])
        cache.enqueue("read", "1")
        cache.put_thread("1", [_status("s2", EPOCH, _account("9"))])
        for suffix in ("", "-wal", "-shm"):
            assert Path(f"{path}{suffix}").exists(), suffix
            assert _mode(f"{path}{suffix}") == 0o600, suffix
        assert _mode(folder) == 0o700
        assert _mode(folder.parent) == 0o700
        # As after a crash, the -wal and -shm files are still there: they go too.
        assert delete_account_cache(INSTANCE, ACCOUNT) is True
        assert not [p.name for p in folder.iterdir() if p.name.startswith(path.name)]
        cache.close()
    finally:
        os.umask(old_umask)
    assert delete_account_cache(INSTANCE, ACCOUNT) is False
    fresh = Cache.open(path)
    assert fresh.count() == 0
    assert fresh.notice is None
    fresh.close()


def test_one_file_per_account(path: Path) -> None:
    other = cache_path(INSTANCE, "42")
    elsewhere = cache_path("https://fosstodon.org", ACCOUNT)
    assert len({path, other, elsewhere}) == 3
    first = Cache.open(path)
    first.put_conversations([_row("1", EPOCH)])
    second = Cache.open(other)
    assert second.count() == 0
    first.close()
    second.close()


# -- 8. the cache stays small ------------------------------------------------------------------


def _page_of(index: int) -> str:
    return f"https://mastodon.social/api/v1/conversations?max_id=p{index // 40}"


def test_the_oldest_conversations_go_first_with_their_statuses_and_accounts(path: Path) -> None:
    limit = 100
    shared = _account("shared")
    rows = [
        _row(
            f"{n:03d}",
            EPOCH + timedelta(minutes=250 - n),  # newest first, as pages come
            unread=n % 2 == 0,
            accounts=[_account(f"p{n}"), shared],
        )
        for n in range(250)
    ]
    cache = Cache.open(path, limit=limit)
    cache.set_paging(PagingState(next_url="https://x.invalid/old", reached_end=True, started=True))
    # A thread of a conversation that will be dropped, and one of a conversation that stays.
    cache.put_conversations(rows[:40], page_url=_page_of(0))
    cache.put_thread("005", [_status("t5", EPOCH, _account("talker5"))])
    kept_thread = cache.thread("005")
    for start in range(40, 250, 40):
        cache.put_conversations(rows[start : start + 40], page_url=_page_of(start))
        assert cache.count() <= limit + PRUNE_SLACK
        if start == 200:  # 240 rows: the automatic pruning ran
            assert cache.count() == limit
            assert cache.paging() == PagingState(_page_of(limit), None, False, True)
        if start == 80:
            cache.put_thread("150", [_status("t150", EPOCH, _account("talker150"))])

    present = _ids(cache.conversations(limit=1000))
    assert len(present) > limit
    first_dropped = present[limit]
    cache.set_paging(PagingState(next_url="https://x.invalid/old", reached_end=True, started=True))
    assert cache.prune() == len(present) - limit
    assert cache.count() == limit
    assert _ids(cache.conversations(limit=1000)) == [f"{n:03d}" for n in range(limit)]
    assert cache.unread_count() == limit // 2
    paging = cache.paging()
    assert paging.next_url == _page_of(int(first_dropped))
    assert paging.reached_end is False
    assert paging.started is True
    assert cache.thread("005") == kept_thread
    assert cache.thread("150") == []
    assert cache.prune() == 0
    cache.close()

    db = sqlite3.connect(path)
    statuses = {r[0] for r in db.execute("SELECT id FROM statuses")}
    accounts = {r[0] for r in db.execute("SELECT id FROM accounts")}
    db.close()
    assert statuses == {f"s{n:03d}" for n in range(limit)} | {"t5"}
    assert accounts == {f"p{n}" for n in range(limit)} | {"shared", "talker5"}


def test_pruning_rows_of_the_first_page_starts_paging_over() -> None:
    cache = Cache.open(None, limit=2)
    cache.put_conversations([_row(str(n), EPOCH + timedelta(minutes=-n)) for n in range(4)])
    cache.set_paging(PagingState(next_url="https://x.invalid/2", reached_end=True, started=True))
    assert cache.prune() == 2
    assert _ids(cache.conversations()) == ["0", "1"]
    assert cache.paging() == PagingState(None, None, False, False)


# -- 9. the queue of actions -----------------------------------------------------------------


def _queue_setup(path: Path, server: FakeMastodon) -> tuple[Cache, list[dict]]:
    rows = server.conversation_rows()
    cache = Cache.open(path)
    for start in range(0, len(rows), 40):
        cache.put_conversations(rows[start : start + 40], page_url=f"page-{start}")
    return cache, rows


def test_queued_actions_change_the_rows_and_survive_a_restart(
    path: Path, demo_server: FakeMastodon
) -> None:
    cache, rows = _queue_setup(path, demo_server)
    order = [row["id"] for row in rows]
    unread = [row["id"] for row in rows if row["unread"]]
    assert len(unread) >= 2
    before_unread = cache.unread_count()

    first = cache.enqueue("read", unread[0])
    assert cache.conversation(unread[0]).unread is False
    assert cache.unread_count() == before_unread - 1

    gone = order[len(order) // 2]
    snapshot = cache.conversation(gone)
    second = cache.enqueue("remove", gone, not_before=1234.5, snapshot=snapshot)
    assert cache.conversation(gone) is None
    assert gone not in _ids(cache.conversations(limit=1000))
    assert cache.count() == len(rows) - 1

    third = cache.enqueue("read", unread[1])
    assert first < second < third
    cache.failed(first, "Network is unreachable")
    cache.failed(first, "timed out")

    expected = [
        QueuedAction(first, "read", unread[0], 0.0, 2, "timed out", None),
        QueuedAction(second, "remove", gone, 1234.5, 0, None, snapshot),
        QueuedAction(third, "read", unread[1], 0.0, 0, None, None),
    ]
    assert cache.queued() == expected
    cache.close()

    cache = Cache.open(path)  # a restart
    assert cache.notice is None
    assert cache.queued() == expected
    assert cache.conversation(unread[0]).unread is False
    assert cache.conversation(gone) is None

    cancelled = cache.cancel(second)
    assert cancelled == expected[1]
    assert cache.conversation(gone) == snapshot
    assert _ids(cache.conversations(limit=1000)) == order
    assert cache.count() == len(rows)
    assert cache.cancel(second) is None
    assert cache.cancel(99_999) is None

    cache.done(first)
    assert cache.queued() == [expected[2]]
    cache.close()
    cache = Cache.open(path)
    assert cache.queued() == [expected[2]]
    cache.done(third)
    assert cache.queued() == []
    cache.close()


def test_undoing_a_removal_keeps_the_thread(path: Path, demo_server: FakeMastodon) -> None:
    cache, rows = _queue_setup(path, demo_server)
    longest = max(rows, key=lambda row: len(demo_server.row(row["id"]).status_ids))
    statuses = [demo_server.status(i) for i in demo_server.row(longest["id"]).status_ids]
    cache.put_thread(longest["id"], statuses)
    thread = cache.thread(longest["id"])
    assert len(thread) == len(statuses) > 1
    seq = cache.enqueue("remove", longest["id"], snapshot=cache.conversation(longest["id"]))
    cache.cancel(seq)
    assert cache.thread(longest["id"]) == thread


def test_undoing_a_removal_keeps_the_json_the_server_sent() -> None:
    (page,) = _pages(ENTITY)
    cache = Cache.open(None)
    cache.put_conversations(page)
    before = cache.raw_conversations(limit=100)
    target = page[0]["id"]
    seq = cache.enqueue("remove", target, snapshot=cache.conversation(target))
    cache.cancel(seq)
    after = {row["id"]: row for row in cache.raw_conversations(limit=100)}
    assert [after[row["id"]] for row in before[1:]] == before[1:], "other rows changed"
    assert after[target] == before[0]


# -- 10. start-up cost does not grow with the cache -----------------------------------------


def _fill(path: Path, count: int) -> None:
    people = [_account(str(n)) for n in range(50)]
    rows = [
        _row(
            f"{n}",
            EPOCH + timedelta(seconds=n),
            unread=n % 5 == 0,
            accounts=[people[n % 50], people[(n * 7) % 50]],
            status_id=f"{1000000 + n}",
        )
        for n in range(count)
    ]
    cache = Cache.open(path, limit=count + 1)
    cache.put_conversations(rows, page_url="https://x.invalid/page")
    assert cache.count() == count
    cache.close()


def _start(path: Path) -> float:
    began = time.perf_counter()
    cache = Cache.open(path)
    shown = cache.conversations(limit=200)
    unread = cache.unread_count()
    elapsed = time.perf_counter() - began
    assert cache.notice is None
    assert len(shown) == min(200, cache.count())
    assert unread == (cache.count() + 4) // 5
    cache.close()
    return elapsed


@pytest.fixture(scope="module")
def small_and_big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Caches of 100 and of 20,000 conversations, built once."""
    folder = tmp_path_factory.mktemp("startup")
    small, big = folder / "small" / "c.sqlite3", folder / "big" / "c.sqlite3"
    _fill(small, 100)
    _fill(big, 20_000)
    return small, big


def test_start_up_time_does_not_grow_with_the_cache(small_and_big: tuple[Path, Path]) -> None:
    small, big = small_and_big
    _start(small), _start(big)  # warm up
    small_times, big_times = [], []
    for _ in range(7):
        small_times.append(_start(small))
        big_times.append(_start(big))
    small_median, big_median = statistics.median(small_times), statistics.median(big_times)
    assert big_median < 5 * small_median + 0.020, (small_median, big_median)


def test_start_up_work_does_not_grow_with_the_cache(
    small_and_big: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same measure without the noise: SQLite virtual-machine steps, counted."""
    real_connect = sqlite3.connect
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    class Counting(sqlite3.Connection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.set_progress_handler(tick, 100)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(*args, factory=Counting, **kwargs)

    def work(path: Path) -> int:
        steps[0] = 0
        cache = Cache.open(path)
        assert len(cache.conversations(limit=100)) == 100  # a first screen, full in both
        cache.close()
        return steps[0]

    monkeypatch.setattr(sqlite3, "connect", connect)
    small, big = work(small_and_big[0]), work(small_and_big[1])
    assert small > 0
    assert big <= 1.5 * small + 5, (small, big)


# -- 11. paging state -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        PagingState(),
        PagingState(
            next_url="https://mastodon.social/api/v1/conversations?max_id=116262403687873880",
            prev_url="https://mastodon.social/api/v1/conversations?min_id=116368390488686134",
            reached_end=False,
            started=True,
        ),
        PagingState(
            next_url=None,
            prev_url="https://é.example/api?min_id=1&x=ü",
            reached_end=True,
            started=True,
        ),
    ],
)
def test_the_paging_state_round_trips_and_survives_a_restart(
    path: Path, state: PagingState
) -> None:
    cache = Cache.open(path)
    assert cache.paging() == PagingState()
    cache.set_paging(PagingState(next_url="a", prev_url="b", reached_end=True, started=True))
    cache.set_paging(state)
    assert cache.paging() == state
    cache.close()
    again = Cache.open(path)
    assert again.paging() == state
    again.close()


def test_state_values_round_trip() -> None:
    cache = Cache.open(None)
    assert cache.get("last_open") is None
    cache.set(last_open="5566407", other="x")
    assert (cache.get("last_open"), cache.get("other")) == ("5566407", "x")
    cache.set(last_open=None)
    assert cache.get("last_open") is None
    assert cache.get("other") == "x"


def test_after_a_prune_paging_resumes_at_the_first_dropped_page(path: Path) -> None:
    """What the app read after a prune must not move the resume point past rows the
    cache no longer holds."""
    cache = Cache.open(path, limit=50)
    for page in range(4):
        rows = [_row(f"{page}-{i}", EPOCH - timedelta(minutes=page * 40 + i)) for i in range(40)]
        cache.put_conversations(rows, page_url=None if page == 0 else f"https://x/p{page}")
    cache.prune()
    assert cache.count() == 50
    cache.set_paging(PagingState(next_url="https://x/p9", reached_end=True, started=True))
    state = cache.paging()
    assert state.next_url == "https://x/p1", "rows 10.. of page 1 were dropped"
    assert not state.reached_end


def test_once_the_resume_page_is_read_again_the_frontier_moves_on(path: Path) -> None:
    cache = Cache.open(path, limit=50)
    for page in range(4):
        rows = [_row(f"{page}-{i}", EPOCH - timedelta(minutes=page * 40 + i)) for i in range(40)]
        cache.put_conversations(rows, page_url=None if page == 0 else f"https://x/p{page}")
    cache.prune()
    cache.page_read("https://x/p1")
    cache.set_paging(PagingState(next_url=None, reached_end=True, started=True))
    state = cache.paging()
    assert state.reached_end and state.next_url is None, "the end can be reached again"
