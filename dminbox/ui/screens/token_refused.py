"""Shown when the server refuses the token (401): say so, offer to log in again."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from dminbox.text import one_line


class TokenRefusedScreen(ModalScreen[bool]):
    """Returns True when the user wants to log in again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "dismiss(True)", "Log in again", tooltip="Log in again", id="refused.login"),
        Binding(
            "escape",
            "dismiss(False)",
            "Keep reading",
            tooltip="Read the cached inbox",
            id="refused.keep_reading",
        ),
    ]

    def __init__(self, account: str, reason: str) -> None:
        super().__init__()
        self._account = account
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="refused-box"):
            yield Static(Content.styled("The server refused the token", "bold $error"))
            yield Static(
                Content.assemble(
                    f"The token for {one_line(self._account, 80)} was revoked or is invalid ",
                    f"({one_line(self._reason, 200)}).\n\n",
                    "The cached inbox stays readable; what you do is kept and sent once you ",
                    "log in again.",
                )
            )
            yield Static(Content("l logs in again · Esc keeps reading"), classes="hint")
