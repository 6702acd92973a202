"""The top line: the account and the inbox's state. Repaints itself alone, and only on change.

(Textual's Header repaints the whole screen when a screen's sub_title changes,
and a Static's update asks for a new layout; over ssh either costs kilobytes
for every mark read.)
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget


class TitleBar(Widget):
    """`✉ dminbox · account — 3 unread · 1 pending · offline`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str, str] = ("", "")

    @property
    def status(self) -> str:
        """The state words shown after the title."""
        return self._shown[1]

    def show(self, title: str, status: str) -> None:
        """Updates the line if the words changed; otherwise costs nothing."""
        if (title, status) == self._shown:
            return
        self._shown = (title, status)
        self.refresh()

    def render(self) -> Content:
        title, status = self._shown
        parts: list[str | tuple[str, str]] = ["✉ ", (title, "bold")]
        if status:
            parts += [" — ", status]
        return Content.assemble(*parts)
