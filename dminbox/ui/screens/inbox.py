"""The inbox screen: the conversation list and the open thread, side by side or in turn.

Widgets announce what the user did; this screen decides, asks the session
in workers, and keeps the screen true. The actions that change the server
(mark read, remove, undo) and staying useful offline live in `InboxActions`.
"""

from __future__ import annotations

import gc
import logging
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from dminbox.cache import PagingState
from dminbox.errors import ApiError
from dminbox.inbox import Inbox
from dminbox.models import Conversation
from dminbox.session import InboxSession
from dminbox.text import one_line
from dminbox.ui.render import Clock
from dminbox.ui.screens.help import HelpScreen
from dminbox.ui.screens.inbox_actions import InboxActions
from dminbox.ui.widgets.conversation_list import ConversationList
from dminbox.ui.widgets.thread_view import ThreadView
from dminbox.ui.widgets.title_bar import TitleBar

NARROW_COLUMNS = 100
"""Below this width the thread replaces the list instead of standing beside it."""
REFRESH_PAGES = 25
"""At most this many `prev` pages are followed by one refresh."""
FREEZE_ROWS = 2000
"""From this many loaded rows on, loaded objects are frozen out of full collections."""
CACHE_BATCH = 200
"""Conversations read from the cache at a time: the first screen costs the same at any size."""

log = logging.getLogger(__name__)


class InboxScreen(InboxActions):
    """Two panes: the inbox and the open conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch_pane", "Pane", tooltip="Switch between the list and the thread"),
        Binding("escape", "back", "Back", tooltip="Back to the list"),
        Binding("m", "mark_read", "Read", tooltip="Mark the conversation read"),
        Binding("d,delete", "remove", "Del", tooltip="Remove the conversation (undo with u)"),
        Binding("u", "undo", "Undo", tooltip="Undo the last removal"),
        Binding("r", "refresh", "New", tooltip="Fetch newer conversations; retry now"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This help"),
    ]

    def __init__(self, session: InboxSession, *, clock: Clock | None = None) -> None:
        super().__init__(session)
        self.inbox = Inbox()
        self._clock = clock
        self._paging = False
        self._paging_failed = False
        self._cache_has_more = True

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title-bar")
        with Horizontal(id="panes"):
            yield ConversationList(
                self.inbox, pending=self.pending_reads, clock=self._clock, id="conversations"
            )
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
        self._show_cached()
        self.update_title()
        self.schedule_delayed_actions()
        if len(self.inbox):
            self.reconcile()
        else:
            self.load_next_page()
            self.send_queued()

    def _show_cached(self) -> None:
        """Paints what the cache holds, before any request: the list and the last thread."""
        rows = self.session.cached(limit=CACHE_BATCH)
        self._cache_has_more = len(rows) >= CACHE_BATCH
        self.pending_reads.update(self.session.pending_reads())
        if not rows:
            return
        paging = self.session.paging()
        inbox = self.inbox
        inbox.add_older(rows)
        if paging.started:
            # Resume where paging stopped; otherwise (rows stored by a script, say)
            # the frontier is unknown and paging starts again from the first page.
            inbox.started = True
            inbox.next_url = paging.next_url
            inbox.prev_url = paging.prev_url
            inbox.reached_end = paging.reached_end or paging.next_url is None
        self.conversation_list.footer_text = self._end_text()
        self.conversation_list.rows_changed()
        last_open = self.session.last_open
        if last_open and (conversation := self._current(last_open)) is not None:
            self.thread_view.show(conversation, self.session.cached_thread(conversation))

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_COLUMNS, "-narrow")

    # -- paging ------------------------------------------------------------

    def on_conversation_list_near_end(self) -> None:
        if not self._paging_failed:
            self.load_next_page()

    def load_next_page(self) -> None:
        """Shows more rows: from the cache while it has them, then from the server."""
        inbox = self.inbox
        if self._paging:
            return
        if self._cache_has_more and len(inbox):
            rows = self.session.cached(after=inbox[len(inbox) - 1].id, limit=CACHE_BATCH)
            self._cache_has_more = len(rows) >= CACHE_BATCH
            if rows:
                keep = self._highlighted_id()
                first_changed = inbox.add_older(rows)
                self.conversation_list.rows_changed(keep, first_changed=first_changed)
                return
        if not inbox.has_more:
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
            page = await self.session.fetch_older(url)
        except ApiError as error:
            self._paging_failed = True
            self.conversation_list.footer_text = f"⚠ {one_line(str(error))} (r retries)"
            self.report(error)
            return
        finally:
            self._paging = False
        self.went_online()
        keep = self._highlighted_id()
        first_changed = self.inbox.add_older_page(page, url)
        if len(self.inbox) >= FREEZE_ROWS:
            # The rows live as long as the app: keep the collector from walking them
            # all again and again (a full pass over 10,000 rows takes 50 to 200 ms).
            gc.freeze()
        self._save_paging()
        self.conversation_list.footer_text = self._end_text()
        self.conversation_list.rows_changed(keep, first_changed=first_changed)
        self.update_title()

    def _save_paging(self) -> None:
        inbox = self.inbox
        self.session.save_paging(
            PagingState(inbox.next_url, inbox.prev_url, inbox.reached_end, inbox.started)
        )

    def _end_text(self) -> str:
        if self.inbox.has_more:
            return "Loading…"
        count = len(self.inbox)
        if count == 0:
            return "No conversations yet. r checks for new ones."
        return f"End of inbox · {count} conversation{'s' if count != 1 else ''}"

    @work(group="sync", exclusive=True, exit_on_error=False)
    async def reconcile(self) -> None:
        """After a start from the cache: send what is queued, then catch up with the server."""
        await self.send_queued_now()
        await self._refresh(first_page=True, quiet=True)

    @work(group="sync", exclusive=True, exit_on_error=False)
    async def refresh_newer(self) -> None:
        await self.send_queued_now()
        await self._refresh(first_page=False, quiet=False)

    async def _refresh(self, *, first_page: bool, quiet: bool) -> None:
        """Follows `prev` links until nothing newer is left; then, if asked, re-reads the
        first page so unread states changed elsewhere show."""
        inbox = self.inbox
        before = {c.id: (c.last_status.id if c.last_status else None, c.unread) for c in inbox}
        try:
            read_first_page = False
            for _ in range(REFRESH_PAGES):
                url = inbox.prev_url
                page = await self.session.fetch_newer(url)
                read_first_page = read_first_page or url is None
                self._merge_newer(page)
                if not page.conversations or url is None or page.prev_url in (None, url):
                    break
            if first_page and not read_first_page:
                self._merge_newer(await self.session.fetch_newer(None))
        except ApiError as error:
            self.report(error)
            return
        self.went_online()
        self._save_paging()
        changed = sum(
            1
            for c in inbox
            if before.get(c.id) != (c.last_status.id if c.last_status else None, c.unread)
        )
        if not quiet or changed:
            self.notify(
                f"{changed} new or updated conversation{'s' if changed != 1 else ''}."
                if changed
                else "No newer conversations.",
                markup=False,
                timeout=3,
            )

    def _merge_newer(self, page) -> None:  # type: ignore[no-untyped-def]
        keep = self._highlighted_id()
        if self.inbox.add_newer_page(page):
            self.conversation_list.rows_changed(keep)
            self.conversation_list.footer_text = self._end_text()
            self.update_title()
            self._refresh_open_thread(page.conversations)

    def _refresh_open_thread(self, conversations: list[Conversation]) -> None:
        """A new message in the conversation being read shows without reopening it."""
        shown = self.thread_view.conversation
        if shown is None:
            return
        for conversation in conversations:
            if conversation.id == shown.id and conversation.last_status != shown.last_status:
                self.thread_view.conversation = conversation
                self.load_thread(conversation)
                return

    # -- the thread --------------------------------------------------------

    def on_conversation_list_opened(self, message: ConversationList.Opened) -> None:
        self.open(message.conversation)

    def open(self, conversation: Conversation) -> None:
        """Shows a conversation's thread (from the cache at once), then refreshes it."""
        self.add_class("-reading")
        cached = self.session.cached_thread(conversation)
        self.thread_view.show(conversation, cached, note="Refreshing the thread…")
        self.thread_view.focus()
        self.sync_bindings()
        self.session.remember_open(conversation.id)
        self.load_thread(conversation)
        if conversation.unread:
            self.call_after_refresh(self.mark_read, conversation)

    @work(group="thread", exclusive=True, exit_on_error=False)
    async def load_thread(self, conversation: Conversation) -> None:
        if conversation.last_status is None:
            self.thread_view.show(conversation, [], note="This conversation has no messages.")
            return
        try:
            thread = await self.session.fetch_thread(conversation)
        except ApiError as error:
            self.report(error, quiet_offline=True)
            cached = self.session.cached_thread(conversation)
            self.thread_view.show(conversation, cached, note=f"Not refreshed: {error}")
            return
        self.went_online()
        shown = self.thread_view.conversation
        if shown is not None and shown.id == conversation.id:
            self.thread_view.show(conversation, thread)

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
        self.sync_bindings()

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
            return True if self.undo_stack else None
        return True

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
