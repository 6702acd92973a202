"""The start-up baseline: a bare Textual app (Header, stock OptionList of 40 rows, Footer).

    .venv/bin/python bench/bare_app.py

Imports nothing of dminbox, so it costs what Textual itself costs to start.
The rows are one line each and read `Conversation 01 · …`; startup.py waits
for the first of them. ctrl+q quits.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, OptionList

ROWS = 40
FIRST_ROW = "Conversation 01"
"""The text startup.py waits for: the first row is on screen."""
TITLE = "bare Textual app"


class BareApp(App[None]):
    """Nothing but stock widgets."""

    TITLE = TITLE
    CSS = "OptionList { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Header()
        yield OptionList(
            *(
                f"Conversation {n:02d} · Tomasz Nowak · You'll be brilliant. Dinner is on me."
                for n in range(1, ROWS + 1)
            )
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()


if __name__ == "__main__":
    BareApp().run()
