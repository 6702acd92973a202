"""Reading and triage at speed: the preview, next unread, mark unread, the mouse, widths."""

from __future__ import annotations

from dminbox.fake import FakeMastodon
from dminbox.ui.app import DmInboxApp
from dminbox.ui.render import LOCAL_UNREAD_MARK, OPEN_MARK, conversation_row
from dminbox.ui.widgets.conversation_list import ConversationList

from conftest import fixed_clock, make_engine, screen_of, settle

LIST = "/api/v1/conversations"


def row_text(screen, index: int) -> str:
    listing = screen.conversation_list
    return listing.render_line(index - listing.scroll_offset.y).text


async def rested(app, pilot) -> None:
    """Lets the cursor's rest (the preview delay) pass and the preview load."""
    screen = screen_of(app)
    screen.conversation_list._rested()  # the timer's callback, without waiting for it
    await settle(app, pilot)


def server_with(count: int, flavour: str = "mastodon", unread_every: int = 1) -> FakeMastodon:
    server = FakeMastodon(flavour)
    for number in range(count):
        friend = server.add_account(username=f"friend{number}", display_name=f"Friend {number}")
        server.post_status(friend, f"@me message {number}", mentions=[server.me])
    for index, row in enumerate(server.conversation_rows()):
        if index % unread_every:
            server.row(row["id"]).unread = False
    return server


async def test_the_preview_follows_the_cursor_and_does_not_mark_read(make_app) -> None:
    server = server_with(5)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        await pilot.press("j")
        await rested(app, pilot)
        highlighted = screen.conversation_list.highlighted
        assert screen.thread_view.conversation.id == highlighted.id, "previewed"
        assert highlighted.unread and screen.engine.inbox[1].unread, "a preview is not a read"
        assert not [r for r in server.requests if r.path.endswith("/read")]
        assert screen.conversation_list.has_focus, "the list keeps the keys"
        await pilot.press("enter")
        await settle(app, pilot)
        assert not screen.engine.inbox[1].unread, "enter reads"
        assert OPEN_MARK in row_text(screen, 1), "the open conversation stays marked"


async def test_holding_j_previews_nothing_until_it_stops(make_app, monkeypatch) -> None:
    server = server_with(30)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        opened: list[str] = []
        real_open = screen.engine.open

        async def counting(conversation, **options):
            opened.append(conversation.id)
            await real_open(conversation, **options)

        monkeypatch.setattr(screen.engine, "open", counting)
        screen.conversation_list.rest_delay = 60.0  # a key held: it never rests
        for _ in range(10):
            await pilot.press("j")
        await settle(app, pilot)
        assert opened == [], "nothing is previewed while the key is held"
        assert screen.thread_view.conversation is None
        await rested(app, pilot)
        assert opened == [screen.engine.inbox[10].id], "one preview, where it stopped"


async def test_the_preview_waits_for_the_narrow_layout(make_app) -> None:
    server = server_with(3)
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        assert screen.conversation_list.rest_delay is None
        await pilot.press("j")
        await settle(app, pilot)
        assert screen.thread_view.conversation is None


async def test_next_unread_pages_on_to_find_one(make_app) -> None:
    server = server_with(130, unread_every=1000)  # only the newest is unread
    oldest = server.conversation_rows()[-1]
    server.row(oldest["id"]).unread = True
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        loaded = len(screen.inbox)
        assert loaded < 130, "the oldest is not loaded yet"
        await pilot.press("n")
        await settle(app, pilot)
        cursor = screen.conversation_list.cursor
        assert cursor >= loaded and screen.inbox[cursor].id == oldest["id"], "paged on to it"
        await pilot.press("N")
        await settle(app, pilot)
        assert screen.conversation_list.cursor == 0, "back to the newest unread"
        await pilot.press("N")
        await settle(app, pilot)
        assert screen.conversation_list.cursor == 0, "none above: the cursor stays"


async def test_mark_unread_on_mastodon_goes_to_the_server(make_app) -> None:
    server = server_with(3, unread_every=1000)
    server.row(server.conversation_rows()[0]["id"]).unread = False
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        await pilot.press("U")
        await settle(app, pilot)
        first = screen.inbox[0]
        assert first.unread
        assert [r.path for r in server.requests if r.method == "POST"] == [
            f"{LIST}/{first.id}/unread"
        ]
        assert server.row(first.id).unread
        assert LOCAL_UNREAD_MARK not in row_text(screen, 0)


async def test_mark_unread_on_gotosocial_is_local_and_survives_a_restart(tmp_path) -> None:
    server = server_with(3, flavour="gotosocial", unread_every=1000)
    path = tmp_path / "cache.sqlite3"

    def app_on() -> DmInboxApp:
        return DmInboxApp(make_engine(server, path), clock=fixed_clock)

    app = app_on()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        target = screen.inbox[1]
        screen.conversation_list.cursor = 1
        await pilot.press("U")
        await settle(app, pilot)
        assert screen.inbox[1].unread and LOCAL_UNREAD_MARK in row_text(screen, 1)
        assert not server.row(target.id).unread, "the server has no such mark"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert screen.inbox[1].unread, "a refresh keeps the local mark"
        await pilot.press("q")
    again = app_on()
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(again, pilot)
        screen = screen_of(again)
        index = screen.inbox.index_of(target.id)
        assert screen.inbox[index].unread and LOCAL_UNREAD_MARK in row_text(screen, index)
        screen.conversation_list.cursor = index
        await pilot.press("enter")
        await settle(again, pilot)
        assert not screen.inbox[index].unread, "opening clears it"
        assert not [r for r in server.requests if r.path.endswith("/read")], "nothing to tell"


async def test_a_click_selects_and_a_double_click_opens(make_app) -> None:
    server = server_with(5)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        await pilot.click(ConversationList, offset=(10, 2))
        await pilot.pause()
        assert screen.conversation_list.cursor == 2
        assert screen.thread_view.conversation is None or not screen.thread_view.has_focus
        await pilot.click(ConversationList, offset=(10, 3), times=2)
        await settle(app, pilot)
        assert screen.thread_view.has_focus
        assert screen.thread_view.conversation.id == screen.inbox[3].id


async def test_at_120_columns_a_row_shows_35_characters_of_preview(make_app) -> None:
    server = FakeMastodon()
    friend = server.add_account(username="long", display_name="Someone With A Long Name")
    server.post_status(friend, "@me " + "word " * 40, mentions=[server.me])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        width = screen.conversation_list.scrollable_content_region.width
        names, body, when = conversation_row(screen.inbox[0], width, fixed_clock())
        assert len(body.rstrip(" …")) >= 35, body
        assert names.strip() and when.strip()
