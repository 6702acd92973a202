"""What strangers write is shown as text: no markup, no escapes, no crash."""

from __future__ import annotations

import unicodedata

import pytest

from dminbox.fake import FakeMastodon
from dminbox.ui.screens.inbox import InboxScreen
from dminbox.ui.widgets.thread_view import MessageView

HOSTILE = [
    "[@click=app.quit]click me[/]",
    "[/foo] and [bold red]not bold[/]",
    "osc52 \x1b]52;c;SGVsbG8=\x07 done",
    "entity &#27;]52;c;SGVsbG8=&#7; done",
    "csi \x1b[2J\x1b[31mred\x1b[0m",
    "bidi \u202eevil\u202c text",
    "<b>" * 5000 + "deep" + "</b>" * 5000,
    "x" * 20_000,
]


def _visible_controls(text: str) -> list[str]:
    return [
        repr(ch)
        for ch in text
        if ch != "\n"
        and (unicodedata.category(ch) == "Cc" or ch in "\u202a\u202b\u202c\u202d\u202e")
    ]


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_hostile_messages_and_names_are_harmless(make_app, size) -> None:
    server = FakeMastodon()
    mallory = server.add_account(username="mallory", display_name="[b]Mallory[/b] \x1b[5m")
    previous = None
    for text in HOSTILE:
        previous = server.post_status(
            mallory, f"@me {text}", mentions=[server.me], in_reply_to_id=previous and previous["id"]
        )
    app = make_app(server)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        assert len(screen.inbox) >= 1
        rows = screen.conversation_list
        lines = [rows.render_line(y).text for y in range(rows.size.height)]
        assert any("[b]Mallory[/b]" in line for line in lines), lines
        for line in lines:
            assert not _visible_controls(line), line
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = "\n".join(m.render().plain for m in screen.query(MessageView))
        assert "[@click=app.quit]click me[/]" in shown
        assert "[/foo] and [bold red]not bold[/]" in shown
        assert "]52;c;" not in shown.replace("&#27;]52;c;", ""), "raw OSC body stripped"
        assert not _visible_controls(shown)
        await pilot.press("c", "j", "k", "G", "g")
        await pilot.pause()
        assert app.is_running, "no message can quit or crash the app"
