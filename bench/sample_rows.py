"""Sample conversations for the benchmarks: the demo inbox's rows, repeated under fresh ids.

Both sides of every comparison draw the same text: dminbox gets the
`Conversation` models, the stock OptionList gets one prompt per model, laid
out by the same `conversation_row` function dminbox draws its rows with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from textual.content import Content

from dminbox.fake import FakeMastodon
from dminbox.models import Conversation
from dminbox.ui.render import UNREAD_MARK, conversation_row

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
"""The clock every benchmark runs at, as in the tests."""


def fixed_clock() -> datetime:
    return NOW


def demo_conversations() -> list[Conversation]:
    """The demo inbox (about 180 conversations, hostile text included), newest first."""
    server = FakeMastodon.demo(now=NOW)
    return [Conversation.model_validate(row) for row in server.conversation_rows()]


def many_conversations(
    count: int, *, start: int = 0, unread: bool = True, base: list[Conversation] | None = None
) -> list[Conversation]:
    """`count` conversations cycling through the demo's, ids `bench-<start>` onwards."""
    base = base or demo_conversations()
    return [
        base[index % len(base)].model_copy(update={"id": f"bench-{index}", "unread": unread})
        for index in range(start, start + count)
    ]


def option_prompt(conversation: Conversation, width: int) -> Content:
    """One OptionList prompt that reads like a dminbox row: mark, names, preview, age."""
    names, body, when = conversation_row(conversation, width, NOW)
    mark = f" {UNREAD_MARK} " if conversation.unread else "   "
    style = "bold" if conversation.unread else "$text-muted"
    return Content.assemble((mark + names + body, style), (when, "$text-muted"))


def cloned_rows(base: list[dict[str, Any]], start: int, count: int) -> list[dict[str, Any]]:
    """Rows `start`.. as Conversation JSON, cycling through `base`; row n is n minutes
    older than NOW, with its own conversation id and a last status with a Mastodon-like id
    and that time (for filling caches of any size)."""
    rows = []
    for index in range(start, start + count):
        row = base[index % len(base)]
        when = NOW - timedelta(minutes=index)
        status = {
            **row["last_status"],
            "id": str((int(when.timestamp() * 1000) << 16) + index % 65536),
            "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        rows.append({**row, "id": str(index + 1), "last_status": status})
    return rows
