"""The conversation list: one line per conversation, drawn line by line.

A `ScrollView` with `render_line` costs only what is on screen, whatever the
length of the inbox, and a cursor move repaints just the two rows it touched,
which keeps the bytes sent over a slow ssh link small.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from dminbox.inbox import Inbox
from dminbox.models import Conversation
from dminbox.ui.render import (
    CURSOR_MARK,
    LOCAL_UNREAD_MARK,
    OPEN_MARK,
    PENDING_MARK,
    UNREAD_MARK,
    Clock,
    conversation_row,
    utc_now,
)

NEAR_END_ROWS = 60
"""Ask for the next page while the cursor or the view is this close to the end."""


class ConversationList(ScrollView, can_focus=True):
    """The inbox, newest first, with a cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "j,down",
            "cursor_down",
            "Move",
            key_display="j/k",
            tooltip="Next conversation",
            id="list.down",
        ),
        Binding(
            "k,up", "cursor_up", "Up", show=False, tooltip="Previous conversation", id="list.up"
        ),
        Binding(
            "g,home",
            "first",
            "Ends",
            key_display="g/G",
            tooltip="First conversation",
            id="list.first",
        ),
        Binding(
            "G,end",
            "last",
            "Last",
            show=False,
            tooltip="Last loaded; retries a failed page now",
            id="list.last",
        ),
        Binding(
            "pagedown,ctrl+f",
            "page_down",
            "Page down",
            show=False,
            tooltip="One screen down",
            id="list.page_down",
        ),
        Binding(
            "pageup,ctrl+b",
            "page_up",
            "Page up",
            show=False,
            tooltip="One screen up",
            id="list.page_up",
        ),
        Binding("enter", "open", "Open", tooltip="Open the conversation", id="list.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-list--cursor",
        "conversation-list--unread",
        "conversation-list--read",
        "conversation-list--age",
        "conversation-list--status",
    }

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    """Index of the highlighted conversation."""
    footer_text: reactive[str] = reactive("", repaint=False, init=False)
    """The line after the last conversation: loading, the end, or what went wrong."""

    class NearEnd(Message):
        """The cursor or the view came close to the last loaded row; `now` when the user
        asked for the end (End or G), so a page that failed is tried again at once."""

        def __init__(self, *, now: bool = False) -> None:
            super().__init__()
            self.now = now

    class Painted(Message):
        """The list's first frame is drawn (posted once: the frame is on its way to the
        terminal by the time this is handled)."""

    class Rested(Message):
        """The cursor came to rest on a conversation (`rest_delay` after the last move):
        time to preview it. Holding a key posts nothing until it is let go."""

        def __init__(self, conversation: Conversation) -> None:
            super().__init__()
            self.conversation = conversation

    class Opened(Message):
        """The user asked to open a conversation."""

        def __init__(self, conversation: Conversation) -> None:
            super().__init__()
            self.conversation = conversation

    def __init__(
        self,
        inbox: Inbox,
        *,
        pending: set[str] | None = None,
        local_unread: set[str] | None = None,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.inbox = inbox
        self.pending = pending if pending is not None else set()
        """Ids whose mark-read the server has not confirmed yet (drawn with a hollow mark)."""
        self.local_unread = local_unread if local_unread is not None else set()
        """Ids marked unread in dminbox only (drawn with their own mark)."""
        self.open_id: str | None = None
        """The conversation shown in the thread: marked while the thread has the focus."""
        self.rest_delay: float | None = None
        """Seconds the cursor must rest before `Rested` is posted; None: never posted."""
        self._rest_timer: Timer | None = None
        self._now = clock or utc_now
        self._painted = False
        self._cursor_id: str | None = None
        """The highlighted conversation: the cursor stays on it when rows come and go."""

    # -- what the screen calls --------------------------------------------

    @property
    def highlighted(self) -> Conversation | None:
        if 0 <= self.cursor < len(self.inbox):
            return self.inbox[self.cursor]
        return None

    def rows_changed(self, *, first_changed: int = 0) -> None:
        """Call after rows were added or removed.

        The cursor stays on its conversation, on the same line of the screen:
        rows arriving above it scroll the view with it, not past it. (When its
        row is gone, the cursor stays on its line, on the row that took its place.)
        `first_changed` is the first row index that differs (a page appended at
        the bottom changes nothing on screen, so nothing is repainted).
        """
        line_on_screen = self.cursor - self.scroll_offset.y
        moved = False
        keep = self._cursor_id
        if keep is not None and (index := self.inbox.index_of(keep)) is not None:
            moved = index != self.cursor
            self.set_reactive(ConversationList.cursor, index)
        self.set_reactive(ConversationList.cursor, self._clamp(self.cursor))
        self._track_cursor()
        self._set_virtual_height(len(self.inbox) + 1)
        if moved and 0 <= line_on_screen < self.size.height:
            self.scroll_to(y=max(0, self.cursor - line_on_screen), animate=False, immediate=True)
            first_changed = 0
        top = self.scroll_offset.y
        if first_changed <= top:
            self.refresh()
        elif first_changed < top + self.size.height:
            height = top + self.size.height - first_changed
            self.refresh(Region(0, first_changed - top, self._width, height))
        self._check_near_end()

    def row_changed(self, conversation_id: str) -> None:
        """Call after one row changed in place (its unread state)."""
        index = self.inbox.index_of(conversation_id)
        if index is not None:
            self._refresh_row(index)

    def watch_footer_text(self) -> None:
        self._refresh_row(len(self.inbox))

    def show_rows(self, inbox: Inbox, *, cursor: int = 0, line: int = 0) -> None:
        """Draws other rows in place of those shown (a find's matches, or the inbox
        again), the cursor on row `cursor`, on line `line` of the view if it can be."""
        self.inbox = inbox
        self.set_reactive(ConversationList.cursor, self._clamp(cursor))
        self._track_cursor()
        self._set_virtual_height(len(inbox) + 1)
        top = max(0, self.cursor - max(0, min(line, self.size.height - 1)))
        self.scroll_to(y=top, animate=False, immediate=True)
        self.refresh()

    # -- keys --------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.cursor = self._clamp(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.cursor = self._clamp(self.cursor - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self._clamp(len(self.inbox) - 1)
        self.post_message(self.NearEnd(now=True))

    def action_page_down(self) -> None:
        self.cursor = self._clamp(self.cursor + max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        self.cursor = self._clamp(self.cursor - max(1, self.size.height - 1))

    def action_open(self) -> None:
        if (conversation := self.highlighted) is not None:
            self.post_message(self.Opened(conversation))

    # -- drawing -----------------------------------------------------------

    def show_open(self, conversation_id: str | None) -> None:
        """Marks the conversation shown in the thread (its row alone is repainted)."""
        old, self.open_id = self.open_id, conversation_id
        for changed in {old, conversation_id} - {None}:
            assert changed is not None
            self.row_changed(changed)

    def _rest_later(self) -> None:
        if self.rest_delay is None:
            return
        if self._rest_timer is not None:
            self._rest_timer.stop()
        self._rest_timer = self.set_timer(self.rest_delay, self._rested)

    def _rested(self) -> None:
        self._rest_timer = None
        if (conversation := self.highlighted) is not None:
            self.post_message(self.Rested(conversation))

    # -- the mouse, for those who have one -----------------------------------

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if not 0 <= index < len(self.inbox):
            return
        self.focus()
        self.cursor = index
        if event.chain >= 2:
            self.action_open()

    def watch_cursor(self, old: int, new: int) -> None:
        self._rest_later()
        self._track_cursor()
        self._refresh_row(old)
        self._refresh_row(new)
        # On the last row, the line below it (loading, or the end) comes into view too.
        height = 2 if new == len(self.inbox) - 1 else 1
        self.scroll_to_region(Region(0, new, 1, height), animate=False, immediate=True)
        self._check_near_end()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_near_end()

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.inbox) + 1)

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)
        if self.open_id is not None:
            self.row_changed(self.open_id)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)
        if self.open_id is not None:
            self.row_changed(self.open_id)

    def render_line(self, y: int) -> Strip:
        if not self._painted:
            self._painted = True
            self.post_message(self.Painted())
        index = self.scroll_offset.y + y
        width = self._width
        if index < len(self.inbox):
            return self._row_strip(self.inbox[index], index == self.cursor, width)
        if index == len(self.inbox) and self.footer_text:
            style = self.get_component_rich_style("conversation-list--status")
            return Strip([Segment(("  " + self.footer_text)[:width], style)]).extend_cell_length(
                width, self.rich_style
            )
        return Strip.blank(width, self.rich_style)

    def _row_strip(self, conversation: Conversation, selected: bool, width: int) -> Strip:
        names, body, when = conversation_row(conversation, width, self._now())
        unread = conversation.unread
        base = self.get_component_rich_style(
            "conversation-list--unread" if unread else "conversation-list--read"
        )
        age_style = base + self.get_component_rich_style("conversation-list--age")
        if unread:
            mark = LOCAL_UNREAD_MARK if conversation.id in self.local_unread else UNREAD_MARK
        elif conversation.id in self.pending:
            mark = PENDING_MARK
        else:
            mark = " "
        if selected and self.has_focus:
            lead = CURSOR_MARK
        elif conversation.id == self.open_id and not self.has_focus:
            lead = OPEN_MARK
        else:
            lead = " "
        marks = lead + mark + " "
        segments = [
            Segment(marks, base),
            Segment(names, base),
            Segment(body, base),
            Segment(when, age_style),
        ]
        strip = Strip(segments).adjust_cell_length(width, self.rich_style)
        if selected:
            strip = strip.apply_style(self.get_component_rich_style("conversation-list--cursor"))
        return strip

    # -- helpers -------------------------------------------------------------

    def _set_virtual_height(self, height: int) -> None:
        """Resizes the scrollable area without a new layout, which would repaint every row.

        Only when the scrollbar appears or goes does it take the full path.
        """
        size = Size(0, height)
        if size == self.virtual_size:
            return
        had_scrollbar = self.show_vertical_scrollbar
        self.set_reactive(ConversationList.virtual_size, size)
        self._scroll_update(size)
        if self.show_vertical_scrollbar != had_scrollbar:
            self.refresh(layout=True)

    @property
    def _width(self) -> int:
        """The width rows are drawn in: the widget's, less its scrollbar."""
        return self.scrollable_content_region.width

    def _track_cursor(self) -> None:
        row = self.highlighted
        self._cursor_id = row.id if row is not None else None

    def _clamp(self, index: int) -> int:
        return max(0, min(index, len(self.inbox) - 1))

    def _refresh_row(self, index: int) -> None:
        top = self.scroll_offset.y
        if top <= index < top + self.size.height:
            self.refresh(Region(0, index - top, self._width, 1))

    def _check_near_end(self) -> None:
        last_visible = int(self.scroll_y) + self.size.height
        if max(self.cursor, last_visible) >= len(self.inbox) - NEAR_END_ROWS:
            self.post_message(self.NearEnd())
