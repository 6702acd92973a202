"""Find on the inbox screen: the find bar's text in, the matches in the list, and back.

The inbox screen owns one `Finder` and hands it what concerns find: the bar's
messages, the list's wish for more rows, the engine's changes. While a filter
is on, the list draws the matches (an `Inbox` of its own, from the cache,
newest first) instead of the engine's rows; clearing it gives the list the
engine's rows back, untouched (paging went on meanwhile, if it did), with the
cursor on the row it was on, on the same line of the screen.

Every keystroke asks the engine afresh, in one worker (`exclusive`: a newer
keystroke cancels the wait of an older one), and each answer carries the
number of its question: an answer to an older question than the last one
asked is dropped, so a slow answer never replaces a newer one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dminbox.find_query import FIND_LIMIT, Matches, parse
from dminbox.inbox import Inbox
from dminbox.models import Conversation

if TYPE_CHECKING:
    from dminbox.ui.screens.inbox import InboxScreen
    from dminbox.ui.widgets.find_bar import FindBar

__all__ = ["Finder"]


class Finder:
    """The screen's find: whether a filter is on, and what the list shows for it."""

    def __init__(self, screen: InboxScreen) -> None:
        self.screen = screen
        self.active = False
        """True from `/` until escape clears the filter (enter keeps it on)."""
        self.matches: Matches | None = None
        """What the list shows for the filter; None while it shows the inbox."""
        self.shown_text: str | None = None
        """The text whose matches the list shows (None: the inbox)."""
        self._text = ""
        self._limit = FIND_LIMIT
        self._asked = 0
        """The number of the last question: answers to older ones are dropped."""
        self._saved: tuple[str | None, int, int] = (None, 0, 0)
        """The inbox's cursor before the filter: its row's id, index and line on screen."""

    @property
    def bar(self) -> FindBar:
        from dminbox.ui.widgets.find_bar import FindBar

        return self.screen.query_one(FindBar)

    # -- what the screen hands over -------------------------------------------------

    def start(self) -> None:
        """`/`: the bar opens (still holding a filter kept with enter) and takes the focus."""
        if not self.active:
            listing = self.screen.conversation_list
            row = listing.highlighted
            line = listing.cursor - listing.scroll_offset.y
            self._saved = (row.id if row else None, listing.cursor, line)
            self.active = True
        self.bar.open()

    def changed(self, text: str) -> None:
        """The bar's text changed: an empty query shows the inbox, any other its matches."""
        self._text = text
        self._limit = FIND_LIMIT
        if parse(text).empty:
            self._asked += 1  # an answer still on its way is for a query no longer typed
            self._show_inbox()
            self.bar.show_count("")
            return
        self._ask(text)

    def accept(self) -> Conversation | None:
        """Enter: the filter stays; returns the highlighted match, to open."""
        return self.screen.conversation_list.highlighted if self.matches is not None else None

    def clear(self) -> None:
        """Escape: the filter goes and the list shows the inbox as it was."""
        if not self.active:
            return
        self.active = False
        self._asked += 1
        self._text = ""
        self.bar.close()
        self._show_inbox()
        self.screen.conversation_list.focus()

    def rows_changed(self) -> None:
        """The engine's rows changed: the matches are asked for again (the cache changed),
        for the text as it is now: a question about older text would cancel the newer."""
        if self.matches is not None and not parse(self._text).empty:
            self._ask(self._text)

    def need_more(self) -> None:
        """The cursor came near the last match shown: the next ones, if there are more."""
        matches = self.matches
        if matches is None or len(matches) >= matches.total or self._limit > len(matches):
            return
        listing = self.screen.conversation_list
        bottom = max(listing.cursor, int(listing.scroll_y) + listing.size.height)
        if bottom < len(matches) - 1:
            return  # the list asks early (a page takes a while); matches are at hand
        self._limit = len(matches) + FIND_LIMIT
        self._ask(self._text)

    def end_text(self) -> str:
        """The list's last line while filtering."""
        matches = self.matches
        if matches is None:
            return ""
        if not matches.total:
            return "No conversation matches. Escape clears the filter."
        if len(matches) < matches.total:
            return f"The newest {len(matches):,} of {matches.total:,} matches · more below"
        return f"{_count(matches.total)} · escape clears the filter"

    # -- asking ----------------------------------------------------------------------

    def _ask(self, text: str) -> None:
        self._asked += 1
        asked, limit = self._asked, self._limit

        # A function, not a coroutine: a worker cancelled before it starts leaves nothing
        # unawaited behind it.
        async def work() -> None:
            await self._find(asked, text, limit)

        # (mypy cannot pick a result type from Textual's union of work types here.)
        self.screen.run_worker(
            work,  # type: ignore[arg-type]
            group="find",
            exclusive=True,
            exit_on_error=False,
        )

    async def _find(self, asked: int, text: str, limit: int) -> None:
        matches = await self.screen.engine.find(text, limit)
        if asked != self._asked or not self.active:
            return  # a newer question was asked meanwhile, or the filter is gone
        self._show(text, matches)

    def _show(self, text: str, matches: Matches) -> None:
        listing = self.screen.conversation_list
        same = text == self.shown_text and self.matches is not None
        keep = listing.highlighted.id if same and listing.highlighted else None
        line = listing.cursor - listing.scroll_offset.y if same else 0
        found = Inbox()
        found.add_older(matches)
        self.matches, self.shown_text = matches, text
        cursor = found.index_of(keep) if keep is not None else None
        listing.show_rows(found, cursor=cursor or 0, line=line if cursor is not None else 0)
        self.bar.show_count(_count(matches.total))
        self.screen._show_state()

    def _show_inbox(self) -> None:
        if self.matches is None:
            return
        self.matches, self.shown_text = None, None
        row_id, index, line = self._saved
        inbox = self.screen.engine.inbox
        found = inbox.index_of(row_id) if row_id is not None else None
        self.screen.conversation_list.show_rows(
            inbox, cursor=index if found is None else found, line=line
        )
        self.screen._show_state()


def _count(total: int) -> str:
    if not total:
        return "no match"
    return f"{total:,} match" + ("" if total == 1 else "es")
