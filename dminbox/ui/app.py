"""The dminbox Textual application: built on an engine, shared by the CLI and the tests."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dminbox.config import Reading
from dminbox.engine import Engine
from dminbox.session import EngineOpener
from dminbox.text import one_line
from dminbox.ui import commands
from dminbox.ui.keys import pair_display, start_theme
from dminbox.ui.render import Clock
from dminbox.ui.screens.inbox import InboxScreen

if TYPE_CHECKING:
    from dminbox.accounts import StoredAccount
    from dminbox.config import Settings

log = logging.getLogger(__name__)

NO_ACCOUNT = "dminbox: no account: log in with `dminbox login INSTANCE`, or try `dminbox --demo`"


class DmInboxApp(App[int]):
    """A keyboard-driven inbox for Mastodon direct messages."""

    CSS_PATH = "app.tcss"
    TITLE = "dminbox"
    COMMANDS = commands.PROVIDERS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "accounts",
            "Acct",
            tooltip="Switch account, or log in to another",
            id="app.accounts",
        ),
        Binding(
            "q", "quit", "Quit", tooltip="Quit (pending removals are sent first)", id="app.quit"
        ),
        Binding(
            "ctrl+c", "quit", "Quit", show=False, priority=True, tooltip="Quit", id="app.interrupt"
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            tooltip="Every action, account and theme, to search (the command palette)",
            id="app.commands",
        ),
    ]

    def __init__(
        self,
        engine: Engine | None,
        *,
        label: str = "",
        clock: Clock | None = None,
        opener: EngineOpener | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        """None when started with no account: the login screen comes first."""
        self.opener = opener
        self.account_label = label
        self._clock = clock
        self.bell_on = False
        """Ring the bell when a new message arrives by itself (`--bell`)."""
        self.notify_on = False
        """Raise a terminal notification then (`--notify`)."""
        self.reading = Reading()
        """The config file's reading options (preview, mark read); the inbox reads them."""
        self.user_keys: dict[str, str] = {}
        """The config file's `[keys]`, binding id -> keys, applied with `set_keymap`."""
        self.configured_theme: str | None = None
        self.inbox_screen = InboxScreen(engine, clock=clock) if engine else None
        self._set_label(label)

    def _set_label(self, label: str) -> None:
        self.account_label = label
        self.title = f"dminbox · {one_line(label, 60)}" if label else "dminbox"

    def configure(self, settings: Settings) -> None:
        """Applies what the user set (command line, environment, config file) before the run."""
        self.bell_on, self.notify_on = settings.bell, settings.notify
        self.reading = settings.reading
        self.user_keys = dict(settings.keys)
        self.set_keymap(self.user_keys)
        self.configured_theme = settings.theme
        if (theme := start_theme(settings.theme)) in self.available_themes:
            self.theme = theme

    def choose_theme(self, name: str) -> None:
        """A theme chosen in the command palette: applied, and remembered for the next start."""
        from dminbox.user_config import remember_theme

        self.theme = name
        self.run_worker(partial(remember_theme, name), thread=True, exit_on_error=False)
        if self.configured_theme and self.configured_theme != name:
            text = f"Until you quit: the config file sets {self.configured_theme} at start."
            self.notify(text, markup=False, timeout=5)

    def get_key_display(self, binding: Binding) -> str:
        """A pair shown as one (`j/k`) follows the user's keys for both halves."""
        return pair_display(self, binding) or super().get_key_display(binding)

    def get_default_screen(self) -> Screen[Any]:
        """The inbox is the bottom of the screen stack itself, not pushed over a blank
        screen: one screen less to lay out and draw makes the first frame ~20 ms sooner."""
        if self.inbox_screen is not None:
            return self.inbox_screen
        return super().get_default_screen()

    def on_mount(self) -> None:
        if self.inbox_screen is None:
            self.action_login(first=True)

    def alert(self, title: str, body: str) -> None:
        """A new message came: the bell and a terminal notification, if the user wants them."""
        if self.bell_on:
            self.bell()
        if self.notify_on and self._driver is not None:
            from dminbox.ui.alerts import notification

            self._driver.write(notification(title, body))

    async def action_quit(self) -> None:
        """Quits, first sending what is queued, removals inside their undo window too."""
        message = await self.inbox_screen.flush() if self.inbox_screen else None
        self.exit(0, message=one_line(message) if message else None)

    async def on_unmount(self) -> None:
        if self.engine is not None:
            await self.engine.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in any worker is logged and shown in one line, and the screen stays usable:
        a half-done switch of account goes back to the inbox it came from."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        from dminbox.ui.screens.switching import SwitchingScreen

        error = event.worker.error
        log.error("worker %s failed", event.worker.name, exc_info=error)
        if isinstance(self.screen, SwitchingScreen):
            self.pop_screen()
        text = one_line(f"Unexpected error: {type(error).__name__}: {error}", 200)
        self.notify(text, severity="error", markup=False, timeout=10)

    # -- accounts ------------------------------------------------------------

    def action_accounts(self) -> None:
        from dminbox.accounts import list_accounts
        from dminbox.errors import ConfigError
        from dminbox.ui.screens.accounts import ADD, AccountsScreen

        try:
            entries = list_accounts()
        except ConfigError as error:
            self.notify(one_line(str(error)), severity="error", markup=False)
            return

        def chosen(acct: str | None) -> None:
            if acct == ADD:
                self.action_login()
            elif acct and acct != self.account_label:
                self.switch_to_acct(acct)

        self.push_screen(AccountsScreen(entries, self.account_label), chosen)

    def action_login(self, instance: str = "", first: bool = False) -> None:
        from dminbox.ui.screens.login import LoginScreen

        transport = self.opener.transport if self.opener else None

        def done(stored: StoredAccount | None) -> None:
            if stored is not None:
                self.notify(f"Logged in as {one_line(stored.acct)}.", markup=False)
                self.switch_account(stored)
            elif first:
                self.exit(2, return_code=2, message=NO_ACCOUNT)

        self.push_screen(LoginScreen(instance, transport=transport), done)

    def switch_to_acct(self, acct: str) -> None:
        self.run_worker(
            self._resolve_and_switch(acct), group="switch", exclusive=True, exit_on_error=False
        )

    async def _resolve_and_switch(self, acct: str) -> None:
        """A token_command may take its time (a password manager): not on the UI's loop."""
        import asyncio

        from dminbox.accounts import resolve_account
        from dminbox.errors import ConfigError

        try:
            stored = await asyncio.to_thread(resolve_account, acct)
        except ConfigError as error:
            self.notify(one_line(str(error)), severity="error", markup=False)
            return
        if stored is not None:
            await self._switch(stored)

    def switch_account(self, stored: StoredAccount) -> None:
        """Replaces the inbox with another account's, sending what the old one queued."""
        self.run_worker(self._switch(stored), group="switch", exclusive=True, exit_on_error=False)

    async def _switch(self, stored: StoredAccount) -> None:
        from dminbox.errors import ConfigError
        from dminbox.ui.screens.switching import SwitchingScreen

        opener = self.opener or EngineOpener(_default_settings())
        # Keys wait while the old inbox sends what it queued: nothing slips in between.
        await self.push_screen(SwitchingScreen(stored.acct))
        if self.inbox_screen is not None:
            unsent = await self.inbox_screen.flush()
            if unsent:
                self.notify(one_line(unsent), severity="warning", markup=False, timeout=10)
        old = self.engine
        try:
            new_engine = opener.open(stored)
        except ConfigError as error:
            self.pop_screen()
            self.notify(
                f"Cannot open {one_line(stored.acct)}: {one_line(str(error))}",
                severity="error",
                markup=False,
            )
            return
        self.engine = new_engine
        first = self.inbox_screen is None
        self.inbox_screen = InboxScreen(new_engine, clock=self._clock)
        self._set_label(stored.acct)
        # The bottom screen stays (the first inbox, or the blank screen of a start with no
        # account: Textual keeps one there); the new inbox replaces what is above it.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if first and len(self.screen_stack) == 1:
            await self.push_screen(self.inbox_screen)
        else:
            await self.switch_screen(self.inbox_screen)
        if old is not None:
            await old.close()
            # The first inbox's screen stays at the bottom of the stack; its rows need not.
            old.inbox.clear()


def _default_settings():  # type: ignore[no-untyped-def]
    from dminbox.config import DEMO_INSTANCE, Settings

    return Settings(instance=DEMO_INSTANCE, token="none")
