"""What the user types after `/`, as data: free words, quoted phrases and filters.

Pure and total: `parse` never raises, whatever the text, and everything it
keeps is a literal string to look for. Nothing here knows SQL or FTS5; the
store quotes each string before FTS5 sees it, so no character the user types
(`"`, `*`, `-`, `:`, `NEAR(`, `AND`) is ever read as query syntax.

The grammar, word by word (words are split on whitespace; case does not matter
in the filters' names):

- `is:unread`, `is:read`: only unread (read) conversations;
- `from:alice`: someone whose acct starts with `alice` wrote a cached message
  in the conversation (`from:alice@host` for one server's alice);
- `with:alice` (or `to:alice`): alice takes part in the conversation;
- `"a phrase"`: the words together, in that order (an unclosed quote runs to
  the end); `from:"…"` and `with:"…"` take quotes too;
- any other word is text to find, in a participant's name or acct or in a
  message. Every word must be found (they narrow, in any order).

A filter typed half-way (`from:`, `is:`, `is:unr`) is left out rather than
searched for; any other word with a colon (`is:foo`, `:`, `a:b`) is plain text.

`normalise` is the one folding both the index and the queries go through:
case folded (`casefold`, so `ß` finds `ss`), compatibility forms unfolded
(NFKD: full-width `Ｔｏｋｙｏ` is `tokyo`, `ﬁ` is `fi`), the accents of the
Latin, Greek and Cyrillic scripts dropped (`café` is `cafe`; Japanese kana
keep their voicing marks, so `が` stays apart from `か`), controls removed and
whitespace runs made one space.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dminbox.models import Conversation
from dminbox.text import clean

__all__ = ["FIND_LIMIT", "Matches", "Query", "normalise", "parse"]

FIND_LIMIT = 60
"""Conversations a find returns at first, newest first: more than a screen of the tallest
common terminal (scrolling asks for more). `Matches.total` counts them all."""

_ACCENTS = (
    (0x0300, 0x036F),  # Combining Diacritical Marks
    (0x1AB0, 0x1AFF),  # … Extended
    (0x1DC0, 0x1DFF),  # … Supplement
    (0x20D0, 0x20FF),  # … for Symbols
    (0xFE20, 0xFE2F),  # Combining Half Marks
)
"""The combining marks `normalise` drops: accents, not the marks other scripts spell with."""
_NO_ACCENTS = {code: None for first, last in _ACCENTS for code in range(first, last + 1)}
_FILTERS = {"from": "from", "with": "with", "to": "with"}
"""Filter names as typed, to what they filter on."""


@dataclass(frozen=True)
class Query:
    """A parsed find: every part a literal, normalised string."""

    terms: tuple[str, ...] = ()
    """Text to find (each in a name, an acct or a message): words and phrases."""
    unread: bool | None = None
    """True for `is:unread`, False for `is:read`, None for either."""
    authors: tuple[str, ...] = ()
    """`from:` values: the start of the acct of someone who wrote in the conversation."""
    participants: tuple[str, ...] = ()
    """`with:`/`to:` values: the start of the acct of someone taking part."""

    @property
    def empty(self) -> bool:
        """True when the query asks for nothing: the whole inbox, unfiltered."""
        return not (self.terms or self.authors or self.participants) and self.unread is None


class Matches(list[Conversation]):
    """The conversations a find matched, newest first (at most the limit asked for)."""

    def __init__(self, conversations: Iterable[Conversation] = (), total: int = 0) -> None:
        super().__init__(conversations)
        self.total = max(total, len(self))
        """How many conversations match in all, beyond the limit too."""


def normalise(text: str) -> str:
    """The folded form that the index holds and that queries are matched in."""
    folded = _fold(clean(text))
    for _ in range(3):  # folding can uncover more to fold (`℠` is `SM`): until it is still
        again = _fold(folded)
        if again == folded:
            break
        folded = again
    return " ".join(folded.split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold()).translate(_NO_ACCENTS)
    return unicodedata.normalize("NFC", text.casefold())


def parse(text: str) -> Query:
    """The query in `text`; never raises."""
    terms: list[str] = []
    authors: list[str] = []
    participants: list[str] = []
    unread: bool | None = None
    for word, quoted in _words(text):
        if not quoted:
            name, colon, value = word.partition(":")
            kind = _FILTERS.get(name.casefold()) if colon else None
            if colon and name.casefold() == "is":
                state = value.casefold()
                if state in ("unread", "read"):
                    unread = state == "unread"
                    continue
                if "unread".startswith(state) or "read".startswith(state):
                    continue  # half typed: `is:unr` is not text to find
            if kind is not None:
                value = _acct(value)
                if value:
                    (authors if kind == "from" else participants).append(value)
                continue
        folded = normalise(word)
        if folded:
            terms.append(folded)
    return Query(tuple(terms), unread, tuple(authors), tuple(participants))


def _acct(value: str) -> str:
    """A filter's value as accts are kept: folded, without quotes or a leading `@`."""
    return normalise(value.replace('"', " ")).lstrip("@").strip()


def _words(text: str) -> list[tuple[str, bool]]:
    """The words of `text` and whether each was a quoted phrase; a filter's quoted value
    (`from:"a b"`) stays one word with its name."""
    words: list[tuple[str, bool]] = []
    state: Literal["space", "word", "quote"] = "space"
    current: list[str] = []
    quoted = False
    for char in text:
        if state == "quote":
            if char == '"':
                state = "word" if current and not quoted else "space"
                if quoted:
                    words.append(("".join(current), True))
                    current, quoted = [], False
            else:
                current.append(char)
        elif char == '"':
            # A quote opens a phrase, or a filter's value right after its colon.
            if state == "word" and current and current[-1] == ":":
                state, quoted = "quote", False
            else:
                if current:
                    words.append(("".join(current), False))
                current, state, quoted = [], "quote", True
        elif char.isspace():
            if current:
                words.append(("".join(current), False))
            current, state = [], "space"
        else:
            current.append(char)
            state = "word"
    if current:
        words.append(("".join(current), quoted))
    return words
