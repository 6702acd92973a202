"""The help screen: every key, read from the bindings themselves (with the user's keys from
the config file) so it stays true."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from dminbox.ui.keys import keys_of


def _keys(keys: list[str]) -> str:
    names = {
        "question_mark": "?",
        "delete": "Del",
        "escape": "Esc",
        "enter": "Enter",
        "tab": "Tab",
        "down": "↓",
        "up": "↑",
        "home": "Home",
        "end": "End",
        "pagedown": "PgDn",
        "pageup": "PgUp",
        "space": "Space",
    }
    return " ".join(names.get(key, key) for key in keys)


CLOSE = Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")


class HelpScreen(ModalScreen[None]):
    """Lists each group of keys; any key closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [CLOSE]

    def __init__(self, groups: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self._groups = groups

    def compose(self) -> ComposeResult:
        lines: list[str | tuple[str, str]] = []
        for title, bindings in self._groups:
            lines += [(title, "bold underline"), "\n"]
            for binding in bindings:
                if not isinstance(binding, Binding):
                    continue
                lines += [
                    (f"  {_keys(keys_of(self.app, binding)):<18}", "bold"),
                    binding.tooltip or binding.description,
                    "\n",
                ]
            lines.append("\n")
        *some, last = _keys(keys_of(self.app, CLOSE)).split(" ")
        closing = f"{', '.join(some)} or {last}" if some else last
        lines.append((f"{closing} closes this help.", "$text-muted"))
        with VerticalScroll(id="help-body"):
            yield Static(Content.assemble(*lines))
