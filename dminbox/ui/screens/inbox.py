"""The inbox screen: the conversation list and the open thread, side by side or in turn.

The screen holds no inbox state of its own. It sends the engine what the user
asked for and redraws what the engine says changed: rows, one row, the
thread, the title and the status line.
"""

from __future__ import annotations

import gc
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer

from dminbox.config import Reading
from dminbox.engine import (
    Arrived,
    Change,
    Engine,
    Notice,
    RowChanged,
    RowGone,
    RowsChanged,
    SendRefused,
    Sent,
    StateChanged,
    ThreadChanged,
    TokenRefused,
)
from dminbox.inbox import Inbox
from dminbox.models import Conversation
from dminbox.text import one_line, preview
from dminbox.ui.render import Clock, participants
from dminbox.ui.screens.finder import Finder
from dminbox.ui.screens.help import HelpScreen
from dminbox.ui.widgets.composer import Composer
from dminbox.ui.widgets.conversation_list import ConversationList
from dminbox.ui.widgets.find_bar import FindBar
from dminbox.ui.widgets.key_bar import KeyBar
from dminbox.ui.widgets.status_line import StatusLine
from dminbox.ui.widgets.thread_view import ThreadView
from dminbox.ui.widgets.title_bar import TitleBar

NARROW_COLUMNS = 100
"""Below this width the thread replaces the list instead of standing beside it."""
FREEZE_ROWS = 2000
"""From this many loaded rows on, loaded objects are frozen out of full collections."""


class InboxScreen(Screen[None]):
    """Two panes: the inbox and the open conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "tab",
            "switch_pane",
            "Pane",
            tooltip="Switch between the list and the thread",
            id="inbox.switch_pane",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the list", id="inbox.back"),
        Binding(
            "m", "mark_read", "Read", tooltip="Mark the conversation read", id="inbox.mark_read"
        ),
        Binding(
            "d,delete",
            "remove",
            "Del",
            tooltip="Remove the conversation (undo with u)",
            id="inbox.remove",
        ),
        Binding("u", "undo", "Undo", tooltip="Undo the last removal", id="inbox.undo"),
        Binding(
            "n",
            "next_unread",
            "Next",
            tooltip="Next unread conversation (loads more pages)",
            id="inbox.next_unread",
        ),
        Binding(
            "N",
            "previous_unread",
            "Prev new",
            show=False,
            tooltip="Previous unread",
            id="inbox.previous_unread",
        ),
        Binding(
            "U",
            "mark_unread",
            "Unread",
            show=False,
            tooltip="Mark unread (on GoToSocial a mark of dminbox's own, ◇, cleared on opening)",
            id="inbox.mark_unread",
        ),
        Binding(
            "r",
            "reply",
            "Reply",
            tooltip="Reply to the conversation (its last message)",
            id="inbox.reply",
        ),
        Binding(
            "C",
            "new_message",
            "Write",
            tooltip="Write a new direct message",
            id="inbox.new_message",
        ),
        Binding("o", "links", "Links", show=False, id="inbox.links", tooltip="The thread's links"),
        Binding(
            "ctrl+r",
            "refresh",
            "Fetch",
            tooltip="Fetch newer conversations; retry now",
            id="inbox.refresh",
        ),
        Binding(
            "slash",
            "find",
            "Find",
            key_display="/",
            show=False,
            tooltip="Find: filter the list as you type (names, accts, text; is:unread, from:)",
            id="inbox.find",
        ),
        # Escape clears a filter kept with enter once back in the list (after "back").
        Binding("escape", "clear_find", "Clear", show=False, id="inbox.clear_find"),
        Binding(
            "question_mark", "help", "Help", key_display="?", tooltip="This help", id="inbox.help"
        ),
    ]

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        super().__init__()
        self.engine = engine
        self._clock = clock
        self._bindings_state: tuple[bool | None, ...] = ()
        self._preview_timer: Timer | None = None
        self._frozen_at = 0
        self._live = False
        """True from mount to unmount: only then are there widgets to redraw."""
        self._thread_view = ThreadView(clock=clock, id="thread")
        self._composer = Composer(engine, id="composer")
        self.finder = Finder(self)
        """Find (`/`): the filter, and what the list shows for it."""
        engine.observe(self._on_change)

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title-bar")
        yield FindBar(id="find-bar")
        with Horizontal(id="panes"):
            yield ConversationList(
                self.engine.inbox,
                pending=self.engine.pending_reads,
                local_unread=self.engine.local_unread,
                clock=self._clock,
                id="conversations",
            )
            with Vertical(id="reading"):
                yield self._thread_view
        yield StatusLine(id="status-line")
        yield KeyBar(id="key-bar")

    @property
    def conversation_list(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def thread_view(self) -> ThreadView:
        return self._thread_view

    @property
    def composer(self) -> Composer:
        return self._composer

    async def _mount_composer(self) -> None:
        """The composer joins the screen the first time it is needed: its text fields
        would cost the first frame a good part of its time."""
        if not self._composer.is_mounted:
            await self.query_one("#reading").mount(self._composer)

    @property
    def composing(self) -> bool:
        """True while the composer is open."""
        return self.composer.is_open

    @property
    def inbox(self) -> Inbox:
        """The loaded rows (the engine's)."""
        return self.engine.inbox

    @property
    def status_line(self) -> str:
        """What the title bar says of the inbox: unread, pending, offline."""
        return self.query_one(TitleBar).status

    async def on_mount(self) -> None:
        self._live = True
        # The footer composed its keys with these answers already: no second rebuild.
        self.set_class(self.app.size.width < NARROW_COLUMNS, "-narrow")
        self._set_preview()
        self._bindings_state = self._binding_answers()
        self.conversation_list.focus()
        self._show_state()
        if not self.engine.start_if_ready():
            await self.engine.start()

    def on_conversation_list_painted(self) -> None:
        """The network waits for the first frame: nothing it brings is on it, and setting
        up the client (importing httpx) would hold the frame back by a tenth of a second.
        The list's first lines are drawn a refresh before the whole screen is written."""
        self.call_after_refresh(self.engine.connect)

    def on_unmount(self) -> None:
        self._live = False

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW_COLUMNS, "-narrow")
        self._set_preview()

    @property
    def reading(self) -> Reading:
        """The user's reading options (the config file's), else the defaults."""
        reading = getattr(self.app, "reading", None)
        return reading if isinstance(reading, Reading) else Reading()

    def _set_preview(self) -> None:
        """Side by side, the thread pane previews the row the cursor rests on."""
        narrow = self.has_class("-narrow")
        self.conversation_list.rest_delay = None if narrow else self.reading.preview_delay

    async def on_conversation_list_rested(self, message: ConversationList.Rested) -> None:
        if self.has_class("-narrow") or self.composing or self.thread_view.has_focus:
            return
        conversation = message.conversation
        shown = self.thread_view.conversation
        if shown is not None and shown.id == conversation.id:
            return
        self._preview_timer_stop()
        await self.engine.open(conversation, mark_read=False)
        after = self.reading.mark_read_after_preview
        if after is not None and conversation.unread:
            self._preview_timer = self.set_timer(
                after, lambda: self._read_after_preview(conversation.id)
            )

    def _preview_timer_stop(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = None

    def _read_after_preview(self, conversation_id: str) -> None:
        """Still on it after the option's seconds: marked read, as the user asked."""
        self._preview_timer = None
        highlighted = self.conversation_list.highlighted
        if highlighted is not None and highlighted.id == conversation_id:
            self.run_worker(self.engine.mark_read(conversation_id), exit_on_error=False)

    # -- what the engine says -----------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if not self._live:
            return
        if isinstance(change, (RowsChanged, RowChanged, RowGone)):
            self.finder.rows_changed()  # the matches shown are read again from the cache
        if isinstance(change, RowsChanged):
            self.conversation_list.rows_changed(first_changed=change.first_changed)
            self._freeze_if_large()
            self._show_state()
        elif isinstance(change, RowChanged):
            self.conversation_list.row_changed(change.conversation_id)
            self._show_state()
        elif isinstance(change, RowGone):
            shown = self.thread_view.conversation
            if shown is not None and shown.id == change.conversation_id:
                self.thread_view.clear()
                self.conversation_list.show_open(None)
                self.action_back()
        elif isinstance(change, StateChanged):
            self._show_state()
        elif isinstance(change, ThreadChanged):
            opened = self.engine.open_conversation
            if opened is not None and opened.id == change.conversation.id:
                self.thread_view.show(
                    change.conversation, change.statuses, note=change.note, pending=change.pending
                )
        elif isinstance(change, Arrived):
            self._arrived(change.conversation)
        elif isinstance(change, Sent):
            self._sent(change)
        elif isinstance(change, SendRefused):
            self.run_worker(self._refused(change), group="refused", exit_on_error=False)
        elif isinstance(change, Notice):
            self.notify(change.text, severity=change.severity, markup=False, timeout=change.timeout)
        elif isinstance(change, TokenRefused):
            self._offer_login(change.reason)

    def _show_state(self) -> None:
        """The title, the status line and the list's last line, from the engine's state."""
        engine = self.engine
        if not engine.rows_known:
            parts = ["offline" if engine.online is False else "loading…"]
        else:
            unread = engine.unread_count
            parts = [f"{unread} unread" if unread else "all read"]
            if engine.online is False:
                parts.append("offline")
            elif engine.live.state in ("connecting", "polling"):
                parts.append(engine.live.state)  # the stream is not live: say how it stands
        if engine.pending_count:
            parts.append(f"{engine.pending_count} pending")
        self.set_class(engine.online is False, "-offline")
        self.query_one(TitleBar).show(self.app.title, " · ".join(parts))
        self.query_one(StatusLine).show(engine.problem)
        self.conversation_list.footer_text = self._end_text()
        self.sync_bindings()

    def _end_text(self) -> str:
        if self.finder.matches is not None:
            return self.finder.end_text()
        engine = self.engine
        count = len(engine.inbox)
        if engine.paging == "failed":
            return "⚠ Not loaded (see below) · End retries now"
        if engine.paging == "end":
            if count == 0:
                return "No conversations yet. ctrl+r checks for new ones."
            plural = "s" if count != 1 else ""
            looped = " (the server repeated a page)" if engine.paging_loop else ""
            return f"End of inbox · {count} conversation{plural}{looped}"
        if not engine.rows_known and engine.online is False:
            return "Offline, and nothing cached yet."
        return "Loading…"

    def _freeze_if_large(self) -> None:
        count = len(self.engine.inbox)
        if count >= FREEZE_ROWS and count != self._frozen_at:
            # The rows live as long as the app: keep the collector from walking them all
            # again and again (a full pass over 10,000 rows takes 50 to 200 ms).
            self._frozen_at = count
            gc.freeze()

    def _offer_login(self, reason: str) -> None:
        from dminbox.ui.screens.token_refused import TokenRefusedScreen

        app = self.app
        label = getattr(app, "account_label", "") or self.engine.host

        def answer(again: bool | None) -> None:
            if again:
                app.action_login(self.engine.instance)  # type: ignore[attr-defined]

        app.push_screen(TokenRefusedScreen(label, reason), answer)

    # -- paging and the thread -------------------------------------------------------

    def on_conversation_list_near_end(self, message: ConversationList.NearEnd) -> None:
        if self.finder.matches is not None:
            self.finder.need_more()  # the list shows matches: more of them, not a page
            return
        # After the frame that shows the rows so far: the next page never holds it back.
        self.call_after_refresh(self.engine.need_more, now=message.now)

    async def on_conversation_list_opened(self, message: ConversationList.Opened) -> None:
        await self.open(message.conversation)

    async def open(self, conversation: Conversation) -> None:
        """Shows a conversation's thread (from the cache at once), then refreshes it."""
        self._preview_timer_stop()
        self.add_class("-reading")
        self.thread_view.focus()
        self.conversation_list.show_open(conversation.id)
        self.sync_bindings()
        await self.engine.open(conversation, mark_read=self.reading.mark_read_on_open)

    # -- actions -------------------------------------------------------------------------

    def _target(self) -> Conversation | None:
        """The conversation an action applies to: the open one when reading it."""
        shown = self.thread_view.conversation
        if self.thread_view.has_focus and shown is not None:
            index = self.engine.inbox.index_of(shown.id)
            return None if index is None else self.engine.inbox[index]
        return self.conversation_list.highlighted

    async def action_mark_read(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        if not conversation.unread:
            self.notify("Already read.", markup=False, timeout=2)
            return
        await self.engine.mark_read(conversation.id)

    async def action_mark_unread(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        if conversation.unread:
            self.notify("Already unread.", markup=False, timeout=2)
            return
        await self.engine.mark_unread(conversation.id)

    async def action_next_unread(self) -> None:
        await self._jump_to_unread(forward=True)

    async def action_previous_unread(self) -> None:
        await self._jump_to_unread(forward=False)

    async def _jump_to_unread(self, *, forward: bool) -> None:
        """The cursor goes to the next (previous) unread row; in the thread, it opens."""
        reading = self.thread_view.has_focus
        index = await self.engine.next_unread(self.conversation_list.cursor, forward=forward)
        if index is None:
            which = "below" if forward else "above"
            self.notify(f"No unread conversation {which}.", markup=False, timeout=2)
            return
        self.conversation_list.cursor = index
        if reading:
            await self.open(self.engine.inbox[index])

    async def action_remove(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        row = await self.engine.remove(conversation.id)
        if row is not None:
            who = one_line(", ".join(a.label for a in row.accounts) or "yourself", 40)
            self.notify(f"Removed the conversation with {who}. u undoes.", markup=False, timeout=5)

    async def action_undo(self) -> None:
        row = await self.engine.undo()
        if row is not None:
            index = self.engine.inbox.index_of(row.id)
            if index is not None:
                self.conversation_list.cursor = index
            self.notify("Removal undone.", markup=False, timeout=2)
        self.sync_bindings()

    def action_refresh(self) -> None:
        self.engine.refresh()

    async def flush(self) -> str | None:
        """Before quitting or switching: keeps the draft, sends what is queued, and says
        what could not go."""
        if self._live:
            await self.composer.save_now()
        return await self.engine.flush()

    # -- writing ---------------------------------------------------------------------------

    async def action_reply(self) -> None:
        """A reply to the conversation: in the thread, to its last message."""
        conversation = self._target()
        if conversation is None:
            return
        shown = self.thread_view.conversation
        if shown is None or shown.id != conversation.id:
            await self.open(conversation)
        statuses = self.thread_view.statuses
        answered = statuses[-1] if statuses else conversation.last_status
        self.add_class("-reading", "-composing")
        await self._mount_composer()
        await self.composer.open_reply(conversation, answered)
        self.thread_view.call_after_refresh(self.thread_view.scroll_end, animate=False)
        self.sync_bindings()

    async def action_new_message(self) -> None:
        self.add_class("-reading", "-composing", "-new-message")
        await self._mount_composer()
        await self.composer.open_new()
        self.sync_bindings()

    async def on_composer_send_asked(self, message: Composer.SendAsked) -> None:
        self._composer_gone()
        draft = message.draft
        if draft.conversation_id is None:
            self.notify("Sending…", markup=False, timeout=2)
        await self.engine.send(draft)

    def on_composer_closed(self) -> None:
        self._composer_gone()

    def _composer_gone(self) -> None:
        self.remove_class("-composing", "-new-message")
        if self.thread_view.conversation is not None:
            self.thread_view.focus()
        else:
            self.action_back()
        self.sync_bindings()

    def _arrived(self, conversation: Conversation) -> None:
        """A new message came by itself: a toast with who wrote, and what the user asked
        for besides (the bell, a terminal notification)."""
        who = one_line(participants(conversation.accounts, limit=3), 60)
        self.notify(f"New message from {who}.", markup=False, timeout=4)
        status = conversation.last_status
        body = preview(status.content, 80) if status is not None else ""
        alert = getattr(self.app, "alert", None)
        if alert is not None:
            alert(f"dminbox: {who}", body)

    def _sent(self, change: Sent) -> None:
        if change.draft_key != "new":
            return
        self.notify("Sent.", markup=False, timeout=3)
        if change.conversation_id is None:
            return
        index = self.engine.inbox.index_of(change.conversation_id)
        if index is not None and self.thread_view.conversation is None and not self.composing:
            # The new conversation is the one to read next: the cursor goes to it.
            self.conversation_list.cursor = index

    async def _refused(self, change: SendRefused) -> None:
        """The text comes back in the composer with the reason, unless the user is
        writing something else: then the draft waits, and a toast says so."""
        self.notify(f"Not sent: {change.reason}", severity="error", markup=False, timeout=10)
        draft = await self.engine.writer.draft(change.draft_key)
        if draft is None or self.composing:
            return
        shown = self.thread_view.conversation
        if draft.conversation_id is not None and (
            shown is None or shown.id != draft.conversation_id
        ):
            return  # the draft is kept; r in that conversation brings it back
        self.add_class("-reading", "-composing")
        if draft.conversation_id is None:
            self.add_class("-new-message")
        await self._mount_composer()
        await self.composer.reopen(draft, change.reason)
        self.sync_bindings()

    # -- navigation ----------------------------------------------------------------------

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

    def action_links(self) -> None:
        """In the list: the links of the thread shown beside it (or of the highlighted row)."""
        shown = self.thread_view.conversation
        highlighted = self.conversation_list.highlighted
        beside = not self.has_class("-narrow")
        if shown is not None and (beside or (highlighted and highlighted.id == shown.id)):
            self.thread_view.action_links()
        else:
            self.notify("Open a conversation first (enter).", markup=False, timeout=3)

    # -- find ----------------------------------------------------------------------------

    def action_find(self) -> None:
        self.finder.start()
        self.sync_bindings()

    def action_clear_find(self) -> None:
        self.finder.clear()
        self.sync_bindings()

    def on_find_bar_changed(self, message: FindBar.Changed) -> None:
        self.finder.changed(message.text)

    def on_find_bar_cancelled(self) -> None:
        self.action_clear_find()

    def on_find_bar_moved(self, message: FindBar.Moved) -> None:
        listing = self.conversation_list
        listing.cursor = max(0, min(listing.cursor + message.by, len(listing.inbox) - 1))

    async def on_find_bar_accepted(self) -> None:
        """Enter: the filter stays and the highlighted match opens (with nothing typed,
        the bar closes and the highlighted row opens)."""
        conversation = self.finder.accept()
        if conversation is None:
            conversation = self.conversation_list.highlighted
            self.action_clear_find()
        if conversation is not None:
            await self.open(conversation)

    def action_help(self) -> None:
        self.app.push_screen(
            HelpScreen(
                [
                    ("Conversation list", ConversationList.BINDINGS),
                    ("Thread", ThreadView.BINDINGS),
                    ("Writing (r, C)", Composer.BINDINGS),
                    ("Everywhere", [*self.BINDINGS, *self.app.BINDINGS]),
                ]
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keeps the footer to what applies now; undo shows dimmed when there is none.
        While the composer is open, its keys are the only ones."""
        if self.has_class("-composing"):
            return False
        if action == "back":
            return self.has_class("-reading") or self.thread_view.has_focus
        if action == "clear_find":
            return self.finder.active
        if action == "switch_pane":
            # Narrow, the thread hides the list: escape is the way back.
            narrow = self.has_class("-narrow")
            return self.thread_view.conversation is not None and not narrow
        if action == "undo":
            return True if self.engine.can_undo else None
        return True

    def _binding_answers(self) -> tuple[bool | None, ...]:
        actions = ("back", "switch_pane", "undo", "reply")
        return tuple(self.check_action(a, ()) for a in actions)

    def sync_bindings(self) -> None:
        """Refreshes the footer only when a key appears or goes: a rebuild costs ~20 ms."""
        state = self._binding_answers()
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()
