"""A one-line screen shown while the app changes account: keys wait until it is done."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from dminbox.text import one_line


class SwitchingScreen(ModalScreen[None]):
    def __init__(self, account: str) -> None:
        super().__init__()
        self._account = account

    def compose(self) -> ComposeResult:
        yield Static(
            Content(f"Switching to {one_line(self._account, 60)}: sending what is queued…"),
            id="switching",
        )
