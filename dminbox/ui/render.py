"""Turns conversations and statuses into text for the screen.

Every string from a server passes through `dminbox.text` first and enters
Textual only as data (`Content.assemble` parts), never as markup.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.style import Style

from dminbox.links import host_note, terminal_url
from dminbox.models import Account, Conversation, MediaAttachment, Status
from dminbox.text import clean, html_to_text, one_line, preview

UNREAD_MARK = "●"
"""Shown before an unread conversation: a symbol, so it reads without colour."""
PENDING_MARK = "○"
"""Shown for a conversation marked read here but not yet on the server (offline)."""
CURSOR_MARK = "▌"
OPEN_MARK = "›"
"""Beside the conversation shown in the thread while the thread has the focus."""
LOCAL_UNREAD_MARK = "◇"
"""Marked unread in dminbox only: the server has no way to mark a conversation unread."""

Clock = Callable[[], datetime]
"""Gives the current time, aware; tests pass a fixed one."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def participants(accounts: Sequence[Account], *, limit: int = 4) -> str:
    """`Alice, Bob, +2` from display names, acct where the name is empty."""
    if not accounts:
        return "(just you)"
    names = [one_line(account.label, 40) for account in accounts[:limit]]
    if len(accounts) > limit:
        names.append(f"+{len(accounts) - limit}")
    return ", ".join(names)


def age(moment: datetime | None, now: datetime) -> str:
    """A short age: `now`, `5m`, `3h`, `2d`, `Nov 3`, `2024`."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d"
    local = moment.astimezone(now.tzinfo)
    if local.year == now.year:
        return f"{local:%b} {local.day}"
    return str(local.year)


_ZWJ_TAIL = re.compile("\u200d[^\u200d]?")
"""A zero-width joiner and what it joins: tmux and many terminals draw each part."""
_UNSURE = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")
"""Variation selectors, skin tones and tag characters: widths terminals disagree on."""


def terminal_safe(text: str) -> str:
    """`text` made of characters whose width every terminal agrees on, for a row that
    must end exactly at its column: an emoji sequence keeps its first emoji, and an
    emoji too new for the Unicode tables terminals (and tmux) carry becomes `?`, since
    they would draw it one column wide where Rich counts two."""
    if text.isascii():
        return text
    text = _UNSURE.sub("", _ZWJ_TAIL.sub("", text))
    return "".join(_sure(char) for char in text)


@lru_cache(maxsize=4096)
def _sure(char: str) -> str:
    if ord(char) < 0x1100 or cell_len(char) != 2:
        return char
    # Rich counts it two columns; a terminal whose tables predate it counts one. Python's
    # own tables are about as old as the terminals' (unassigned there: too new).
    known = unicodedata.category(char) != "Cn"
    return char if known and unicodedata.east_asian_width(char) in ("W", "F") else "?"


def fit(text: str, width: int) -> str:
    """`text` padded or cut to exactly `width` cells, with … where it was cut.

    Characters whose width terminals disagree on are made safe first
    (`terminal_safe`): a row one cell too wide or too narrow pushes the age and
    the border out of line, and leaves stray cells behind in tmux.
    """
    text = terminal_safe(text)
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def conversation_row(conversation: Conversation, width: int, now: datetime) -> tuple[str, str, str]:
    """The row's three cells, (names, preview, age), fitted into `width` columns.

    Columns: 3 for the cursor and unread marks and a space, names, a space,
    the preview, a space, the age in 6 (`Nov 30`).
    """
    status = conversation.last_status
    when = age(status.created_at if status else None, now)
    body = _status_preview(status)
    inner = max(0, width - 3)
    age_width = 6 if inner >= 30 else 0
    # Names take a quarter (at least 8, at most 24): at 120 columns the preview keeps 35+.
    names_width = min(24, max(8, inner // 4), max(0, inner - 1))
    preview_width = max(0, inner - names_width - 1 - (age_width + 1 if age_width else 0))
    names = fit(participants(conversation.accounts), names_width)
    return (
        names + (" " if inner > names_width else ""),
        fit(body, preview_width) + (" " if age_width else ""),
        fit(when.rjust(age_width), age_width) if age_width else "",
    )


def _status_preview(status: Status | None) -> str:
    if status is None:
        return "(no messages)"
    return _preview_of(status.content, status.spoiler_text, len(status.media_attachments))


@lru_cache(maxsize=8192)
def _preview_of(content: str, spoiler_text: str, media: int) -> str:
    """Parsing HTML for every painted row would cost more than drawing it: remember."""
    if spoiler_text:
        return "CW: " + one_line(spoiler_text, 200)
    text = preview(content, 200)
    if not text and media:
        return f"[{media} attachment(s)]"
    return text


def author_line(status: Status, now: datetime) -> Content:
    account = status.account
    name = one_line(account.display_name, 60)
    handle = "@" + one_line(account.acct or account.username, 80)
    stamp = status.created_at.astimezone(now.tzinfo)
    parts: list[str | tuple[str, str]] = []
    if name:
        parts += [(name, "bold"), " "]
    parts += [(handle, "$text-muted" if name else "bold"), "  "]
    parts.append((f"{stamp:%Y-%m-%d %H:%M} ({age(status.created_at, now)})", "$text-muted"))
    return Content.assemble(*parts)


def status_body(
    status: Status, *, reveal: bool, numbers: Mapping[str, int] | None = None
) -> Content:
    """The message: its content warning, its text with numbered links, its media.

    `numbers` numbers the links as the whole thread does (`dminbox.links.thread_numbers`).
    """
    parts: list[str | tuple[str, str | Style]] = []
    if status.spoiler_text:
        parts.append((f"CW: {one_line(status.spoiler_text)}", "bold $warning"))
        if not reveal:
            parts.append(("  (hidden: press c to show)", "$text-muted"))
            return Content.assemble(*parts)
        parts.append("\n")
    plain = html_to_text(status.content, numbers)
    if plain.text:
        parts.append(plain.text)
    for index, url in enumerate(plain.links, start=1):
        number = numbers.get(url, index) if numbers else index
        parts += ["\n", (f"[{number}] ", "$text-muted"), *_url_parts(url)]
    for media in status.media_attachments:
        parts += ["\n", *_media_parts(media)]
    return Content.assemble(*parts)


def _media_parts(media: MediaAttachment) -> list[str | tuple[str, str | Style]]:
    kind = one_line(media.type or "file", 20)
    description = one_line(media.description or "", 400) or "no description"
    url = clean(media.url or media.remote_url or "").strip()
    parts: list[str | tuple[str, str | Style]] = [(f"📎 {kind}: ", "bold"), description]
    if url:
        parts += ["\n   ", *_url_parts(url)]
    return parts


def _url_parts(url: str) -> list[str | tuple[str, str | Style]]:
    """The URL as written, a terminal hyperlink (OSC 8) if it is a web link, and where it
    really goes when the URL could be misread (an IDN host, a user name before it)."""
    target = terminal_url(url)
    style: str | Style = Style(link=target, underline=True) if target else "underline"
    parts: list[str | tuple[str, str | Style]] = [(url, style)]
    if note := host_note(url):
        parts.append((f"  ({note})", "bold $warning"))
    return parts
