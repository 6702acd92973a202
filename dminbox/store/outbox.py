"""The outbox: the durable queue of what the user did and the server has not yet confirmed.

Nothing is lost: an action is written, with its effect on the cached rows, in
one transaction before anything is sent, and leaves the queue only when the
server confirmed it (`done`), the user took it back (`cancel`), or the server
refused it for good. A crash or a dropped link in between leaves it queued,
to be sent again, in order, on the next try.

Each action may carry a `payload` (JSON data): what a message says and the
Idempotency-Key that makes sending it twice harmless. A message (`send`) is
queued in the same transaction that takes its draft away, and a refusal puts
the draft back in the same transaction that takes the message off the queue.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from dminbox.models import Conversation
from dminbox.store import entities
from dminbox.store.db import Part, recovering
from dminbox.store.drafts import put_draft

__all__ = ["Outbox", "QueuedAction"]

_COLUMNS = "seq, action, conversation_id, not_before, attempts, last_error, snapshot, payload"
"""The queue's columns by name: a migrated table has them in another order."""


@dataclass(frozen=True)
class QueuedAction:
    """An action the user took that the server has not yet confirmed."""

    seq: int
    action: str
    """`read`, `unread`, `remove` or `send` (a message; its conversation id is "" for a
    new one)."""
    conversation_id: str
    not_before: float
    """Not to be sent before this time (time.time() seconds): an undo delay, a retry."""
    attempts: int
    last_error: str | None
    snapshot: Conversation | None
    """For a removal, the row as it was, to put back if the server refuses."""
    payload: dict[str, Any] | None = None
    """What the action sends, as JSON data (a reply's text, its Idempotency-Key)."""


class Outbox(Part):
    """The queue of actions, in the order they were taken (`seq`)."""

    @recovering
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
        """Queues an action durably and returns its `seq`; a removal also hides the
        row, a read marks it read, a message takes its draft (`draft_key`) away, in the
        same transaction."""
        # Serialised before the transaction: the first dump imports pydantic.
        snapshot_json = snapshot.model_dump_json() if snapshot is not None else None
        payload_json = json.dumps(payload) if payload is not None else None
        with self.database.write() as db:
            cursor = db.execute(
                "INSERT INTO outbox (action, conversation_id, not_before, snapshot, payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (action, conversation_id, not_before, snapshot_json, payload_json),
            )
            if action == "remove":
                entities.set_hidden(db, conversation_id, True)
            elif action == "read":
                entities.mark_read(db, conversation_id)
            elif action == "unread":
                db.execute("UPDATE conversations SET unread = 1 WHERE id = ?", (conversation_id,))
            if draft_key is not None:
                put_draft(db, draft_key, None)
            return int(cursor.lastrowid or 0)

    @recovering
    def cancel(self, seq: int) -> QueuedAction | None:
        """Takes an action off the queue (undo); a removal's row is put back."""
        with self.database.write() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            action = _action(row)
            if action.action == "remove":
                # The snapshot as stored is what `model_dump` would give, without pydantic.
                snapshot = _stored_snapshot(row[6]) if action.snapshot is not None else None
                _show(db, action.conversation_id, snapshot)
            return action

    @recovering
    def unhide(self, action: QueuedAction) -> None:
        """A removal the server refused: the row shows again, as it was."""
        snapshot = action.snapshot.model_dump() if action.snapshot is not None else None
        with self.database.write() as db:
            _show(db, action.conversation_id, snapshot)

    @recovering
    def queued(self) -> list[QueuedAction]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY seq").fetchall()
        return [_action(row) for row in rows]

    @recovering
    def is_queued(self, seq: int) -> bool:
        return self.db.execute("SELECT 1 FROM outbox WHERE seq = ?", (seq,)).fetchone() is not None

    @recovering
    def done(self, seq: int) -> None:
        """The server confirmed the action: off the queue (a removed row goes for good)."""
        with self.database.write() as db:
            row = db.execute(
                "SELECT action, conversation_id FROM outbox WHERE seq = ?", (seq,)
            ).fetchone()
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if row is not None and row[0] == "remove":
                entities.delete(db, [row[1]])

    @recovering
    def sent(self, seq: int, status: dict[str, Any], conversation: dict[str, Any] | None) -> None:
        """The server posted the message: off the queue, and the status it returned is
        kept in its conversation's thread (the row moved up, read), in one transaction."""
        with self.database.write() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if conversation is not None:
                entities.put_conversation(db, conversation, None)
                entities.put_status(db, status, str(conversation["id"]))

    @recovering
    def refused(self, seq: int, draft_key: str, draft: dict[str, Any]) -> None:
        """The server refused the message for good: off the queue, back to its draft."""
        with self.database.write() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            put_draft(db, draft_key, draft)

    @recovering
    def failed(self, seq: int, error: str, not_before: float | None = None) -> None:
        """One more failed attempt, and why; `not_before` (if given) is when to try again."""
        with self.database.write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " not_before = coalesce(?, not_before) WHERE seq = ?",
                (error, not_before, seq),
            )

    @recovering
    def set_not_before(self, seq: int, when: float) -> None:
        with self.database.write() as db:
            db.execute("UPDATE outbox SET not_before = ? WHERE seq = ?", (when, seq))


def _show(db: sqlite3.Connection, conversation_id: str, snapshot: dict[str, Any] | None) -> None:
    if not entities.set_hidden(db, conversation_id, False) and snapshot is not None:
        # Pruned meanwhile: the snapshot is all that is left of it.
        entities.put_conversation(db, snapshot, None)


def _stored_snapshot(text: str | None) -> dict[str, Any] | None:
    """A snapshot as stored (JSON data, as `model_dump` gives it), if it still parses."""
    if not text:
        return None
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            return data
    return None


def _action(row: tuple[Any, ...]) -> QueuedAction:
    seq, action, conversation_id, not_before, attempts, last_error, snapshot, payload = row
    stored = _stored_snapshot(snapshot)
    parsed = None
    if stored is not None:
        with contextlib.suppress(ValueError):
            parsed = Conversation.from_stored(stored)
    data = None
    if payload:
        with contextlib.suppress(ValueError):
            loaded = json.loads(payload)
            data = loaded if isinstance(loaded, dict) else None
    return QueuedAction(
        seq, action, conversation_id, not_before, attempts, last_error, parsed, data
    )
