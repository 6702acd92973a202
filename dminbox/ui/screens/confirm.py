"""A question asked once before something that cannot be taken back: y sends, n edits."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from dminbox.text import one_line


class ConfirmScreen(ModalScreen[bool]):
    """Returns True when the user says yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "dismiss(True)", "Yes", tooltip="Yes, go ahead", id="confirm.yes"),
        Binding("n,escape", "dismiss(False)", "No", tooltip="No, go back", id="confirm.no"),
    ]

    def __init__(self, warning: str, question: str) -> None:
        super().__init__()
        self._warning = warning
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.styled(one_line(self._warning, 300), "bold $warning"))
            yield Static(Content(one_line(self._question, 100)))
            yield Static(Content("y yes · n or Esc no"), classes="hint")
