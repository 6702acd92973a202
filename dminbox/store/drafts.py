"""Drafts: what the user was writing, one per conversation (and one new message), kept
while typing so that escape, quit, a crash or a switch of account loses nothing.

A draft leaves this table in the same transaction that queues it for sending
(`Outbox.enqueue` with a `draft_key`), and comes back here if the server
refuses it for good: at every moment the text is in exactly one place.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from typing import Any

from dminbox.store.db import Part, recovering

__all__ = ["Drafts", "put_draft"]


class Drafts(Part):
    """The `drafts` table: JSON data by key (`reply:<conversation id>`, `new`)."""

    @recovering
    def draft(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT json FROM drafts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        with contextlib.suppress(ValueError):
            data = json.loads(row[0])
            if isinstance(data, dict):
                return data
        return None

    @recovering
    def save_draft(self, key: str, data: dict[str, Any] | None) -> None:
        """Keeps the draft; None (or an empty one) deletes it."""
        with self.database.write() as db:
            put_draft(db, key, data)

    @recovering
    def draft_keys(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT key FROM drafts ORDER BY updated")]


def put_draft(db: sqlite3.Connection, key: str, data: dict[str, Any] | None) -> None:
    """Inside a transaction: stores or deletes one draft."""
    if data is None:
        db.execute("DELETE FROM drafts WHERE key = ?", (key,))
        return
    db.execute(
        "INSERT INTO drafts (key, json, updated) VALUES (?, ?, ?) ON CONFLICT (key)"
        " DO UPDATE SET json = excluded.json, updated = excluded.updated",
        (key, json.dumps(data), time.time()),
    )
