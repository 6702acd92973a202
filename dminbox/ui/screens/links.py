"""The links picker: every link and media file of the open thread, with its real host.

Choosing one copies it through the terminal (OSC 52, which works over ssh and in
tmux) and opens it with `$BROWSER` when that is set, in the background. Only http
and https links open; the rest are listed as text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from dminbox.browser import open_in_browser
from dminbox.links import LinkEntry
from dminbox.text import one_line

_HEADINGS = {
    "link": "Links",
    "media": "Media",
    "mention": "Mentions and hashtags",
    "hashtag": "Mentions and hashtags",
    "other": "Not web links (shown as text, never opened)",
}
_MUTED = "$text-muted"
_WARNING = "bold $warning"


class LinksScreen(ModalScreen[None]):
    """Lists the entries; enter copies (and opens) one, a digit jumps to that link."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close", tooltip="Close the links", id="links.close"),
        Binding("j", "move('down')", "Down", show=False, tooltip="Next link", id="links.down"),
        Binding("k", "move('up')", "Up", show=False, tooltip="Previous link", id="links.up"),
        *(
            Binding(
                str(n),
                f"jump({n})",
                f"Link {n}",
                show=False,
                tooltip=f"Go to link [{n}]",
                id=f"links.go_{n}",
            )
            for n in range(1, 10)
        ),
    ]

    def __init__(
        self, entries: Sequence[LinkEntry], who: str = "", *, browser: str | None = None
    ) -> None:
        super().__init__()
        self.entries = tuple(entries)
        self._who = who
        self._browser = os.environ.get("BROWSER", "") if browser is None else browser
        """The `$BROWSER` of the moment the picker opened ("" when none is set)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="links-box"):
            title = Content.assemble(("Links and media", "bold"))
            if self._who:
                title = Content.assemble(title, (" · with ", _MUTED), one_line(self._who, 60))
            yield Static(title, id="links-title")
            yield OptionList(*self._options(), id="links-list")
            action = "copies and opens with $BROWSER" if self._browser else "copies"
            hint = f"Enter {action} · 1-9 go to [n] · j/k move · Esc closes"
            yield Static(Content(hint), classes="hint")

    def _options(self) -> list[Option]:
        options: list[Option] = []
        heading = ""
        for index, entry in enumerate(self.entries):
            if _HEADINGS[entry.kind] != heading:
                heading = _HEADINGS[entry.kind]
                options.append(Option(Content.styled(heading, "bold underline"), disabled=True))
            options.append(Option(_prompt(entry), id=f"entry-{index}", disabled=not entry.copyable))
        return options

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        option_list.focus()
        option_list.action_first()

    def action_move(self, direction: str) -> None:
        option_list = self.query_one(OptionList)
        if direction == "down":
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    def action_jump(self, number: int) -> None:
        for index, entry in enumerate(self.entries):
            if entry.number == number:
                option_list = self.query_one(OptionList)
                option_list.highlighted = option_list.get_option_index(f"entry-{index}")
                return
        self.notify(f"No link [{number}] in this thread.", markup=False, timeout=2)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option_id is None:
            return
        self.choose(self.entries[int(event.option_id.removeprefix("entry-"))])

    def choose(self, entry: LinkEntry) -> None:
        """Copies the entry, opens it when it is a web link and $BROWSER is set, and closes."""
        if not entry.copyable:
            self.notify("Not a web link: not copied, never opened.", markup=False, timeout=3)
            return
        app = self.app
        app.copy_to_clipboard(entry.url)
        where = entry.host.shown if entry.host is not None else entry.scheme
        if entry.openable and self._browser:
            app.notify(f"Copied; opening {where} with $BROWSER.", markup=False, timeout=3)
            app.run_worker(
                _open(app, entry.url, self._browser), group="browser", exit_on_error=False
            )
        else:
            app.notify(f"Copied the {where} link (if your terminal allows it).", markup=False)
        self.dismiss(None)


async def _open(app: App[object], url: str, browser: str) -> None:
    """On the app, not the picker: it goes on after the picker has closed."""
    failure = await open_in_browser(url, browser)
    if failure:
        app.notify(failure, severity="error", markup=False, timeout=8)


def _prompt(entry: LinkEntry) -> Content:
    """Two or three lines: what and where (the real host, bold), the text, the URL."""
    parts: list[str | tuple[str, str]] = []
    if entry.kind == "link":
        parts.append((f"[{entry.number}]", "bold"))
    elif entry.kind == "media":
        parts.append((f"📎 {entry.media_type}", "bold"))
    elif entry.label:
        parts.append((entry.label, "bold"))
    host = entry.host
    if host is not None:
        parts += [" " if parts else "", (host.shown, "bold")]
        parts += [(f"  {warning}", _WARNING) for warning in host.warnings]
    elif entry.kind != "other":
        parts += [" " if parts else "", (f"{entry.scheme or 'no scheme'}: not opened", _MUTED)]
    if entry.warned:
        parts.append(("  (behind a content warning)", _MUTED))
    claimed = entry.claimed_host
    if host is not None and claimed:
        parts += ["\n", (f"its text says {claimed}, it goes to {host.shown}", _WARNING)]
    elif entry.kind == "media":
        parts += ["\n", entry.label or ("no description", _MUTED)]
    parts += ["\n", (one_line(entry.url, 300), _MUTED)]
    return Content.assemble(*parts)
