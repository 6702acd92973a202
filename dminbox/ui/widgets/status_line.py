"""The status line: what went wrong and what dminbox does about it, readable whole.

It spans the screen's full width above the footer and wraps rather than cut,
so the reason and the time of the next try are never lost at 80 columns. It
takes no room while all is well, and repaints only when its words change.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class StatusLine(Static):
    """`⚠ Rate limited by mastodon.social until 21:14:05. Trying again at 21:14:06; …`"""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.text = ""
        """The words shown now ("" while all is well)."""
        self.display = False

    def show(self, text: str) -> None:
        if text == self.text:
            return
        self.text = text
        self.display = bool(text)
        self.update(Content.assemble(("⚠ ", "bold $warning"), text) if text else "")
