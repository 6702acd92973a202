"""The baseline for terminal_bytes: a bare Textual app showing the demo inbox in a stock OptionList.

    .venv/bin/python bench/baseline_optionlist.py

Header, OptionList (`height: 1fr`), Footer. The rows are the demo inbox's,
one line each, laid out like dminbox's; they arrive in pages of 40 by the same
rule dminbox follows (another page whenever the highlight or the bottom of
the view comes within 60 rows of the end), one page per frame. Keys are the
OptionList's own: down, up, end, home. ctrl+q quits.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Footer, Header, OptionList

from dminbox.page import PAGE_SIZE
from dminbox.ui.widgets.conversation_list import NEAR_END_ROWS

from sample_rows import demo_conversations, option_prompt

PROMPT_WIDTH = 110
"""Columns per prompt: one line each inside the list at 120 columns."""


class BaselineApp(App[None]):
    """A stock OptionList of the demo inbox, paged like dminbox."""

    TITLE = "OptionList baseline"
    CSS = "OptionList { height: 1fr; }"

    def __init__(self, prompts: list[Content]) -> None:
        super().__init__()
        self.prompts = prompts
        self.loaded = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield OptionList()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.check_near_end()

    def on_option_list_option_highlighted(self) -> None:
        self.check_near_end()

    def check_near_end(self) -> None:
        """Adds the next page when close to the end, then looks again after the next frame."""
        options = self.query_one(OptionList)
        last_visible = int(options.scroll_y) + options.scrollable_content_region.height
        near = max(options.highlighted or 0, last_visible) >= options.option_count - NEAR_END_ROWS
        if near and self.loaded < len(self.prompts):
            options.add_options(self.prompts[self.loaded : self.loaded + PAGE_SIZE])
            if options.highlighted is None:
                options.highlighted = 0
            self.loaded += PAGE_SIZE
            self.call_after_refresh(self.check_near_end)


def main() -> None:
    BaselineApp([option_prompt(c, PROMPT_WIDTH) for c in demo_conversations()]).run()


if __name__ == "__main__":
    main()
