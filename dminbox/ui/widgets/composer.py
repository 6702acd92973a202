"""The composer: a reply under the thread it answers, or a new direct message.

It holds the draft being edited and nothing else: the engine keeps drafts
(saved while typing, a moment after the last key) and sends messages. The
composer posts `SendAsked` once its checks pass, and `Closed` on escape;
the inbox screen does the rest.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widgets import Input, Static, TextArea

from dminbox.engine import NEW_KEY, Draft, reply_key
from dminbox.text import one_line

if TYPE_CHECKING:
    from dminbox.engine import Engine
    from dminbox.models import Conversation, Status


def _rules():  # type: ignore[no-untyped-def]
    """The rules of writing a DM (`dminbox.compose`), imported when first needed: they
    load the `regex` module, which the first frame has no use for."""
    from dminbox import compose

    return compose


SAVE_DELAY = 0.5
"""Seconds after the last key before the draft is saved."""


class _KnownAccounts(Suggester):
    """Completes the last acct in the To: field from the accounts in the cache."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._engine = engine

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(",")
        typed = last.strip().lstrip("@")
        if not typed:
            return None
        for account in await self._engine.writer.known_accounts(typed, 1):
            if account.acct.lower().startswith(typed.lower()):
                lead = f"{head}, " if head else ""
                return f"{lead}@{account.acct}"
        return None


class Composer(Vertical, can_focus=False):
    """A draft: who it goes to, its content warning, its text, its length."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", tooltip="Send the message", id="composer.send"),
        Binding(
            "ctrl+o",
            "editor",
            "Editor",
            tooltip="Write the text in $VISUAL or $EDITOR",
            id="composer.editor",
        ),
        Binding(
            "escape", "close", "Close", tooltip="Close; the draft is kept", id="composer.close"
        ),
        Binding(
            "tab",
            "app.focus_next",
            "Next",
            show=False,
            tooltip="Next field",
            id="composer.next_field",
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Back",
            show=False,
            tooltip="Previous field",
            id="composer.previous_field",
        ),
    ]

    class SendAsked(Message):
        """The user sent a draft that passed the checks (or was sent anyway)."""

        def __init__(self, draft: Draft) -> None:
            super().__init__()
            self.draft = draft

    class Closed(Message):
        """The composer closed; its draft was saved."""

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.engine = engine
        self.draft: Draft | None = None
        """The draft being edited; None while closed."""
        self.participants: list[str] = []
        """A reply's participants (accts), the user left out: what the check compares with."""
        self.to_self = False
        """A reply in a note to yourself: mentioning nobody is what keeps it yours."""
        self._limits: Any = None
        """The server's limits (`compose.Limits`), once the composer first opens."""
        self._save_timer: Timer | None = None
        self._dirty = False
        self._confirmed: Draft | None = None
        """The draft the user chose to send despite the warning: asked once."""

    def compose(self) -> ComposeResult:
        yield Static("", id="composer-head")
        with Horizontal(id="composer-to-row", classes="composer-row"):
            yield Static("To ", classes="composer-label")
            yield Input(
                placeholder="@user@host, @other (→ completes)",
                id="composer-to",
                suggester=_KnownAccounts(self.engine),
            )
        with Horizontal(classes="composer-row"):
            yield Static("CW ", classes="composer-label")
            yield Input(placeholder="content warning (optional)", id="composer-cw")
        yield TextArea(
            id="composer-body", soft_wrap=True, show_line_numbers=False, placeholder="Your message"
        )
        yield Static("", id="composer-note")

    # -- the fields ----------------------------------------------------------------

    @property
    def body(self) -> TextArea:
        return self.query_one("#composer-body", TextArea)

    @property
    def to_field(self) -> Input:
        return self.query_one("#composer-to", Input)

    @property
    def cw_field(self) -> Input:
        return self.query_one("#composer-cw", Input)

    @property
    def is_open(self) -> bool:
        return self.draft is not None

    @property
    def is_new(self) -> bool:
        return self.draft is not None and self.draft.key == NEW_KEY

    def current(self) -> Draft | None:
        """The draft as the fields hold it now."""
        if self.draft is None:
            return None
        to = tuple(a.strip().lstrip("@") for a in self.to_field.value.split(",") if a.strip())
        return Draft(
            key=self.draft.key,
            text=self.body.text,
            spoiler_text=self.cw_field.value,
            to=to if self.is_new else (),
            in_reply_to_id=self.draft.in_reply_to_id,
            conversation_id=self.draft.conversation_id,
        )

    # -- opening and closing -------------------------------------------------------------

    async def open_reply(self, conversation: Conversation, answered: Status | None) -> None:
        """A reply to `answered` (a message of the conversation): the stored draft, or
        one that mentions every participant and carries the content warning over."""
        writer = self.engine.writer
        me = await writer.me()
        others = _rules().participants_of(conversation.accounts, me.id or None)
        self.participants = [a.acct for a in others]
        self.to_self = bool(conversation.accounts) and not others
        stored = await writer.draft(reply_key(conversation.id))
        in_reply_to = answered.id if answered else None
        if stored is not None and not stored.empty:
            draft = Draft(
                key=stored.key,
                text=stored.text,
                spoiler_text=stored.spoiler_text,
                in_reply_to_id=in_reply_to or stored.in_reply_to_id,
                conversation_id=conversation.id,
            )
        else:
            draft = Draft(
                key=reply_key(conversation.id),
                text=_rules().prefill(conversation.accounts, me.id or None),
                spoiler_text=answered.spoiler_text if answered else "",
                in_reply_to_id=in_reply_to,
                conversation_id=conversation.id,
            )
        await self._open(draft)

    async def open_new(self) -> None:
        """A new message: the stored draft, or an empty one."""
        self.participants = []
        self.to_self = False
        stored = await self.engine.writer.draft(NEW_KEY)
        await self._open(stored if stored is not None else Draft(NEW_KEY))

    async def reopen(self, draft: Draft, reason: str) -> None:
        """A message the server refused, back in the composer with the reason."""
        if draft.conversation_id is None:
            self.participants = []
        await self._open(draft)
        self.say(f"Not sent: {reason}", error=True)

    async def _open(self, draft: Draft) -> None:
        if self._limits is None:
            self._limits = _rules().Limits()  # until the server's are known
        self.draft = draft
        self._confirmed = None
        self._dirty = False
        self.query_one("#composer-to-row").display = self.is_new
        self.to_field.value = ", ".join(f"@{a}" for a in draft.to)
        self.cw_field.value = draft.spoiler_text
        self.body.load_text(draft.text)
        self.body.move_cursor(self.body.document.end)
        self.add_class("-open")
        self.say("")
        self._show_counts()
        (self.to_field if self.is_new and not draft.to else self.body).focus()
        self.run_worker(self._fetch_limits(), group="limits", exclusive=True, exit_on_error=False)

    async def _fetch_limits(self) -> None:
        self._limits = await self.engine.writer.limits()
        self._show_counts()

    async def close(self) -> None:
        """Closes, saving the draft first."""
        await self.save_now()
        self.draft = None
        self.remove_class("-open")
        self.post_message(self.Closed())

    async def save_now(self) -> None:
        """Saves the draft now, if it changed since the last save."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        draft = self.current()
        if draft is None or not self._dirty:
            return
        self._dirty = False
        await self.engine.writer.save_draft(draft)

    # -- typing ----------------------------------------------------------------------

    @on(TextArea.Changed)
    @on(Input.Changed)
    def _changed(self) -> None:
        if self.draft is None:
            return
        self._dirty = True
        self._confirmed = None
        self._show_counts()
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._save_later)

    def _save_later(self) -> None:
        self._save_timer = None
        self.run_worker(self.save_now(), group="save", exit_on_error=False)

    @on(Input.Submitted, "#composer-to")
    def _to_done(self) -> None:
        self._mention_recipients()
        self.body.focus()

    def _mention_recipients(self) -> None:
        """A new message's body starts with a mention of everyone in To: (who it reaches)."""
        draft = self.current()
        if draft is None or not self.is_new:
            return
        present = {a.lower() for a in _rules().mentioned(draft.text)}
        missing = [a for a in draft.to if a.lower() not in present]
        if missing:
            lead = " ".join(f"@{a}" for a in missing) + " "
            self.body.load_text(lead + draft.text.lstrip())
            self.body.move_cursor(self.body.document.end)

    def _show_counts(self) -> None:
        draft = self.current()
        if draft is None:
            return
        host = self.engine.host
        recipients = _rules().recipients_line(draft.text, host) or "nobody yet"
        verb = "New message to" if self.is_new else "Reply to"
        self.query_one("#composer-head", Static).update(
            Content.assemble(
                (f"{verb} ", "$text-muted"),
                (one_line(recipients, 200), "bold"),
                (" · direct", "$text-muted"),
            )
        )
        used = _rules().weighted_length(draft.text, draft.spoiler_text, limits=self._limits)
        limit = self._limits.max_characters
        style = "$error bold" if used > limit else "$text-muted"
        counter = self.query_one("#composer-note", Static)
        if not counter.has_class("-said"):
            counter.update(Content.styled(f"{used}/{limit}", style))

    def say(self, text: str, *, error: bool = False) -> None:
        """One line under the text: a warning, a refusal; "" goes back to the counter."""
        note = self.query_one("#composer-note", Static)
        note.set_class(bool(text), "-said")
        note.set_class(error, "-error")
        if text:
            note.update(Content(one_line(text)))
        else:
            self._show_counts()

    # -- sending -----------------------------------------------------------------------

    async def action_send(self) -> None:
        if self.draft is None:
            return
        if self.is_new:
            self._mention_recipients()
            if not await self._recipients_exist():
                return
        draft = self.current()
        assert draft is not None
        too_long = _rules().over_limit(draft.text, draft.spoiler_text, self._limits)
        if too_long:
            self.say(f"Not sent: {too_long}", error=True)
            return
        warning = _rules().check(draft.text, self.participants, self.engine.host)
        if warning is not None and warning.kind == "nobody" and self.to_self:
            warning = None
        if warning is not None and self._confirmed != draft:
            from dminbox.ui.screens.confirm import ConfirmScreen

            def answer(send_anyway: bool | None) -> None:
                if send_anyway:
                    self._confirmed = draft
                    self.run_worker(self.action_send(), exit_on_error=False)
                else:
                    self.say(warning.text)

            self.app.push_screen(ConfirmScreen(warning.text, "Send anyway?"), answer)
            return
        self.say("")
        self._dirty = False
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        self.draft = None
        self.remove_class("-open")
        self.post_message(self.SendAsked(draft))

    async def _recipients_exist(self) -> bool:
        """Every account in To: is one the server knows: one line for the first it doesn't."""
        from dminbox.errors import ApiError

        draft = self.current()
        assert draft is not None
        if not draft.to:
            return True
        self.say("Checking the recipients…")
        for acct in draft.to:
            try:
                account = await self.engine.writer.find_account(acct)
            except ApiError as error:
                self.say(f"Cannot check @{one_line(acct, 60)}: {error}", error=True)
                return False
            if account is None:
                host = self.engine.host
                self.say(f"No account @{one_line(acct, 60)} is known to {host}.", error=True)
                return False
        self.say("")
        return True

    # -- $EDITOR -------------------------------------------------------------------------

    def action_editor(self) -> None:
        """Hands the text to $VISUAL or $EDITOR and takes it back when the editor exits."""
        draft = self.current()
        if draft is None:
            return
        command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        folder = Path(tempfile.mkdtemp(prefix="dminbox-"))  # 0700: the draft is private
        path = folder / "message.txt"
        try:
            path.write_text(draft.text, encoding="utf-8")
            argv = [*shlex.split(command), str(path)]
            try:
                with self.app.suspend():
                    result = subprocess.run(argv, check=False)
            except Exception as error:
                from textual.app import SuspendNotSupported

                if not isinstance(error, SuspendNotSupported):
                    raise
                # No terminal to hand over (a test, a headless run): run it as it is.
                result = subprocess.run(argv, check=False, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                self.say(f"The editor exited with {result.returncode}; the text is unchanged.")
                return
            text = path.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError) as error:
            self.say(f"Cannot run the editor ({one_line(str(error), 120)}).", error=True)
            return
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()
        if text.endswith("\n") and not draft.text.endswith("\n"):
            text = text[:-1]  # editors end the file with a newline
        self.body.load_text(text)
        self.body.move_cursor(self.body.document.end)
        self.body.focus()
        self._changed()

    async def action_close(self) -> None:
        await self.close()
