"""The dminbox Textual application: built from a client, shared by the CLI and the tests."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from dminbox.client import MastodonClient
from dminbox.text import one_line
from dminbox.ui.render import Clock
from dminbox.ui.screens.inbox import InboxScreen


class DmInboxApp(App[int]):
    """A keyboard-driven inbox for Mastodon direct messages."""

    CSS_PATH = "app.tcss"
    TITLE = "dminbox"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Quit (pending removals are sent first)"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, tooltip="Quit"),
    ]

    def __init__(
        self,
        client: MastodonClient,
        *,
        label: str = "",
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.inbox_screen = InboxScreen(client, clock=clock)
        if label:
            self.title = f"dminbox · {one_line(label, 60)}"

    def on_mount(self) -> None:
        self.push_screen(self.inbox_screen)

    async def action_quit(self) -> None:
        """Quits, first sending any removal still inside its undo window."""
        failures = await self.inbox_screen.flush_removals()
        message = None
        if failures:
            message = f"dminbox: {len(failures)} removal(s) failed: {one_line(failures[0])}"
        self.exit(0, message=message)

    async def on_unmount(self) -> None:
        await self.client.aclose()
