"""The inbox screen: the conversation list, the open thread, and every action on them.

Widgets announce what the user did; this screen decides, talks to the client
in workers, and keeps the screen true when the server says no.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from dminbox.client import MastodonClient
from dminbox.errors import ApiError, NotFoundError
from dminbox.inbox import Inbox
from dminbox.models import Conversation, Status
from dminbox.text import one_line
from dminbox.ui.render import Clock
from dminbox.ui.screens.help import HelpScreen
from dminbox.ui.widgets.conversation_list import ConversationList
from dminbox.ui.widgets.thread_view import ThreadView

UNDO_SECONDS = 5.0
"""How long a removal can be undone before the DELETE is sent."""
NARROW_COLUMNS = 100
"""Below this width the thread replaces the list instead of standing beside it."""
REFRESH_PAGES = 10
"""At most this many `prev` pages are followed by one refresh."""

log = logging.getLogger(__name__)


@dataclass
class PendingRemoval:
    conversation: Conversation
    index: int
    timer: Timer | None = None


class InboxScreen(Screen[None]):
    """Two panes: the inbox and the open conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch_pane", "Pane", tooltip="Switch between the list and the thread"),
        Binding("escape", "back", "Back", tooltip="Back to the list"),
        Binding("m", "mark_read", "Read", tooltip="Mark the conversation read"),
        Binding("d,delete", "remove", "Remove", tooltip="Remove the conversation (undo with u)"),
        Binding("u", "undo", "Undo", tooltip="Undo the last removal"),
        Binding("r", "refresh", "Newer", tooltip="Fetch newer conversations; retry a failed page"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This help"),
    ]

    def __init__(self, client: MastodonClient, *, clock: Clock | None = None) -> None:
        super().__init__()
        self.client = client
        self.inbox = Inbox()
        self._clock = clock
        self._paging = False
        self._paging_failed = False
        self._pending: dict[str, PendingRemoval] = {}
        self._undo_order: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="✉")
        with Horizontal(id="panes"):
            yield ConversationList(self.inbox, clock=self._clock, id="conversations")
            yield ThreadView(clock=self._clock, id="thread")
        yield Footer(compact=True)

    @property
    def conversation_list(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def thread_view(self) -> ThreadView:
        return self.query_one(ThreadView)

    def on_mount(self) -> None:
        self.conversation_list.focus()
        self._update_title()
        self.load_next_page()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_COLUMNS, "-narrow")

    # -- paging ------------------------------------------------------------

    def on_conversation_list_near_end(self) -> None:
        if not self._paging_failed:
            self.load_next_page()

    def load_next_page(self) -> None:
        """Fetches the next older page unless one is loading or the end was reached."""
        inbox = self.inbox
        if self._paging or not inbox.has_more:
            return
        url = inbox.next_url if inbox.started else None
        if not inbox.should_fetch(url):
            return
        self._paging = True
        self._paging_failed = False
        self.conversation_list.footer_text = "Loading…"
        self._fetch_older(url)

    @work(group="paging", exit_on_error=False)
    async def _fetch_older(self, url: str | None) -> None:
        try:
            page = await self.client.conversations(url)
        except ApiError as error:
            self._paging_failed = True
            self.conversation_list.footer_text = f"⚠ {one_line(str(error))} (r retries)"
            self._report(error)
            return
        finally:
            self._paging = False
        keep = self._highlighted_id()
        self.inbox.add_older_page(page, url)
        self.conversation_list.footer_text = self._end_text()
        self.conversation_list.rows_changed(keep)
        self._update_title()

    def _end_text(self) -> str:
        if self.inbox.has_more:
            return "Loading…"
        count = len(self.inbox)
        if count == 0:
            return "No conversations yet. r checks for new ones."
        return f"End of inbox · {count} conversation{'s' if count != 1 else ''}"

    @work(group="refresh", exclusive=True, exit_on_error=False)
    async def refresh_newer(self) -> None:
        """Follows `prev` links until no newer conversation is left."""
        inbox = self.inbox
        before = {c.id: c.last_status.id if c.last_status else None for c in inbox}
        try:
            for _ in range(REFRESH_PAGES):
                url = inbox.prev_url
                page = await self.client.conversations(url)
                keep = self._highlighted_id()
                if not inbox.add_newer_page(page) or page.prev_url in (None, url):
                    break
                self.conversation_list.rows_changed(keep)
        except ApiError as error:
            self._report(error)
            return
        finally:
            self.conversation_list.rows_changed(self._highlighted_id())
            self._update_title()
        changed = sum(
            1
            for c in inbox
            if before.get(c.id, "-") != (c.last_status.id if c.last_status else None)
        )
        self.notify(
            f"{changed} new or updated conversation{'s' if changed != 1 else ''}."
            if changed
            else "No newer conversations.",
            markup=False,
            timeout=3,
        )

    # -- the thread --------------------------------------------------------

    def on_conversation_list_opened(self, message: ConversationList.Opened) -> None:
        self.open(message.conversation)

    def open(self, conversation: Conversation) -> None:
        """Shows a conversation's thread, focuses it, and marks it read once shown."""
        self.add_class("-reading")
        statuses = [conversation.last_status] if conversation.last_status else []
        self.thread_view.show(conversation, statuses, note="Loading the thread…")
        self.thread_view.focus()
        self.refresh_bindings()
        self.load_thread(conversation)
        if conversation.unread:
            self.call_after_refresh(self._mark_read, conversation)

    @work(group="thread", exclusive=True, exit_on_error=False)
    async def load_thread(self, conversation: Conversation) -> None:
        status = conversation.last_status
        if status is None:
            self.thread_view.show(conversation, [], note="This conversation has no messages.")
            return
        try:
            context = await self.client.context(status.id)
        except ApiError as error:
            note = f"Showing the last message only: {error}"
            self.thread_view.show(conversation, [status], note=note)
            return
        thread: list[Status] = [*context.ancestors, status, *context.descendants]
        if self.thread_view.conversation is conversation or (
            self.thread_view.conversation and self.thread_view.conversation.id == conversation.id
        ):
            self.thread_view.show(conversation, thread)

    # -- mark read -----------------------------------------------------------

    def action_mark_read(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        if not conversation.unread:
            self.notify("Already read.", markup=False, timeout=2)
            return
        self._mark_read(conversation)

    def _mark_read(self, conversation: Conversation) -> None:
        current = self._current(conversation.id)
        if current is None or not current.unread:
            return
        self._set_row(current.model_copy(update={"unread": False}))
        self._send_mark_read(current)

    @work(group="mark-read", exit_on_error=False)
    async def _send_mark_read(self, conversation: Conversation) -> None:
        try:
            await self.client.mark_read(conversation.id)
        except NotFoundError:
            self._drop_row(conversation.id, "That conversation is already gone.")
        except ApiError as error:
            current = self._current(conversation.id)
            if current is not None:
                self._set_row(current.model_copy(update={"unread": True}))
            self._report(error, prefix="Could not mark read")

    # -- remove and undo -----------------------------------------------------

    def action_remove(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        removed = self.inbox.remove(conversation.id)
        if removed is None:
            return
        index, row = removed
        pending = PendingRemoval(row, index)
        pending.timer = self.set_timer(UNDO_SECONDS, lambda: self._commit_removal(row.id))
        self._pending[row.id] = pending
        self.refresh_bindings()
        self._after_row_gone(row.id)
        who = one_line(", ".join(a.label for a in row.accounts) or "yourself", 40)
        self.notify(
            f"Removed the conversation with {who}. u undoes.", markup=False, timeout=UNDO_SECONDS
        )

    def action_undo(self) -> None:
        if not self._pending:
            self.notify("Nothing to undo.", markup=False, timeout=2)
            return
        conversation_id = next(reversed(self._pending))
        pending = self._pending.pop(conversation_id)
        if pending.timer is not None:
            pending.timer.stop()
        self._put_back(pending, message=None)
        self.refresh_bindings()
        self.notify("Removal undone.", markup=False, timeout=2)

    def _commit_removal(self, conversation_id: str) -> None:
        pending = self._pending.pop(conversation_id, None)
        self.refresh_bindings()
        if pending is not None:
            self._send_removal(pending)

    @work(group="remove", exit_on_error=False)
    async def _send_removal(self, pending: PendingRemoval) -> None:
        try:
            await self.client.remove(pending.conversation.id)
        except NotFoundError:
            pass
        except ApiError as error:
            self._put_back(pending, message=f"Could not remove: {error}")

    async def flush_removals(self) -> list[str]:
        """Sends every removal still in its undo window; returns what failed, one line each."""
        failures: list[str] = []
        while self._pending:
            _, pending = self._pending.popitem()
            if pending.timer is not None:
                pending.timer.stop()
            try:
                await self.client.remove(pending.conversation.id)
            except NotFoundError:
                continue
            except ApiError as error:
                failures.append(str(error))
        return failures

    def _put_back(self, pending: PendingRemoval, message: str | None) -> None:
        keep = self._highlighted_id()
        index = self.inbox.restore(pending.index, pending.conversation)
        self.conversation_list.rows_changed(keep)
        if message is None:
            self.conversation_list.cursor = index
        self._update_title()
        if message:
            self.notify(one_line(message), severity="error", markup=False, timeout=8)

    # -- navigation ----------------------------------------------------------

    def action_switch_pane(self) -> None:
        if self.conversation_list.has_focus and self.thread_view.conversation is not None:
            self.add_class("-reading")
            self.thread_view.focus()
        else:
            self.action_back()

    def action_back(self) -> None:
        self.remove_class("-reading")
        self.conversation_list.focus()
        self.refresh_bindings()

    def action_refresh(self) -> None:
        if self._paging_failed:
            self._paging_failed = False
            self.load_next_page()
        self.refresh_newer()

    def action_help(self) -> None:
        self.app.push_screen(
            HelpScreen(
                [
                    ("Conversation list", ConversationList.BINDINGS),
                    ("Thread", ThreadView.BINDINGS),
                    ("Everywhere", [*self.BINDINGS, *self.app.BINDINGS]),
                ]
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keeps the footer to what applies now; undo shows dimmed when there is none."""
        if action == "back":
            return self.has_class("-reading") or self.thread_view.has_focus
        if action == "switch_pane":
            # Narrow, the thread hides the list: escape is the way back.
            narrow = self.has_class("-narrow")
            return self.thread_view.conversation is not None and not narrow
        if action == "undo":
            return True if self._pending else None
        return True

    # -- helpers -------------------------------------------------------------

    def _target(self) -> Conversation | None:
        """The conversation an action applies to: the open one when reading it."""
        if self.thread_view.has_focus and self.thread_view.conversation is not None:
            return self._current(self.thread_view.conversation.id)
        return self.conversation_list.highlighted

    def _current(self, conversation_id: str) -> Conversation | None:
        index = self.inbox.index_of(conversation_id)
        return None if index is None else self.inbox[index]

    def _highlighted_id(self) -> str | None:
        conversation = self.conversation_list.highlighted
        return conversation.id if conversation else None

    def _set_row(self, conversation: Conversation) -> None:
        self.inbox.replace(conversation)
        self.conversation_list.row_changed(conversation.id)
        self._update_title()

    def _drop_row(self, conversation_id: str, message: str) -> None:
        if self.inbox.remove(conversation_id) is not None:
            self._after_row_gone(conversation_id)
        self.notify(message, markup=False, timeout=4)

    def _after_row_gone(self, conversation_id: str) -> None:
        self.conversation_list.rows_changed()
        self._update_title()
        if self.thread_view.conversation and self.thread_view.conversation.id == conversation_id:
            self.thread_view.clear()
            self.action_back()

    def _update_title(self) -> None:
        unread = self.inbox.unread_count
        self.sub_title = f"{unread} unread" if unread else "all read"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker is logged and shown as one line; the app goes on."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            log.error("worker %s failed", event.worker.name, exc_info=error)
            if event.worker.group == "paging":
                self._paging_failed = True
                self.conversation_list.footer_text = "⚠ Could not load more (r retries)"
            text = one_line(f"Unexpected error: {type(error).__name__}: {error}", 200)
            self.notify(text, severity="error", markup=False, timeout=8)

    def _report(self, error: ApiError, prefix: str = "") -> None:
        text = one_line(f"{prefix}: {error}" if prefix else str(error))
        self.notify(text, severity="error", markup=False, timeout=8)
