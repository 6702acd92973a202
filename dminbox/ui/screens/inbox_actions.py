"""What the inbox screen does to the server: mark read, remove, undo, and going offline.

Every action is first written to the session's queue (durable in the cache),
shown on screen at once, then sent. The server's answer decides what stays:
sent, gone (404: the row goes), refused (the row comes back as it was, with
a message), or kept for later (offline: retried with backoff, marked pending).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen
from textual.timer import Timer

from dminbox.errors import ApiError, AuthenticationError, NetworkError
from dminbox.models import Conversation
from dminbox.session import ActionResult, CacheWriteError, InboxSession
from dminbox.text import one_line
from dminbox.ui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from dminbox.inbox import Inbox
    from dminbox.ui.widgets.conversation_list import ConversationList
    from dminbox.ui.widgets.thread_view import ThreadView

UNDO_SECONDS = 5.0
"""How long a removal can be undone before it is sent."""
RETRY_DELAYS = (2.0, 4.0, 8.0, 16.0, 30.0, 60.0)
"""Seconds between tries to reach the server again while offline; the last repeats."""


class InboxActions(Screen[None]):
    """The server-changing half of the inbox screen."""

    inbox: Inbox
    conversation_list: ConversationList
    thread_view: ThreadView

    def __init__(self, session: InboxSession) -> None:
        super().__init__()
        self.session = session
        self.pending_reads: set[str] = set()
        """Conversations marked read here whose read the server has not yet confirmed."""
        self.undo_stack: list[tuple[int, int, Conversation]] = []
        """(queue number, row index, row) of removals that `u` can still take back."""
        self.offline = False
        self._send_lock = asyncio.Lock()
        self._retry_timer: Timer | None = None
        self._retries = 0
        self._told_token_refused = False
        self._bindings_state: tuple[bool | None, ...] = ()
        self._notice_shown: str | None = None
        self._told_later = False
        self._queue_retries = 0
        self._queue_timer: Timer | None = None
        self._queue_retries = 0
        self._removed_at: dict[str, int] = {}
        """Where each removed row stood, to put it back there if the server refuses."""

    # -- mark read -----------------------------------------------------------

    def action_mark_read(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        if not conversation.unread:
            self.notify("Already read.", markup=False, timeout=2)
            return
        self.mark_read(conversation)

    def mark_read(self, conversation: Conversation) -> None:
        current = self._current(conversation.id)
        if current is None or not current.unread:
            return
        try:
            self.session.queue("read", current)
        except CacheWriteError as error:
            self.report(error)
            return
        self.pending_reads.add(current.id)
        self._set_row(current.model_copy(update={"unread": False}))
        self.send_queued()

    # -- remove and undo -----------------------------------------------------

    def action_remove(self) -> None:
        conversation = self._target()
        if conversation is None or conversation.id not in self.inbox:
            return
        try:
            seq = self.session.queue("remove", conversation, delay=UNDO_SECONDS)
        except CacheWriteError as error:
            self.report(error)
            return
        removed = self.inbox.remove(conversation.id)
        assert removed is not None
        index, row = removed
        self._removed_at[row.id] = index
        self.undo_stack.append((seq, index, row))
        self.set_timer(UNDO_SECONDS + 0.05, self.send_queued)
        self._after_row_gone(row.id)
        who = one_line(", ".join(a.label for a in row.accounts) or "yourself", 40)
        self.notify(
            f"Removed the conversation with {who}. u undoes.", markup=False, timeout=UNDO_SECONDS
        )

    def action_undo(self) -> None:
        while self.undo_stack:
            seq, index, row = self.undo_stack.pop()
            if self.session.cancel(seq) is None:
                self.sync_bindings()
                self.notify(
                    "Too late to undo: the removal is being sent or was sent.",
                    markup=False,
                    timeout=3,
                )
                return
            keep = self._highlighted_id()
            index = self.inbox.restore(index, row)
            self.conversation_list.rows_changed(keep)
            self.conversation_list.cursor = index
            self.update_title()
            self.sync_bindings()
            self.notify("Removal undone.", markup=False, timeout=2)
            return
        self.sync_bindings()
        self.notify("Nothing to undo.", markup=False, timeout=2)

    # -- sending the queue ---------------------------------------------------

    def schedule_delayed_actions(self) -> None:
        """Removals left in their undo window by an earlier run are sent when it closes."""
        now = self.session.now()
        for action in self.session.queued():
            if action.not_before > now:
                self.set_timer(action.not_before - now + 0.05, self.send_queued)

    @work(group="send", exit_on_error=False)
    async def send_queued(self) -> None:
        await self.send_queued_now()

    async def send_queued_now(self, *, everything: bool = False) -> list[ActionResult]:
        """Sends what is due, one sender at a time, and shows each outcome."""
        async with self._send_lock:
            results = await self.session.send_queued(everything=everything)
        for result in results:
            self._apply(result)
        sent = {r.action.seq for r in results if r.kind != "kept"}
        self.undo_stack = [entry for entry in self.undo_stack if entry[0] not in sent]
        self.sync_bindings()
        self.update_title()
        self._arm_queue_timer()
        return results

    def _arm_queue_timer(self) -> None:
        """While actions wait (a rate limit, a server asking for patience), one timer
        brings them back: at their due time, and not sooner than the backoff allows."""
        if self._queue_timer is not None:
            self._queue_timer.stop()
            self._queue_timer = None
        waiting = [a for a in self.session.queued() if a.attempts > 0]
        if not waiting or self.offline:
            return
        delay = RETRY_DELAYS[min(self._queue_retries, len(RETRY_DELAYS) - 1)]
        due = min(a.not_before for a in waiting) - self.session.now()
        self._queue_retries += 1
        self._queue_timer = self.set_timer(max(delay, due + 0.05), self.send_queued)

    async def flush(self) -> str | None:
        """Before quitting: sends everything, undo window or not; says what could not go."""
        for timer in list(self._timers):
            timer.stop()
        results = await self.send_queued_now(everything=True)
        left = len(self.session.queued())
        if not left:
            return None
        durable = self.session.durable
        reason = next((r.message for r in results if r.kind == "kept" and r.message), "")
        if durable:
            return f"dminbox: {left} action(s) not sent yet ({reason}); sent on the next start."
        return f"dminbox: {left} action(s) could not be sent: {reason}"

    def _apply(self, result: ActionResult) -> None:
        action = result.action
        conversation_id = action.conversation_id
        if result.kind == "kept":
            if result.why == "token":
                self._token_refused(result.message or "refused")
            elif result.why == "network":
                self._go_offline()
            else:
                if not self._told_later:
                    self._told_later = True
                    self.notify(
                        one_line(f"Not sent yet, will retry: {result.message}"),
                        severity="warning",
                        markup=False,
                        timeout=6,
                    )
                self._schedule_retry()
            return
        self._told_later = False
        self._queue_retries = 0
        self.pending_reads.discard(conversation_id)
        self.conversation_list.row_changed(conversation_id)
        if result.kind == "sent":
            self.went_online()
        elif result.kind == "gone":
            if self.inbox.remove(conversation_id) is not None:
                self._after_row_gone(conversation_id)
            if action.action == "read":
                self.notify("That conversation is already gone.", markup=False, timeout=4)
        elif result.kind == "refused":
            verb = "mark read" if action.action == "read" else "remove"
            if action.action == "read":
                current = self._current(conversation_id)
                if current is not None:
                    self._set_row(current.model_copy(update={"unread": True}))
            elif action.snapshot is not None:
                keep = self._highlighted_id()
                index = self._removed_at.get(conversation_id, 0)
                self.inbox.restore(index, action.snapshot)
                self.conversation_list.rows_changed(keep)
            message = one_line(f"Could not {verb}: {result.message}")
            self.notify(message, severity="error", markup=False, timeout=8)

    # -- offline ---------------------------------------------------------------

    def report(self, error: ApiError, prefix: str = "", *, quiet_offline: bool = False) -> None:
        """Shows an error in one line; a network error switches to offline mode instead."""
        if isinstance(error, NetworkError):
            first = not self.offline
            self._go_offline()
            if first and not quiet_offline:
                self.notify(
                    one_line(f"Offline, showing the cache: {error}"),
                    severity="warning",
                    markup=False,
                    timeout=6,
                )
            return
        if isinstance(error, AuthenticationError):
            self._token_refused(str(error))
            return
        text = one_line(f"{prefix}: {error}" if prefix else str(error))
        self.notify(text, severity="error", markup=False, timeout=8)

    def _token_refused(self, reason: str) -> None:
        """Once per inbox: say the token was refused and offer to log in again."""
        if self._told_token_refused:
            return
        self._told_token_refused = True
        from dminbox.ui.screens.token_refused import TokenRefusedScreen

        app = self.app
        label = getattr(app, "account_label", "") or self.session.instance

        def answer(again: bool | None) -> None:
            if again:
                app.action_login(self.session.instance)  # type: ignore[attr-defined]

        app.push_screen(TokenRefusedScreen(label, reason), answer)

    def _go_offline(self) -> None:
        if not self.offline:
            self.offline = True
            self.add_class("-offline")
            self.update_title()
        self._schedule_retry()

    def went_online(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        self._retries = 0
        if self.offline:
            self.offline = False
            self.remove_class("-offline")
            self.update_title()
            if self.session.queued():
                self.send_queued()

    def _schedule_retry(self) -> None:
        if self._retry_timer is not None:
            return
        delay = RETRY_DELAYS[min(self._retries, len(RETRY_DELAYS) - 1)]
        self._retries += 1
        self._retry_timer = self.set_timer(delay, self._retry)

    def _retry(self) -> None:
        self._retry_timer = None
        self.reconcile()  # type: ignore[attr-defined]

    # -- rows --------------------------------------------------------------------

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
        self.update_title()

    def _after_row_gone(self, conversation_id: str) -> None:
        self.conversation_list.rows_changed()
        self.update_title()
        self.sync_bindings()
        shown = self.thread_view.conversation
        if shown is not None and shown.id == conversation_id:
            self.thread_view.clear()
            self.action_back()  # type: ignore[attr-defined]

    def update_title(self) -> None:
        notice = self.session.notice
        if notice and notice != self._notice_shown:
            # The cache was found damaged (at start, or later) and rebuilt: say so once.
            self._notice_shown = notice
            self.notify(one_line(notice), severity="warning", markup=False, timeout=10)
        # The cache may hold fewer rows than are loaded (it is pruned): take the larger.
        unread = max(self.inbox.unread_count, self.session.unread_count())
        parts = [f"{unread} unread" if unread else "all read"]
        pending = len(self.session.queued())
        if pending:
            parts.append(f"{pending} pending")
        if self.offline:
            parts.append("offline")
        self.query_one(TitleBar).show(self.app.title, " · ".join(parts))

    @property
    def status_line(self) -> str:
        """What the title bar says of the inbox: unread, pending, offline."""
        return self.query_one(TitleBar).status

    def sync_bindings(self) -> None:
        """Refreshes the footer only when a key appears or goes: a rebuild costs ~20 ms."""
        state = tuple(self.check_action(a, ()) for a in ("back", "switch_pane", "undo"))
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()
