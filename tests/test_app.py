"""The app driven through Pilot against the fake server."""

from __future__ import annotations

import math

import pytest

from dminbox.engine import UNDO_SECONDS
from dminbox.fake import FakeMastodon, Fault
from dminbox.ui.screens.inbox import InboxScreen
from dminbox.ui.widgets.conversation_list import ConversationList
from dminbox.ui.widgets.thread_view import MessageView, ThreadView

from conftest import LIST, clock_of, list_requests, requests_of, screen_of, settle


async def test_first_page_fills_the_screen(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        rows = screen.conversation_list
        assert len(screen.inbox) >= 40
        assert rows.highlighted is not None
        expected = demo_server.conversation_rows()[0]
        assert rows.highlighted.id == expected["id"]
        unread = sum(1 for c in screen.inbox if c.unread)
        assert screen.status_line == f"{unread} unread"


async def test_paging_to_the_end_fetches_each_page_once(demo_server, make_app) -> None:
    total = len(demo_server.conversation_rows())
    app = make_app(demo_server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        for _ in range(20):
            await pilot.press("G")
            await settle(app, pilot)
            if screen.inbox.reached_end:
                break
        assert len(screen.inbox) == total
        ids = [c.id for c in screen.inbox]
        assert ids == [row["id"] for row in demo_server.conversation_rows()]
        requests = list_requests(demo_server)
        pages = math.ceil(total / 40) + (1 if total % 40 == 0 else 0)
        assert len(requests) == pages
        assert len(set(requests)) == len(requests), "no page is fetched twice"
        assert screen.conversation_list.footer_text.startswith("End of inbox")
        await pilot.press("j", "k", "G", "g")
        await settle(app, pilot)
        assert len(list_requests(demo_server)) == pages


async def test_gotosocial_paging_ends_on_an_empty_page(make_app) -> None:
    server = FakeMastodon.demo(flavour="gotosocial")
    total = len(server.conversation_rows())
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        for _ in range(20):
            await pilot.press("G")
            await settle(app, pilot)
            if screen.inbox.reached_end:
                break
        assert [c.id for c in screen.inbox] == [r["id"] for r in server.conversation_rows()]
        assert len(screen.inbox) == total
        assert len(list_requests(server)) == math.ceil(total / 40) + 1


async def _first_unread(app, pilot) -> int:
    screen = screen_of(app)
    index = next(i for i, c in enumerate(screen.inbox) if c.unread)
    screen.conversation_list.cursor = index
    await pilot.pause()
    return index


async def test_m_marks_the_conversation_read(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        before = screen.inbox.unread_count
        index = await _first_unread(app, pilot)
        target = screen.inbox[index].id
        await pilot.press("m")
        assert not screen.inbox[index].unread, "the row changes at once"
        await settle(app, pilot)
        assert requests_of(demo_server, "POST", "/read") == [f"{LIST}/{target}/read"]
        assert screen.inbox.unread_count == before - 1
        row = next(r for r in demo_server.conversation_rows() if r["id"] == target)
        assert row["unread"] is False


async def test_mark_read_rolls_back_on_a_server_error(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        index = await _first_unread(app, pilot)
        demo_server.faults.add(Fault(method="POST", path=r".*/read", status=422))
        await pilot.press("m")
        await settle(app, pilot)
        assert screen.inbox[index].unread, "the row is unread again: the screen tells the truth"
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Could not mark read: ") for m in messages), messages


async def test_opening_shows_the_thread_and_marks_it_read(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        index = await _first_unread(app, pilot)
        conversation = screen.inbox[index]
        await pilot.press("enter")
        await settle(app, pilot)
        thread = screen.query_one(ThreadView)
        assert thread.has_focus
        shown = [m.status.id for m in thread.query(MessageView)]
        assert conversation.last_status is not None
        assert shown[-1] == conversation.last_status.id
        context = requests_of(demo_server, "GET", "/context")
        assert context == [f"/api/v1/statuses/{conversation.last_status.id}/context"]
        assert requests_of(demo_server, "POST", "/read") == [f"{LIST}/{conversation.id}/read"]
        assert not screen.inbox[index].unread
        await pilot.press("escape")
        assert screen.conversation_list.has_focus


async def test_remove_then_undo_sends_nothing(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        first = screen.inbox[0].id
        count = len(screen.inbox)
        await pilot.press("d")
        assert first not in screen.inbox and len(screen.inbox) == count - 1
        await pilot.press("u")
        await settle(app, pilot)
        assert screen.inbox[0].id == first
        assert screen.conversation_list.highlighted.id == first
        assert requests_of(demo_server, "DELETE") == []


async def test_remove_is_sent_when_the_undo_window_closes(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        first = screen.inbox[0].id
        await pilot.press("delete")
        clock_of(app).advance(UNDO_SECONDS)
        await settle(app, pilot)
        await settle(app, pilot)
        assert requests_of(demo_server, "DELETE") == [f"{LIST}/{first}"]
        assert first not in [r["id"] for r in demo_server.conversation_rows()]


async def test_quitting_inside_the_undo_window_sends_the_removal(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        first = screen_of(app).inbox[0].id
        await pilot.press("d")
        assert requests_of(demo_server, "DELETE") == []
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert requests_of(demo_server, "DELETE") == [f"{LIST}/{first}"]


async def test_a_failed_removal_puts_the_row_back(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        first = screen.inbox[0].id
        demo_server.faults.add(Fault(method="DELETE", status=422))
        await pilot.press("d")
        clock_of(app).advance(UNDO_SECONDS)
        await settle(app, pilot)
        await settle(app, pilot)
        assert screen.inbox[0].id == first
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Could not remove") for m in messages), messages


async def test_removing_a_conversation_already_gone_just_drops_it(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        first = screen.inbox[0].id
        demo_server.faults.add(Fault(method="DELETE", status=404))
        await pilot.press("d")
        clock_of(app).advance(UNDO_SECONDS)
        await settle(app, pilot)
        await settle(app, pilot)
        assert first not in screen.inbox
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_a_dropped_connection_is_one_line_and_heals_by_itself(demo_server, make_app) -> None:
    demo_server.faults.add(Fault(method="GET", path=LIST, drop=True))
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        assert "dropped" in screen.engine.problem
        assert "offline" in screen.status_line
        clock_of(app).advance(60)
        await settle(app, pilot)
        assert len(screen.inbox) >= 40
        assert "offline" not in screen.status_line


async def test_narrow_terminal_shows_the_thread_instead_of_the_list(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        conversations = screen.query_one(ConversationList)
        thread = screen.query_one("#reading")  # the thread, and the composer under it
        assert screen.has_class("-narrow")
        assert conversations.display and not thread.display
        await pilot.press("enter")
        await settle(app, pilot)
        assert thread.display and not conversations.display
        await pilot.press("escape")
        await pilot.pause()
        assert conversations.display and not thread.display
        assert conversations.has_focus


async def test_refresh_brings_a_new_message_to_the_top(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        screen.conversation_list.cursor = 3
        await pilot.pause()
        highlighted = screen.conversation_list.highlighted.id
        stranger = demo_server.add_account(username="newcomer", display_name="Newcomer")
        demo_server.post_status(stranger, "@me hello there", mentions=[demo_server.me])
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        top = screen.inbox[0]
        assert top.unread and top.accounts[0].acct == "newcomer"
        assert screen.conversation_list.highlighted.id == highlighted, "the cursor stays put"


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_help_lists_every_key(demo_server, make_app, size) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        for words in ("Mark the conversation read", "Remove", "Undo", "Quit", "Next conversation"):
            assert words in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)


async def test_new_conversations_above_keep_the_cursor_on_its_line(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        rows = screen_of(app).conversation_list
        rows.cursor = 10
        await pilot.pause()
        line = rows.cursor - rows.scroll_offset.y
        highlighted = rows.highlighted.id
        for name in ("ann", "ben", "cat"):
            stranger = demo_server.add_account(username=name, display_name=name.title())
            demo_server.post_status(stranger, f"@me hi from {name}", mentions=[demo_server.me])
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert rows.highlighted.id == highlighted
        assert rows.cursor == 13
        assert rows.cursor - rows.scroll_offset.y == line, "the row stays on its screen line"


async def test_a_failed_removal_comes_back_where_it_was(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        screen.conversation_list.cursor = 4
        await pilot.pause()
        target = screen.inbox[4].id
        demo_server.faults.add(Fault(method="DELETE", status=403))
        await pilot.press("d")
        clock_of(app).advance(UNDO_SECONDS)
        await settle(app, pilot)
        await settle(app, pilot)
        assert screen.inbox.index_of(target) == 4


async def test_a_removal_the_server_asks_to_retry_stays_pending(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        target = screen.inbox[0].id
        demo_server.faults.add(Fault(method="DELETE", status=503))
        await pilot.press("d")
        clock_of(app).advance(UNDO_SECONDS)
        await settle(app, pilot)
        await settle(app, pilot)
        assert target not in screen.inbox, "not rolled back: it will be sent again"
        assert "1 pending" in screen.status_line
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert "pending" not in screen.status_line
        deletes = [r.path for r in demo_server.requests if r.method == "DELETE"]
        assert deletes == [f"{LIST}/{target}"] * 2


async def test_the_thread_note_goes_once_the_thread_is_refreshed(make_app) -> None:
    server = FakeMastodon()
    stranger = server.add_account(username="solo", display_name="Solo")
    server.post_status(stranger, "@me just one message", mentions=[server.me])
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        thread = screen_of(app).thread_view
        assert not thread.query(".thread-note")


async def test_a_new_message_in_the_open_thread_shows_after_a_refresh(
    demo_server, make_app
) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        conversation = screen.inbox[0]
        await pilot.press("enter")
        await settle(app, pilot)
        other = conversation.accounts[0]
        author = demo_server.account(other.id)
        demo_server.post_status(
            author,
            "@me one more thing",
            mentions=[demo_server.me],
            in_reply_to_id=conversation.last_status.id,
        )
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        await settle(app, pilot)
        texts = [m.status.content for m in screen.thread_view.query(MessageView)]
        assert "one more thing" in texts[-1]


async def test_an_action_the_server_asks_to_retry_is_retried_by_itself(
    demo_server, make_app
) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        target = screen.inbox[0].id
        demo_server.faults.add(Fault(method="DELETE", status=503))
        await pilot.press("d")
        clock_of(app).advance(UNDO_SECONDS)
        await settle(app, pilot)
        assert "1 pending" in screen.status_line
        clock_of(app).advance(60)
        await settle(app, pilot)
        assert "pending" not in screen.status_line
        deletes = [r.path for r in demo_server.requests if r.method == "DELETE"]
        assert deletes == [f"{LIST}/{target}"] * 2


async def test_r_says_so_when_there_is_nothing_newer(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.clear_notifications()
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert [n.message for n in app._notifications] == ["No newer conversations."]
