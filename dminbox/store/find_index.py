"""The find index: one document per shown conversation, kept in step inside every write.

The choice of tokenizer. The SQLite here is 3.40 (Python's own; the trigram
tokenizer's `remove_diacritics` came with 3.45, too late to count on).
FTS5's `unicode61` ignores accents (`remove_diacritics 2`) but cuts text into
words at spaces and punctuation, so `東京` is never found inside
`東京で会いましょう`; `trigram` finds any substring, CJK included, but not
accents, and nothing shorter than three characters. So:

- the index holds a normalised copy of the text (`dminbox.find_query.normalise`:
  case folded, accents dropped, compatibility forms unfolded), folded once,
  by us, the same way for the text and the query, in a `trigram
  case_sensitive 1` table (`find_index`): any string of three characters or
  more is a phrase of trigrams;
- one- and two-character strings (a first letter, `東京`, `with:a`), which
  trigrams cannot find, have a second table (`find_short`): each document's
  distinct characters and pairs of characters, each one token (its code points
  in hex, so the `unicode61` tokenizer takes any character whole). It keeps no
  positions and no copy of the text (`detail=none`, contentless), so it is
  small; looking a pair up costs what the matches cost, not a scan of the cache.
  (Next to a longer string with few matches, `search` looks for the short one
  in their text instead, with `instr`.)

A document (its rowid mapped to the conversation by `find_rows`, which also
holds a copy of its unread state, kept by a trigger) has four columns:

- `people`: each participant's display name and `@acct`, one per line;
- `accts`: ` acct1 acct2 ` (a space before each), so ` ali` finds an acct
  that starts with `ali` (`with:`);
- `authors`: the same for who wrote each cached message (`from:`);
- `body`: the text of each cached message (content warning, text, media
  descriptions), one per line, in the order they were cached.

Only shown conversations have one: a removal in its undo window leaves the
index (and comes back with an undo), so counting matches never needs the
conversations table.

The writers in `entities` call the functions below inside their own
transaction: a conversation written (`conversation_written`), hidden or shown
(`hidden_changed`), a status written or forgotten (`status_written`,
`status_forgotten`), conversations deleted or pruned (`forget`). Each reads
the document first and writes only what changed, so a page of rows already
cached costs a lookup per row. `rebuild` makes every document again (the
migration to schema 5).
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dminbox.find_query import normalise

__all__ = [
    "MAX_STATUS_CHARS",
    "SCHEMA",
    "conversation_written",
    "create",
    "forget",
    "hidden_changed",
    "rebuild",
    "short_token",
    "status_forgotten",
    "status_text",
    "status_written",
]

SCHEMA = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS find_index USING fts5(
        people, accts, authors, body, tokenize = 'trigram case_sensitive 1'
    )""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS find_short USING fts5(
        grams, content = '', detail = none, tokenize = 'unicode61'
    )""",
    """CREATE TABLE IF NOT EXISTS find_rows (
        doc INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL UNIQUE,
        unread INTEGER NOT NULL DEFAULT 0
    )""",
    # A copy of `conversations.unread` that SQLite itself keeps, whoever writes it: so
    # `is:unread` with a common word counts its matches without reading the conversations.
    """CREATE TRIGGER IF NOT EXISTS find_rows_unread AFTER UPDATE OF unread ON conversations
    BEGIN
        UPDATE find_rows SET unread = new.unread WHERE conversation_id = new.id;
    END""",
)
"""The index's tables and trigger, one statement each (idempotent, like the rest of the
schema)."""
MAX_STATUS_CHARS = 10_000
"""Characters of one message that are indexed: a stranger's giant status stays cheap."""
_SEPARATOR = "\n"
"""Between the messages of `body` and the people of `people`: no query holds one."""
_KINDS = {"text": "t", "accts": "a", "authors": "w"}
"""The prefix of a short token, by what it was found in: names or messages, accts, authors."""
_TAG = re.compile(r"<[^>]*+>?")
_LONG_CHARREF = re.compile(r"&#[xX]?[0-9a-fA-F]{8,}+;?")
"""A numeric reference too long for `html.unescape` (it raises past int()'s digits)."""
_HEX: dict[str, str] = {}
"""Characters as `short_token` writes them, kept as they are met (a few thousand at most)."""


@dataclass(frozen=True)
class _Doc:
    rowid: int
    people: str
    accts: str
    authors: str
    body: str

    def grams(self) -> str:
        """The document's `find_short` tokens: deterministic, so a delete names exactly
        what the insert added."""
        tokens = _grams("text", f"{self.people}{_SEPARATOR}{self.body}")
        tokens |= _grams("accts", self.accts) | _grams("authors", self.authors)
        return " ".join(sorted(tokens))


def create(db: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        db.execute(statement)


def short_token(kind: str, needle: str) -> str:
    """The `find_short` token of a one- or two-character string found in `kind`
    (`text`, `accts` or `authors`): letters and digits only, whatever the string."""
    return _KINDS[kind] + "x".join(map(_hex, needle))


def _hex(char: str) -> str:
    code = _HEX.get(char)
    if code is None:
        code = _HEX[char] = f"{ord(char):x}"
    return code


# -- the text of an entity ------------------------------------------------------------


def status_text(status: dict[str, Any]) -> str:
    """A message as the index holds it: content warning, text and media descriptions,
    normalised, on one line."""
    parts = [str(status.get("spoiler_text") or "")]
    content = status.get("content")
    if isinstance(content, str) and content:
        # Tags out, entities read: only words matter here (the index is never shown), and
        # this is a tenth of the cost of flattening the HTML for the screen.
        words = _TAG.sub(" ", content[: MAX_STATUS_CHARS * 4])
        parts.append(html.unescape(_LONG_CHARREF.sub("\ufffd", words)))
    for media in status.get("media_attachments") or ():
        if isinstance(media, dict) and isinstance(media.get("description"), str):
            parts.append(media["description"])
    return normalise(" ".join(parts))[:MAX_STATUS_CHARS]


def _acct(account: Any) -> str:
    if not isinstance(account, dict):
        return ""
    return normalise(str(account.get("acct") or account.get("username") or "")).lstrip("@")


def _people(accounts: Iterable[dict[str, Any]]) -> tuple[str, str]:
    """(`people`, `accts`) of a conversation's participants."""
    names, accts = [], []
    for account in accounts:
        acct = _acct(account)
        name = normalise(str(account.get("display_name") or ""))
        names.append(f"{name} @{acct}".strip())
        if acct:
            accts.append(acct)
    return _SEPARATOR.join(names), _spaced(accts)


def _spaced(accts: Iterable[str]) -> str:
    """` a b c `: every acct once, in order, with a space on each side."""
    unique = list(dict.fromkeys(a for a in accts if a))
    return f" {' '.join(unique)} " if unique else ""


def _grams(kind: str, text: str) -> set[str]:
    """`short_token` of every character and pair of characters of `text` (none across a
    separator): the distinct ones found first, then each written once."""
    prefix = _KINDS[kind]
    singles: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for line in text.split(_SEPARATOR):
        singles.update(line)
        pairs.update(zip(line, line[1:], strict=False))
    tokens = {prefix + _hex(char) for char in singles}
    tokens.update(f"{prefix}{_hex(a)}x{_hex(b)}" for a, b in pairs)
    return tokens


# -- writes, inside the caller's transaction ------------------------------------------


def conversation_written(
    db: sqlite3.Connection, conversation_id: str, accounts: list[dict[str, Any]]
) -> None:
    """After a conversation (and its last status) was stored: its participants, and for
    a conversation new to the index, everything cached of its thread."""
    people, accts = _people(accounts)
    doc = _doc(db, conversation_id)
    if doc is not None:
        _write(db, conversation_id, doc, people, accts, doc.authors, doc.body)
    elif not _is_hidden(db, conversation_id):
        authors, body = _thread(db, conversation_id)
        _write(db, conversation_id, None, people, accts, authors, body)


def hidden_changed(db: sqlite3.Connection, conversation_id: str, hidden: bool) -> None:
    """A removal in its undo window leaves the index; an undo brings it back."""
    doc = _doc(db, conversation_id)
    if hidden:
        if doc is not None:
            _remove(db, doc)
        return
    if doc is None:
        rows = db.execute(
            "SELECT a.json FROM participants p JOIN accounts a ON a.id = p.account_id"
            " WHERE p.conversation_id = ? ORDER BY p.position",
            (conversation_id,),
        ).fetchall()
        people, accts = _people(_loads(raw) for (raw,) in rows)
        authors, body = _thread(db, conversation_id)
        _write(db, conversation_id, None, people, accts, authors, body)


def status_written(
    db: sqlite3.Connection,
    conversation_id: str,
    status: dict[str, Any],
    old_json: str | None,
    new_json: str,
    linked: bool,
) -> None:
    """After a status was stored (as `new_json`): `linked` when it just joined this
    conversation's thread, `old_json` what was stored before (an edit changes every
    thread that holds it). A status stored again unchanged costs nothing."""
    edited = old_json is not None and old_json != new_json
    doc = _doc(db, conversation_id) if linked else None
    if doc is None and not edited:
        return  # nothing changed, or a conversation new to the index: it reads its thread
    text = status_text(status)
    if doc is not None:
        authors = _spaced([*doc.authors.split(), _acct(status.get("account"))])
        body = _swap(doc.body, None, text)
        _write(db, conversation_id, doc, doc.people, doc.accts, authors, body)
    old = _stored_text(old_json) if edited else None
    if old is None or old == text:
        return
    for other in _holding(db, str(status.get("id"))):
        if linked and other == conversation_id:
            continue
        if (doc := _doc(db, other)) is not None:
            body = _swap(doc.body, old, text)
            _write(db, other, doc, doc.people, doc.accts, doc.authors, body)


def status_forgotten(db: sqlite3.Connection, status_id: str) -> None:
    """Before a status leaves every thread and the cache (deleted on the server)."""
    found = db.execute("SELECT json FROM statuses WHERE id = ?", (status_id,)).fetchone()
    old = _stored_text(found[0] if found else None)
    for conversation_id in _holding(db, status_id):
        doc = _doc(db, conversation_id)
        if doc is None:
            continue
        rest = db.execute(
            "SELECT s.json FROM threads t JOIN statuses s ON s.id = t.status_id"
            " WHERE t.conversation_id = ? AND t.status_id != ? ORDER BY s.created_at, s.id",
            (conversation_id, status_id),
        ).fetchall()
        authors = _spaced(_acct(_loads(raw).get("account")) for (raw,) in rest)
        body = _swap(doc.body, old, "") if old is not None else doc.body
        _write(db, conversation_id, doc, doc.people, doc.accts, authors, body)


def forget(db: sqlite3.Connection, ids: list[str]) -> None:
    """Conversations deleted (or pruned): out of the index."""
    for conversation_id in ids:
        if (doc := _doc(db, conversation_id)) is not None:
            _remove(db, doc)


def rebuild(db: sqlite3.Connection) -> int:
    """Every shown conversation's document made again from the cache; returns how many."""
    db.execute("DELETE FROM find_index")
    db.execute("INSERT INTO find_short (find_short) VALUES ('delete-all')")
    db.execute("DELETE FROM find_rows")
    people: dict[str, list[dict[str, Any]]] = {}
    for conversation_id, raw in db.execute(
        "SELECT p.conversation_id, a.json FROM participants p"
        " JOIN accounts a ON a.id = p.account_id ORDER BY p.conversation_id, p.position"
    ):
        people.setdefault(conversation_id, []).append(_loads(raw))
    threads: dict[str, list[dict[str, Any]]] = {}
    for conversation_id, raw in db.execute(
        "SELECT t.conversation_id, s.json FROM threads t JOIN statuses s ON s.id = t.status_id"
        " ORDER BY t.conversation_id, s.created_at, s.id"
    ):
        threads.setdefault(conversation_id, []).append(_loads(raw))
    ids = [row[0] for row in db.execute("SELECT id FROM conversations WHERE hidden = 0")]
    for conversation_id in ids:
        names, accts = _people(people.get(conversation_id, ()))
        authors, body = _texts(threads.get(conversation_id, ()))
        _write(db, conversation_id, None, names, accts, authors, body)
    return len(ids)


# -- helpers ----------------------------------------------------------------------------


def _doc(db: sqlite3.Connection, conversation_id: str) -> _Doc | None:
    found = db.execute(
        "SELECT f.rowid, f.people, f.accts, f.authors, f.body FROM find_rows r"
        " JOIN find_index f ON f.rowid = r.doc WHERE r.conversation_id = ?",
        (conversation_id,),
    ).fetchone()
    return _Doc(*found) if found is not None else None


def _write(
    db: sqlite3.Connection,
    conversation_id: str,
    old: _Doc | None,
    people: str,
    accts: str,
    authors: str,
    body: str,
) -> None:
    """Makes (`old` None) or updates a document; nothing is written when nothing changed."""
    if old is None:
        cursor = db.execute(
            "INSERT INTO find_rows (conversation_id, unread)"
            " SELECT ?, coalesce((SELECT unread FROM conversations WHERE id = ?), 0)",
            (conversation_id, conversation_id),
        )
        new = _Doc(int(cursor.lastrowid or 0), people, accts, authors, body)
        db.execute(
            "INSERT INTO find_index (rowid, people, accts, authors, body) VALUES (?, ?, ?, ?, ?)",
            (new.rowid, people, accts, authors, body),
        )
        db.execute("INSERT INTO find_short (rowid, grams) VALUES (?, ?)", (new.rowid, new.grams()))
        return
    new = _Doc(old.rowid, people, accts, authors, body)
    if new == old:
        return
    db.execute(
        "UPDATE find_index SET people = ?, accts = ?, authors = ?, body = ? WHERE rowid = ?",
        (people, accts, authors, body, old.rowid),
    )
    before, after = old.grams(), new.grams()
    if before != after:
        _delete_grams(db, old.rowid, before)
        db.execute("INSERT INTO find_short (rowid, grams) VALUES (?, ?)", (old.rowid, after))


def _remove(db: sqlite3.Connection, doc: _Doc) -> None:
    db.execute("DELETE FROM find_index WHERE rowid = ?", (doc.rowid,))
    _delete_grams(db, doc.rowid, doc.grams())
    db.execute("DELETE FROM find_rows WHERE doc = ?", (doc.rowid,))


def _delete_grams(db: sqlite3.Connection, rowid: int, grams: str) -> None:
    """A contentless table forgets a row when told exactly what it held."""
    db.execute(
        "INSERT INTO find_short (find_short, rowid, grams) VALUES ('delete', ?, ?)",
        (rowid, grams),
    )


def _is_hidden(db: sqlite3.Connection, conversation_id: str) -> bool:
    found = db.execute(
        "SELECT hidden FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    return found is None or bool(found[0])


def _thread(db: sqlite3.Connection, conversation_id: str) -> tuple[str, str]:
    rows = db.execute(
        "SELECT s.json FROM threads t JOIN statuses s ON s.id = t.status_id"
        " WHERE t.conversation_id = ? ORDER BY s.created_at, s.id",
        (conversation_id,),
    ).fetchall()
    return _texts(_loads(raw) for (raw,) in rows)


def _texts(statuses: Iterable[dict[str, Any]]) -> tuple[str, str]:
    """(`authors`, `body`) of a thread's statuses."""
    statuses = list(statuses)
    texts = [t for t in map(status_text, statuses) if t]
    return _spaced(_acct(s.get("account")) for s in statuses), _SEPARATOR.join(texts)


def _swap(body: str, old: str | None, new: str) -> str:
    """`body` with one message's text `old` replaced by `new` (None adds it, "" removes it)."""
    entries = body.split(_SEPARATOR) if body else []
    if old is not None and old in entries:
        index = entries.index(old)
        if new:
            entries[index] = new
        else:
            del entries[index]
    elif new:
        entries.append(new)
    return _SEPARATOR.join(entries)


def _holding(db: sqlite3.Connection, status_id: str) -> list[str]:
    """The conversations whose cached thread holds this status."""
    rows = db.execute("SELECT conversation_id FROM threads WHERE status_id = ?", (status_id,))
    return [row[0] for row in rows]


def _stored_text(raw: str | None) -> str | None:
    return None if raw is None else status_text(_loads(raw))


def _loads(raw: str) -> dict[str, Any]:
    """Stored JSON, or {} when it no longer parses (damage costs the index, not the write)."""
    with contextlib.suppress(ValueError, TypeError):
        data = json.loads(raw)
        if isinstance(data, dict):
            return data
    return {}
