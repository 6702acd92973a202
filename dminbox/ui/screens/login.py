"""Logging in from inside the app: type the instance, open the address anywhere, paste the code."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.style import Style
from textual.widgets import Input, Static

from dminbox.accounts import StoredAccount
from dminbox.errors import ConfigError, LoginError
from dminbox.login_flow import LoginAttempt
from dminbox.oauth import parse_instance
from dminbox.text import clean, one_line


class LoginScreen(ModalScreen[StoredAccount | None]):
    """Returns the stored account once logged in, or None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", tooltip="Cancel the login", id="login.cancel"),
        Binding(
            "ctrl+y",
            "copy_url",
            "Copy address",
            tooltip="Copy the address (OSC 52)",
            id="login.copy_url",
        ),
    ]

    def __init__(self, instance: str = "", *, transport: object = None) -> None:
        super().__init__()
        self._instance = instance
        self._attempt = LoginAttempt(transport)  # type: ignore[arg-type]

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static(Content.styled("Log in to a Mastodon account", "bold"))
            yield Static("Instance (mastodon.social, or @you@host), then Enter:")
            yield Input(self._instance, placeholder="mastodon.social", id="instance")
            yield Static("", id="login-url")
            yield Input(placeholder="paste the code here, then Enter", id="code", disabled=True)
            yield Static("", id="login-status")
            yield Static(Content("Esc cancels · ctrl+y copies the address"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#instance", Input).focus()

    async def on_unmount(self) -> None:
        await self._attempt.aclose()

    def _say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#login-status", Static)
        status.set_class(error, "-error")
        status.update(Content(one_line(text, 300)))

    @on(Input.Submitted, "#instance")
    def _instance_given(self, event: Input.Submitted) -> None:
        try:
            target = parse_instance(event.value)
        except ConfigError as error:
            self._say(str(error), error=True)
            return
        self._say(f"Asking {target.host}…")
        self._prepare(target)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _prepare(self, target) -> None:  # type: ignore[no-untyped-def]
        try:
            started = await self._attempt.start(target)
        except (LoginError, ConfigError) as error:
            self._say(str(error), error=True)
            return
        url = clean(started.url)
        self.query_one("#login-url", Static).update(
            Content.assemble(
                f"Open this address in a browser on any device, log in to {target.host} "
                "and allow dminbox:\n\n",
                (url, Style(link=url, underline=True)),
                "\n\nctrl+y copies it. The page then shows a code:",
            )
        )
        code = self.query_one("#code", Input)
        code.disabled = False
        code.focus()
        self._say("Waiting for the code.")

    def action_copy_url(self) -> None:
        """Copies the address through the terminal (OSC 52), which works over ssh too."""
        if self._attempt.started is None:
            return
        self.app.copy_to_clipboard(clean(self._attempt.started.url))
        self._say("Address copied to the clipboard (if your terminal allows it).")

    @on(Input.Submitted, "#code")
    def _code_given(self, event: Input.Submitted) -> None:
        if not event.value.strip() or self._attempt.started is None:
            return
        self._say("Checking the code…")
        self._finish(event.value)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _finish(self, code: str) -> None:
        try:
            stored, _note = await self._attempt.finish(code)
        except (LoginError, ConfigError) as error:
            self._say(str(error), error=True)
            return
        self.dismiss(stored)
