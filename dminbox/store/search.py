"""Finding conversations in the whole cache: a parsed query made into SQL over the index.

`Search.search(query, limit)` parses the text (`dminbox.find_query`), finds
the documents that match every part (`find_index` says why they are a trigram
table over normalised text, with a second table for one- and two-character
strings; next to a longer string, a short one is looked for in the text of
the longer one's matches when they are few), counts them, and reads the
newest `limit` of them.

The cost follows the matches, not the cache: the count is read from the
index alone (it holds only shown conversations), and the newest rows are
found either by sorting the matches (few of them) or by walking the
conversations newest first until enough matched (many of them), whichever
reads fewer rows.

The user's text never becomes query syntax. Each string to find is a
parameter, inside the FTS5 expression as a string in double quotes (a `"`
in it doubled), which FTS5 reads as one literal phrase: `*`, `-`, `:`,
`NEAR(`, `AND` or a column name mean only themselves. The short table's
tokens are hex digits, whatever was typed. The SQL around them is made only
of fixed pieces.
"""

from __future__ import annotations

import sqlite3

from dminbox.find_query import FIND_LIMIT, Matches, Query, parse
from dminbox.models import Conversation
from dminbox.store.db import Part, recovering
from dminbox.store.entities import _parsed, _raw
from dminbox.store.find_index import short_token

__all__ = ["Search"]

_TRIGRAM = 3
"""The shortest string the trigram table can find; shorter ones go to `find_short`."""
_READ_AT_MOST = 3000
"""Candidates whose text is read to look for a short string in it; past this, lists of
rowids are intersected instead."""
_TEXT = "{people body}"
"""Where free text is looked for: names and accts, and the messages."""
_SELECT = (
    "SELECT c.id, c.json, c.unread, s.json FROM conversations c"
    " LEFT JOIN statuses s ON s.id = c.last_status_id"
)
_WALK = "SELECT c.id FROM conversations c INDEXED BY conversations_by_activity"
"""The conversations newest first, read through their index (never sorted)."""
_NEWEST_FIRST = " ORDER BY c.activity DESC, c.id DESC LIMIT ?"
_SHORT = "SELECT rowid AS doc FROM find_short WHERE find_short MATCH ?"
"""The documents holding every short string of the query (one token each)."""


class Search(Part):
    """Queries over the find index, read on the store's thread like every other read."""

    @recovering
    def search(self, query: str | Query, limit: int = FIND_LIMIT) -> Matches:
        """The shown conversations matching `query` (text or parsed), newest first, at most
        `limit`; `total` counts every match. An empty query matches nothing."""
        parsed = parse(query) if isinstance(query, str) else query
        if parsed.empty:
            return Matches()
        limit = max(0, limit)
        db = self.db
        source = _source(db, parsed)
        flag = parsed.unread
        if source is not None:
            docs, params = source
        else:  # is:unread or is:read alone: the rows with that state
            docs, params = "SELECT doc FROM find_rows WHERE unread = ?", [int(bool(flag))]
            flag = None
        state: list[object] = [] if flag is None else [int(flag)]
        count = _count(db, docs, params, flag)
        if not count:
            return Matches()
        shown = int(db.execute("SELECT count(*) FROM find_rows").fetchone()[0])
        if count * count <= limit * shown:
            # Few matches: read them all through the index, then sort.
            sql = (
                f"SELECT c.id FROM ({docs}) d CROSS JOIN find_rows r ON r.doc = d.doc"
                " CROSS JOIN conversations c ON c.id = r.conversation_id WHERE c.hidden = 0"
                + ("" if flag is None else " AND r.unread = ?")
                + _NEWEST_FIRST
            )
            ids = db.execute(sql, [*params, *state, limit]).fetchall()
        else:
            # Many: walk the conversations newest first until `limit` of them matched.
            where: list[str] = ["c.hidden = 0"]
            values: list[object] = []
            if parsed.unread is not None:
                where.append("c.unread = ?")
                values.append(int(parsed.unread))
            if source is not None and docs == _SHORT and count * 5 >= shown * 4:
                # Nearly every row matches one short string (a first letter): a seek per
                # row walked, for the few rows walked, beats listing 100,000 matches.
                where.append(
                    "EXISTS (SELECT 1 FROM find_short WHERE find_short MATCH ? AND rowid = r.doc)"
                )
                values.extend(params)
            elif source is not None:
                # `+r.doc`: tested against the list of matches, made once, rather than
                # used to search find_rows for each of them. (A seek into FTS5 per row
                # walked runs its query each time: it pays only when few rows are walked.)
                where.append(f"+r.doc IN ({docs})")
                values.extend(params)
            sql = (
                f"{_WALK} JOIN find_rows r ON r.conversation_id = c.id"
                f" WHERE {' AND '.join(where)}{_NEWEST_FIRST}"
            )
            ids = db.execute(sql, [*values, limit]).fetchall()
        return Matches(_rows(db, ids), count)


def _count(db: sqlite3.Connection, docs: str, params: list[object], unread: bool | None) -> int:
    """How many documents match: the index counts alone, and `find_rows` holds the
    unread state, so the conversations are never read for it."""
    if unread is None:
        return int(db.execute(f"SELECT count(*) FROM ({docs})", params).fetchone()[0])
    sql = (
        f"SELECT count(*) FROM ({docs}) d CROSS JOIN find_rows r ON r.doc = d.doc"
        " WHERE r.unread = ?"
    )
    return int(db.execute(sql, [*params, int(unread)]).fetchone()[0])


def _rows(db: sqlite3.Connection, ids: list[tuple[str]]) -> list[Conversation]:
    """The conversations with these ids, parsed, in this order (only they are read whole:
    sorting carries ids, not JSON)."""
    order = [row[0] for row in ids]
    if not order:
        return []
    rows = db.execute(f"{_SELECT} WHERE c.id IN ({', '.join('?' * len(order))})", order).fetchall()
    place = {conversation_id: n for n, conversation_id in enumerate(order)}
    rows.sort(key=lambda row: place[row[0]])
    return _parsed(_raw(db, rows))


def _source(db: sqlite3.Connection, query: Query) -> tuple[str, list[object]] | None:
    """(the SELECT of the matching documents, as `doc`, and its parameters); None when
    the query has no string to find.

    Strings of three characters or more are phrases of the trigram table, shorter ones
    tokens of the short table. With both, the trigram matches are the candidates: when
    they are few, the short strings are looked for in their text (`instr`); when they
    are many, reading all their text costs more than intersecting two lists of rowids.
    """
    phrases: list[str] = []
    short: list[tuple[str, str, str]] = []

    def find(needle: str, columns: str, kind: str) -> None:
        if len(needle) >= _TRIGRAM:
            phrases.append(f'{columns} : "{needle.replace(chr(34), chr(34) * 2)}"')
        else:
            short.append((needle, columns, kind))

    for term in query.terms:
        find(term, _TEXT, "text")
    # ` alice` is an acct that starts with alice: the accts columns hold ` a b `.
    for acct in query.participants:
        find(" " + acct, "accts", "accts")
    for acct in query.authors:
        find(" " + acct, "authors", "authors")
    tokens = " AND ".join(f'"{short_token(kind, needle)}"' for needle, _, kind in short)
    short_docs = _SHORT
    if not phrases:
        return (short_docs, [tokens]) if short else None
    expression = " AND ".join(phrases)
    docs = "SELECT rowid AS doc FROM find_index WHERE find_index MATCH ?"
    if not short:
        return docs, [expression]
    candidates = db.execute(f"SELECT count(*) FROM ({docs})", (expression,)).fetchone()[0]
    if candidates > _READ_AT_MOST:
        return f"{docs} INTERSECT {short_docs}", [expression, tokens]
    condition: list[str] = []
    params: list[object] = [expression]
    for needle, columns, _ in short:
        names = columns.strip("{}").split()
        condition.append("(" + " OR ".join(f"instr({c}, ?) > 0" for c in names) + ")")
        params.extend([needle] * len(names))
    return f"{docs} AND {' AND '.join(condition)}", params
