"""The find bar: what the user types after `/`, above the list, with the number of matches.

It only announces: the text as it changes (`Changed`), enter (`Accepted`),
escape (`Cancelled`) and the arrows (`Moved`, so the cursor can move through
the matches without leaving the bar). The screen asks the engine and fills
the list; the bar shows what the screen tells it (`show_count`).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static


class _FindInput(Input):
    """An Input whose keystrokes repaint its own line, and nothing else.

    Textual's Input grows its virtual size by a cell with each character, which asks
    for a new layout of the whole screen (about 15 ms at 120x40, on every key); this
    one has a fixed width, so the new size only moves its own scrolling.
    """

    def _watch_value(self, value: str) -> None:
        # Set quietly first: Input's own watcher then finds the size unchanged.
        size = Size(self.content_width, 1)
        self.set_reactive(Input.virtual_size, size)
        self._scroll_update(size)
        super()._watch_value(value)


class FindBar(Widget):
    """`Find: tokyo is:unread                         12 matches`"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Clear", tooltip="Clear the filter", id="find.cancel"),
        Binding("down", "move(1)", "Move", key_display="↓/↑", tooltip="Next match", id="find.down"),
        Binding("up", "move(-1)", "Up", show=False, tooltip="Previous match", id="find.up"),
    ]

    class _Said(Message):
        """What every message of the bar carries: the bar itself."""

        def __init__(self, find_bar: FindBar) -> None:
            super().__init__()
            self.find_bar = find_bar

        @property
        def control(self) -> FindBar:
            return self.find_bar

    class Changed(_Said):
        """The text changed: filter again."""

        def __init__(self, find_bar: FindBar, text: str) -> None:
            super().__init__(find_bar)
            self.text = text

    class Accepted(_Said):
        """Enter: keep the filter, open the highlighted match."""

    class Cancelled(_Said):
        """Escape: clear the filter; the list goes back as it was."""

    class Moved(_Said):
        """An arrow: the list's cursor moves by `by` rows."""

        def __init__(self, find_bar: FindBar, by: int) -> None:
            super().__init__(find_bar)
            self.by = by

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._input = _FindInput(
            placeholder='words, is:unread, from:acct, with:acct, "a phrase"',
            compact=True,
            select_on_focus=False,
            id="find-input",
        )
        self._count = Static("", id="find-count", markup=False)
        self._shown = ""

    def compose(self) -> ComposeResult:
        yield Label("Find:", id="find-label")
        yield self._input
        yield self._count

    @property
    def value(self) -> str:
        """The text typed."""
        return self._input.value

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        """Shows the bar (with what was typed before) and puts the focus in it."""
        self.add_class("-open")
        self._input.focus()

    def close(self) -> None:
        """Hides the bar and forgets its text."""
        self.remove_class("-open")
        with self._input.prevent(Input.Changed):
            self._input.value = ""
        self.show_count("")

    def show_count(self, text: str) -> None:
        """`12 matches`, `no match`: what the screen says of the answer. The count has a
        width of its own, so a new one repaints it alone, with no new layout."""
        if text != self._shown:
            self._shown = text
            self._count.update(Content(text), layout=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Accepted(self))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled(self))

    def action_move(self, by: int) -> None:
        self.post_message(self.Moved(self, by))
