"""The thread pane: every message of one conversation, oldest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from dminbox.engine.changes import PendingMessage
from dminbox.links import thread_links, thread_numbers
from dminbox.models import Conversation, Status
from dminbox.text import one_line
from dminbox.ui.render import Clock, author_line, participants, status_body, utc_now
from dminbox.ui.screens.links import LinksScreen


class MessageView(Static):
    """One message: who, when, and the body (content warning folded)."""

    def __init__(
        self,
        status: Status,
        now: datetime,
        *,
        reveal: bool = False,
        waiting: str | None = None,
        numbers: Mapping[str, int] | None = None,
    ) -> None:
        self.status = status
        self._now = now
        self._numbers = numbers
        """The thread's link numbers: [n] counts across messages."""
        self.reveal = reveal
        self.waiting = waiting
        """For a message not yet confirmed by the server: why it waits ("" while sending)."""
        classes = "message" if waiting is None else "message -pending"
        super().__init__(self._content(), classes=classes)

    def toggle(self) -> None:
        self.reveal = not self.reveal
        self.update(self._content())

    def _content(self) -> Content:
        parts: list[Content | str | tuple[str, str]] = [author_line(self.status, self._now)]
        if self.waiting is not None:
            state = f"waiting: {one_line(self.waiting, 100)}" if self.waiting else "sending…"
            parts.append((f"  ⧗ {state}", "$warning"))
        body = status_body(self.status, reveal=self.reveal, numbers=self._numbers)
        return Content.assemble(*parts, "\n", body)


class ThreadView(VerticalScroll, can_focus=True):
    """The open conversation's messages, scrollable with vim keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "j,down",
            "scroll_down",
            "Move",
            key_display="j/k",
            tooltip="Scroll down",
            id="thread.down",
        ),
        Binding("k,up", "scroll_up", "Up", show=False, tooltip="Scroll up", id="thread.up"),
        Binding(
            "g,home",
            "scroll_home",
            "Ends",
            key_display="g/G",
            tooltip="First message",
            id="thread.top",
        ),
        Binding(
            "G,end", "scroll_end", "Bottom", show=False, tooltip="Last message", id="thread.bottom"
        ),
        Binding(
            "space,pagedown",
            "page_down",
            "Page down",
            show=False,
            tooltip="One screen down",
            id="thread.page_down",
        ),
        Binding(
            "b,pageup",
            "page_up",
            "Page up",
            show=False,
            tooltip="One screen up",
            id="thread.page_up",
        ),
        Binding(
            "c",
            "toggle_warnings",
            "CW",
            tooltip="Show or hide content warnings",
            id="thread.warnings",
        ),
        Binding(
            "o",
            "links",
            "Links",
            id="thread.links",
            tooltip="Links and media: copy, open ($BROWSER)",
        ),
    ]

    def __init__(self, *, clock: Clock | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = clock or utc_now
        self.conversation: Conversation | None = None
        self.statuses: tuple[Status, ...] = ()
        """The messages shown, oldest first (the server's; pending ones apart)."""
        self.pending_statuses: tuple[Status, ...] = ()
        """The user's messages shown after them, still on their way."""
        self._shown_ids: tuple[str, ...] = ()
        self._shown_note = ""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Select a conversation and press enter.", classes="thread-hint")

    def show(
        self,
        conversation: Conversation,
        statuses: Sequence[Status],
        note: str = "",
        pending: Sequence[PendingMessage] = (),
    ) -> None:
        """Shows these messages, then the user's still on their way; keeps revealed
        warnings and the scroll if nothing changed."""
        ids = tuple(status.id for status in statuses)
        ids += tuple(f"{p.status.id}:{p.waiting}" for p in pending)
        same = conversation.id == getattr(self.conversation, "id", None)
        if same and ids == self._shown_ids and note == self._shown_note:
            return
        self._shown_note = note
        revealed = {m.status.id for m in self.query(MessageView) if m.reveal} if same else set()
        at_end = self.scroll_y >= self.max_scroll_y
        previous = self._shown_ids
        self.conversation = conversation
        self.statuses = tuple(statuses)
        self.pending_statuses = tuple(p.status for p in pending)
        self._shown_ids = ids
        now = self._now()
        numbers = thread_numbers((*self.statuses, *self.pending_statuses))
        title = Content.assemble(
            ("With ", "$text-muted"), (participants(conversation.accounts, limit=8), "bold")
        )
        widgets: list[Static] = [Static(title, classes="thread-title")]
        widgets += [MessageView(s, now, reveal=s.id in revealed, numbers=numbers) for s in statuses]
        widgets += [
            MessageView(p.status, now, reveal=True, waiting=p.waiting, numbers=numbers)
            for p in pending
        ]
        if note:
            widgets.append(Static(Content(one_line(note)), classes="thread-note"))
        with self.app.batch_update():
            self.remove_children()
            self.mount_all(widgets)
        if not same or pending or (at_end and ids[: len(previous)] == previous):
            # A new conversation opens at its end; the view follows new messages only
            # when it was at the end already.
            self.call_after_refresh(self.scroll_end, animate=False)

    def clear(self) -> None:
        self.conversation = None
        self.statuses = ()
        self.pending_statuses = ()
        self._shown_ids = ()
        self._shown_note = ""
        self.remove_children()
        self.mount(Static("Select a conversation and press enter.", classes="thread-hint"))

    def action_toggle_warnings(self) -> None:
        messages = [m for m in self.query(MessageView) if m.status.spoiler_text]
        if not messages:
            self.notify("No content warnings in this thread.", markup=False)
            return
        reveal = not all(m.reveal for m in messages)
        for message in messages:
            if message.reveal != reveal:
                message.toggle()

    def action_links(self) -> None:
        """The picker of the thread's links and media (the list's `o` comes here too)."""
        if self.conversation is None:
            self.notify("Open a conversation first (enter).", markup=False, timeout=3)
            return
        entries = thread_links((*self.statuses, *self.pending_statuses))
        if not entries:
            self.notify("No links or media in this thread.", markup=False, timeout=3)
            return
        who = participants(self.conversation.accounts, limit=3)
        self.app.push_screen(LinksScreen(entries, who))
