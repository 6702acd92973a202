"""The thread pane: every message of one conversation, oldest first."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

from rich._wrap import divide_line
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.styles import RulesMap
from textual.geometry import Size
from textual.layout import DockArrangeResult
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Static

from dminbox.engine.changes import PendingMessage
from dminbox.links import thread_links, thread_numbers
from dminbox.models import Conversation, Status
from dminbox.text import one_line
from dminbox.ui.render import Clock, age, author_line, participants, status_body, utc_now
from dminbox.ui.screens.links import LinksScreen

HINT = "Select a conversation and press enter."


class MessageView(Static):
    """One message: who, when, and the body (content warning folded).

    The thread pane keeps its MessageViews from one thread to the next and points
    them at other messages (`show_message`): mounting widgets costs far more than
    updating them, and one that shows the same thing as before is left alone.
    """

    def __init__(
        self,
        status: Status,
        now: datetime,
        *,
        reveal: bool = False,
        waiting: str | None = None,
        numbers: Mapping[str, int] | None = None,
        content: Content | None = None,
    ) -> None:
        self._set(status, now, reveal, waiting, numbers)
        classes = "message" if waiting is None else "message -pending"
        super().__init__(content or self._content(), classes=classes)

    def _set(
        self,
        status: Status,
        now: datetime,
        reveal: bool,
        waiting: str | None,
        numbers: Mapping[str, int] | None,
    ) -> None:
        self.status = status
        self._now = now
        self._numbers = numbers
        """The thread's link numbers: [n] counts across messages."""
        self.reveal = reveal
        self.waiting = waiting
        """For a message not yet confirmed by the server: why it waits ("" while sending)."""
        self._shown = _shown_key(status, now, reveal, waiting, numbers)

    def show_message(
        self,
        status: Status,
        now: datetime,
        *,
        reveal: bool = False,
        waiting: str | None = None,
        numbers: Mapping[str, int] | None = None,
        content: Content | None = None,
    ) -> None:
        """Shows this message instead (`content`: its text, if already made); nothing is
        redrawn if it would look the same."""
        if _shown_key(status, now, reveal, waiting, numbers) == self._shown:
            return
        self._set(status, now, reveal, waiting, numbers)
        self.set_class(waiting is not None, "-pending")
        self.update(content or self._content())

    def toggle(self) -> None:
        self.reveal = not self.reveal
        self._shown = _shown_key(self.status, self._now, self.reveal, self.waiting, self._numbers)
        self.update(self._content())

    def _content(self) -> Content:
        return message_content(self.status, self._now, self.reveal, self.waiting, self._numbers)


def message_content(
    status: Status,
    now: datetime,
    reveal: bool,
    waiting: str | None,
    numbers: Mapping[str, int] | None,
) -> Content:
    """A MessageView's text: the author line (and why it waits), then the body.

    Remembered (the last `_CONTENTS_KEPT`): turning HTML into text and wrapping it
    cost more than drawing it, and the cursor comes back to the same threads. A
    Content remembers its height at the last width it was measured at, too.
    """
    # Everything author_line and status_body read, and the clock as far as they show it.
    key = (
        status.id,
        status.created_at,
        status.account,
        status.content,
        status.spoiler_text,
        tuple(status.media_attachments),
        age(status.created_at, now),
        now.tzinfo,
        reveal,
        waiting,
        tuple(numbers.items()) if numbers else (),
    )
    content = _contents.get(key)
    if content is not None:
        _contents.move_to_end(key)
        return content
    parts: list[Content | str | tuple[str, str]] = [author_line(status, now)]
    if waiting is not None:
        state = f"waiting: {one_line(waiting, 100)}" if waiting else "sending…"
        parts.append((f"  ⧗ {state}", "$warning"))
    body = status_body(status, reveal=reveal, numbers=numbers)
    content = _contents[key] = Content.assemble(*parts, "\n", body)
    if len(_contents) > _CONTENTS_KEPT:
        _contents.popitem(last=False)
    return content


_CONTENTS_KEPT = 1000
_contents: OrderedDict[tuple[object, ...], Content] = OrderedDict()


def _shown_key(
    status: Status,
    now: datetime,
    reveal: bool,
    waiting: str | None,
    numbers: Mapping[str, int] | None,
) -> tuple[object, ...]:
    """Everything a MessageView's text depends on (the clock only through the age and
    the time zone the stamp is written in)."""
    return (status, age(status.created_at, now), now.tzinfo, reveal, waiting, numbers)


@dataclass(frozen=True)
class _Wanted:
    """One message the pane is to show."""

    status: Status
    reveal: bool
    waiting: str | None


@dataclass
class _Head:
    """The older messages of a thread opened at its end, mounted once the end is on the
    screen; the spacer holds their place (their exact height) until then."""

    spacer: Widget
    messages: list[tuple[_Wanted, Content]]
    now: datetime
    numbers: Mapping[str, int]


_MESSAGE_RULES: RulesMap = {"text_wrap": "wrap", "text_overflow": "fold", "line_pad": 0}
"""`ThreadView .message` (app.tcss) as far as a message's height goes, for one not yet
mounted; one that is gives its own styles."""


def _rules(views: Sequence[MessageView]) -> RulesMap:
    """The style rules a message's height depends on, as Textual reads them."""
    # What a Static passes to its content's get_height: styles stand in for the rules.
    return cast(RulesMap, views[0].styles) if views else _MESSAGE_RULES


def _height(content: Content, rules: RulesMap, width: int) -> int:
    """`content.get_height(rules, width)`, three times as quick for the usual rules: the
    lines Textual's wrapping makes (`Content._wrap_and_format` counts `divide_line`'s
    cuts), without making them. Not remembered in the Content, unlike get_height."""
    plain = content.plain
    usual = (
        rules.get("text_wrap", "wrap") == "wrap"
        and rules.get("text_overflow", "fold") == "fold"
        and not rules.get("line_pad", 0)
    )
    if not usual or "\t" in plain:
        return content.get_height(rules, width)
    return sum(len(divide_line(line, width, fold=True)) + 1 for line in plain.split("\n"))


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
        self._title = Static(classes="thread-title")
        """Who the conversation is with; hidden until there is one."""
        self._title_text = ""
        self._title.display = False
        self._note = Static(Content(HINT), classes="thread-hint")
        """Under the messages: the hint while no conversation is shown, else the
        thread's note ("Refreshing the thread…"); hidden when there is neither."""
        self._note_text = HINT
        self._keep_end = False
        """Keep the end in view through every layout, until the user scrolls."""
        self._head: _Head | None = None
        self._views: list[MessageView] = []
        """The MessageViews mounted, in order."""
        self._offset = 0
        """Where the mounted MessageViews start among the messages shown (not 0 while
        a head waits to be mounted, or after one was given up)."""

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """Lays out the messages, and puts the end in view while `_keep_end`: in the same
        layout, so the frame that first shows a thread shows its end. (Textual's own
        `anchor()` does this too, but scrolls a thread shorter than the pane to a
        negative offset, drawing it at the bottom.)"""
        arrangement = super().arrange(size, optimal)
        if self._keep_end:
            end = max(0, arrangement.total_region.bottom - size.height)
            if end != self.scroll_y:
                self.set_reactive(ThreadView.scroll_y, end)
                self.set_reactive(ThreadView.scroll_target_y, end)
                self.vertical_scrollbar.set_reactive(ScrollBar.position, end)
        return arrangement

    def release_anchor(self) -> None:
        """Every scroll but to the end comes here: the user moved, the end is let go."""
        super().release_anchor()
        self._keep_end = False

    def scroll_end(self, *args: Any, **kwargs: Any) -> None:
        super().scroll_end(*args, **kwargs)
        self._keep_end = True

    def _show_title(self, who: str) -> None:
        if who != self._title_text or not self._title.display:
            self._title_text = who
            self._title.update(Content.assemble(("With ", "$text-muted"), (who, "bold")))
            self._title.display = True

    def _show_note(self, text: str, kind: str) -> None:
        """The line under the messages: `kind` is thread-note or thread-hint; no text, none."""
        note = self._note
        note.set_class(bool(text) and kind == "thread-note", "thread-note")
        note.set_class(bool(text) and kind == "thread-hint", "thread-hint")
        if text and text != self._note_text:
            self._note_text = text
            note.update(Content(text))
        note.display = bool(text)

    def clear(self) -> None:
        self._give_up_head()
        self._offset = 0
        self.conversation = None
        self.statuses = ()
        self.pending_statuses = ()
        self._shown_ids = ()
        self._shown_note = ""
        with self.app.batch_update():
            for view in self._views:
                view.remove()
            self._views = []
            self._title.display = False
            self._show_note(HINT, "thread-hint")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._title
        yield self._note

    @property
    def messages(self) -> list[MessageView]:
        """The message widgets mounted, in the order shown (removed ones are still in the
        DOM for a moment: this list is the pane's own)."""
        return list(self._views)

    def show(
        self,
        conversation: Conversation,
        statuses: Sequence[Status],
        note: str = "",
        pending: Sequence[PendingMessage] = (),
    ) -> None:
        """Shows these messages, then the user's still on their way; keeps revealed
        warnings and the scroll if nothing changed.

        Made to be quick (a cached thread is on the screen in the frame after it is
        read, see bench/preview.py): the pane's MessageViews are kept and pointed at
        the new messages (those showing the same thing are not redrawn); a new
        conversation opens at its end in the layout that places its messages
        (`arrange`), not a frame later; and of a thread longer than the widgets at
        hand, only the messages that fill the pane from the end are mounted at once,
        the older ones a frame later, in a spacer of their height meanwhile.
        """
        ids = tuple(status.id for status in statuses)
        ids += tuple(f"{p.status.id}:{p.waiting}" for p in pending)
        same = conversation.id == getattr(self.conversation, "id", None)
        if same and ids == self._shown_ids and note == self._shown_note:
            return
        views = self.messages
        head = self._give_up_head()
        kept = [(m.status, m.reveal) for m in views]
        kept += [(w.status, w.reveal) for w, _ in head.messages] if head else []
        revealed = {status.id for status, reveal in kept if reveal} if same else set()
        kept_at_end = self._keep_end  # and not scrolled by the user since it was put there
        at_end = self.scroll_y >= self.max_scroll_y
        previous = self._shown_ids
        appended = same and ids[: len(previous)] == previous
        self.conversation = conversation
        self.statuses = tuple(statuses)
        self.pending_statuses = tuple(p.status for p in pending)
        self._shown_ids = ids
        self._shown_note = note
        now = self._now()
        numbers = thread_numbers((*self.statuses, *self.pending_statuses))
        wanted = [_Wanted(s, s.id in revealed, None) for s in statuses]
        wanted += [_Wanted(p.status, True, p.waiting) for p in pending]
        contents: dict[int, Content] = {}

        def content(index: int) -> Content:
            if index not in contents:
                w = wanted[index]
                contents[index] = message_content(w.status, now, w.reveal, w.waiting, numbers)
            return contents[index]

        # The mounted views show wanted[cut:], from their first; a thread that only
        # grew at its end keeps them where they are and mounts the new ones after.
        cut = 0
        overflows: bool | None = None
        title = participants(conversation.accounts, limit=8)
        if not (appended and self._offset == 0):
            first, overflows = self._plan(title, len(wanted), content, views, bool(note))
            cut = min(first, max(0, len(wanted) - len(views)))
        with self.app.batch_update():
            self._show_title(title)
            shown = wanted[cut:]
            for n, (view, w) in enumerate(zip(views, shown, strict=False)):
                view.show_message(
                    w.status,
                    now,
                    reveal=w.reveal,
                    waiting=w.waiting,
                    numbers=numbers,
                    content=contents.get(cut + n),
                )
            if surplus := views[len(shown) :]:
                # Hidden now, removed once the frame is out: removing costs a frame's time.
                for view in surplus:
                    view.display = False
                self.call_after_refresh(self.remove_children, surplus)
            self._views = views[: len(shown)]
            if len(shown) > len(views):
                more = [
                    self._view(w, now, numbers, content(cut + n))
                    for n, w in enumerate(shown[len(views) :], start=len(views))
                ]
                self.mount_all(more, before=self._note)
                self._views += more
            self._offset = cut
            if cut:
                self._hold_head(wanted[:cut], now, numbers, content, views)
            self._show_note(one_line(note) if note else "", "thread-note")
            if overflows is not None and overflows != self.show_vertical_scrollbar:
                # Known now, the scrollbar is there (or gone) in the first layout: left
                # to Textual, it comes after it, and a second layout rewraps every line.
                self.show_vertical_scrollbar = overflows
                self.vertical_scrollbar.display = overflows
        # A new conversation opens at its end; the view follows new messages only when
        # it was at the end already, and stays there, whatever came (the older messages
        # of a thread the cache only had the last of), until the user scrolls.
        self._keep_end = not same or bool(pending) or kept_at_end or (at_end and appended)

    def _view(
        self, wanted: _Wanted, now: datetime, numbers: Mapping[str, int], content: Content
    ) -> MessageView:
        return MessageView(
            wanted.status,
            now,
            reveal=wanted.reveal,
            waiting=wanted.waiting,
            numbers=numbers,
            content=content,
        )

    def _message_width(self) -> tuple[int, int]:
        """The pane's (rows, columns) for messages, a scrollbar assumed; (0, 0) before
        its first layout or while it is hidden."""
        region = self.scrollable_content_region
        if region.height <= 0 or region.width <= 0 or not self.display:
            return 0, 0
        width = region.width
        if not self.show_vertical_scrollbar:
            width -= self.styles.scrollbar_size_vertical
        return region.height, max(1, width)

    def _plan(
        self,
        title: str,
        count: int,
        content: Callable[[int], Content],
        views: list[MessageView],
        note: bool,
    ) -> tuple[int, bool | None]:
        """For a pane showing the end of `count` messages under `title`: the first one in
        view, and whether they overflow it (None: not known, the pane has not been
        laid out or is hidden). Only the messages in view are measured."""
        rows, width = self._message_width()
        if not rows:
            return 0, None
        rules = _rules(views)
        used = 1 if note else 0
        for index in range(count - 1, -1, -1):
            used += content(index).get_height(rules, width) + 1  # padding: 0 0 1 0
            if used > rows:
                return index, True
        heading = Content.assemble("With ", title).get_height(rules, width) + 1
        return 0, used + heading > rows

    def _hold_head(
        self,
        head: list[_Wanted],
        now: datetime,
        numbers: Mapping[str, int],
        content: Callable[[int], Content],
        views: list[MessageView],
    ) -> None:
        """Puts a spacer as tall as these older messages above the ones mounted, and
        mounts them in its place after the next refresh."""
        _, width = self._message_width()
        rules = _rules(views)
        messages = [(wanted, content(index)) for index, wanted in enumerate(head)]
        spacer = Widget(classes="thread-spacer")
        spacer.styles.height = sum(_height(text, rules, width) + 1 for _, text in messages)
        held = self._head = _Head(spacer, messages, now, numbers)
        self.mount(spacer, after=self._title)
        self.call_after_refresh(self._mount_head, held)

    def _mount_head(self, head: _Head | None = None) -> None:
        """The older messages in their spacer's place (all of them now, if no head is
        given: before their warnings are toggled)."""
        if head is None:
            head = self._head
        if head is None or head is not self._head:
            return  # given up: another thread came meanwhile
        self._head = None
        views = [self._view(w, head.now, head.numbers, text) for w, text in head.messages]
        with self.app.batch_update():
            self.mount_all(views, before=head.spacer)
            head.spacer.remove()
        self._views = views + self._views
        self._offset = 0

    def _give_up_head(self) -> _Head | None:
        """The head still waiting, taken out (its spacer removed)."""
        head, self._head = self._head, None
        if head is not None:
            head.spacer.remove()
        return head

    def action_toggle_warnings(self) -> None:
        self._mount_head()
        messages = [m for m in self.messages if m.status.spoiler_text]
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
