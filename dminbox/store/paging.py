"""Paging state: where the next page is, and where paging resumes after a prune.

It lives in the cache's `state` table of keys and values, which also holds
small values of the app's own (`last_open`, read with `get`, written with
`set`).

Once the cache was pruned, the frontier stays at the first dropped page,
whatever the app reads meanwhile: the next start must fetch those rows again,
since the cache no longer holds them. Reading that page again (`page_read`)
frees the frontier.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from dminbox.store.db import Part, recovering

__all__ = ["Paging", "PagingState", "after_prune"]

_FROM_FIRST_PAGE = "first-page"
"""The resume point when the first dropped row came from the first page (no URL)."""
_KEYS = ("next_url", "prev_url", "reached_end", "started")
"""The state keys `PagingState` is kept in."""


@dataclass(frozen=True)
class PagingState:
    next_url: str | None = None
    """The frontier: where the next older page is."""
    prev_url: str | None = None
    """Where conversations newer than the newest cached one are."""
    reached_end: bool = False
    started: bool = False


class Paging(Part):
    """The `state` table: the paging frontier, the resume point, the app's values."""

    @recovering
    def get(self, key: str) -> str | None:
        return _get(self.db, key)

    @recovering
    def set(self, /, **values: str | None) -> None:
        """Stores each value under its key; None deletes the key."""
        with self.database.write() as db:
            _put(db, values)

    @recovering
    def paging(self) -> PagingState:
        rows = self.db.execute(
            f"SELECT key, value FROM state WHERE key IN ({', '.join('?' * len(_KEYS))})", _KEYS
        ).fetchall()
        values = dict(rows)
        return PagingState(
            next_url=values.get("next_url"),
            prev_url=values.get("prev_url"),
            reached_end=values.get("reached_end") == "1",
            started=values.get("started") == "1",
        )

    @recovering
    def set_paging(self, state: PagingState) -> None:
        """Saves where paging stands, unless a prune holds the frontier back (see above)."""
        with self.database.write() as db:
            resume = _get(db, "resume_url")
            if resume is not None:
                from_first = resume == _FROM_FIRST_PAGE
                state = PagingState(
                    next_url=None if from_first else resume,
                    prev_url=state.prev_url,
                    reached_end=False,
                    started=state.started and not from_first,
                )
            _put(
                db,
                {
                    "next_url": state.next_url,
                    "prev_url": state.prev_url,
                    "reached_end": "1" if state.reached_end else "0",
                    "started": "1" if state.started else "0",
                },
            )

    @recovering
    def page_read(self, url: str | None) -> None:
        """The page paging was to resume at was read again: the frontier is free to move."""
        resumes_here = url or _FROM_FIRST_PAGE
        if _get(self.db, "resume_url") != resumes_here:
            return  # the common case, and no write lock taken for it
        with self.database.write() as db:
            if _get(db, "resume_url") == resumes_here:
                _put(db, {"resume_url": None})


def after_prune(db: sqlite3.Connection, first_dropped_page: str | None) -> None:
    """Inside the prune's transaction: paging resumes at the page that held the first
    dropped row (None: the first page), so nothing is skipped."""
    _put(
        db,
        {
            "next_url": first_dropped_page,
            "reached_end": "0",
            "resume_url": first_dropped_page or _FROM_FIRST_PAGE,
        },
    )
    if first_dropped_page is None:
        _put(db, {"started": None})


def _get(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _put(db: sqlite3.Connection, values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            db.execute("DELETE FROM state WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))
