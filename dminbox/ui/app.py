"""The dminbox Textual application: built from a client, shared by the CLI and the tests."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from dminbox.session import InboxSession
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
        session: InboxSession,
        *,
        label: str = "",
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.inbox_screen = InboxScreen(session, clock=clock)
        if label:
            self.title = f"dminbox · {one_line(label, 60)}"

    def on_mount(self) -> None:
        self.push_screen(self.inbox_screen)

    async def action_quit(self) -> None:
        """Quits, first sending what is queued, removals inside their undo window too."""
        message = await self.inbox_screen.flush()
        self.exit(0, message=one_line(message) if message else None)

    async def on_unmount(self) -> None:
        await self.session.close()
