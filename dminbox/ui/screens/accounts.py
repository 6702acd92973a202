"""Choosing an account, or adding one, without leaving the app."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from dminbox.accounts import AccountEntry
from dminbox.text import one_line

ADD = "+login"


class AccountsScreen(ModalScreen[str | None]):
    """Returns the acct chosen, `ADD` to log in to another account, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "dismiss(None)", "Cancel", tooltip="Back to the inbox", id="accounts.cancel"
        ),
        Binding(
            "l",
            "dismiss('+login')",
            "Log in",
            tooltip="Log in to another account",
            id="accounts.login",
        ),
    ]

    def __init__(self, entries: list[AccountEntry], current: str | None) -> None:
        super().__init__()
        self._entries = entries
        self._current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(
                Content.assemble(
                    one_line(entry.acct, 80),
                    ("  (open now)", "$text-muted") if entry.acct == self._current else "",
                ),
                id=entry.acct,
            )
            for entry in self._entries
        ]
        options.append(Option(Content("Log in to another account…"), id=ADD))
        with Vertical(id="accounts-box"):
            yield Static(Content.styled("Accounts", "bold"))
            yield OptionList(*options, id="accounts")
            yield Static(Content("Enter switches · l logs in · Esc goes back"), classes="hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
