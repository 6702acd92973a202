"""The composer through the app: replies keep everyone and stay direct, warnings are asked
once, drafts survive, and a message is sent once, whatever the network does."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from dminbox.fake import FakeMastodon, Fault
from dminbox.ui.app import DmInboxApp
from dminbox.ui.screens.confirm import ConfirmScreen

from conftest import fixed_clock, make_engine, manual_clock, screen_of, settle
from outage import Outage

STATUSES = "/api/v1/statuses"


def posts(server: FakeMastodon) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path == STATUSES]


def form(request) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(request.body.decode()))


def group_chat(server: FakeMastodon) -> str:
    """A conversation with two others, the last message the user's own, under a CW."""
    ana = server.add_account(username="ana", display_name="Ana")
    bo = server.add_account(username="bo", domain="elsewhere.example", display_name="Bo")
    first = server.post_status(ana, "@me @bo plans?", mentions=[server.me, bo])
    server.post_status(
        server.me,
        "@ana @bo@elsewhere.example saturday",
        mentions=[ana, bo],
        in_reply_to_id=first["id"],
        spoiler_text="weekend plans",
    )
    return first["id"]


async def open_composer(app, pilot, *, index: int = 0) -> None:
    await settle(app, pilot)
    screen = screen_of(app)
    screen.conversation_list.cursor = index
    await pilot.pause()
    await pilot.press("r")
    await settle(app, pilot)
    assert screen.composing


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


async def test_a_reply_mentions_every_participant_and_is_direct(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        screen = screen_of(app)
        composer = screen.composer
        # Answering the user's own last message still mentions everyone else.
        assert composer.body.text == "@ana @bo@elsewhere.example "
        assert composer.cw_field.value == "weekend plans", "the content warning is carried"
        head = str(composer.query_one("#composer-head").render())
        assert "@ana" in head and "@bo@elsewhere.example" in head and "direct" in head
        assert screen.thread_view.display, "the thread it answers stays visible"
        await type_text(pilot, "ok")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        sent = posts(server)
        assert len(sent) == 1
        fields = form(sent[0])
        assert fields["visibility"] == "direct"
        assert fields["status"] == "@ana @bo@elsewhere.example ok"
        assert fields["spoiler_text"] == "weekend plans"
        answered = [s for s in server.state.statuses.values() if s.text.endswith("saturday")]
        assert fields["in_reply_to_id"] == answered[0].id, "the message answered"
        assert sent[0].headers.get("idempotency-key")
        assert not screen.composing
        row = screen.inbox[0]
        assert not row.unread and "ok" in row.last_status.content
        ids = [s.id for s in screen.thread_view.statuses]
        assert ids.count(row.last_status.id) == 1, "the server's copy, once"


async def test_a_fork_is_asked_once_and_can_be_taken_back(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    server.add_account(username="cy", display_name="Cy")
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        composer = screen_of(app).composer
        composer.body.load_text("@ana @cy hi")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "new conversation" in text and "@cy" in text and "@bo" in text
        await pilot.press("n")
        await settle(app, pilot)
        assert not posts(server) and composer.is_open, "no: back to the text"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert len(posts(server)) == 1


async def test_a_message_to_nobody_is_asked_about(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        screen_of(app).composer.body.load_text("just a note")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Nobody is mentioned" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert not posts(server)


async def test_over_the_limit_is_refused_with_one_line(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        composer = screen_of(app).composer
        composer.body.load_text("@ana @bo@elsewhere.example " + "x" * 600)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        note = str(composer.query_one("#composer-note").render())
        assert "Not sent" in note and "limit of 500" in note
        assert not posts(server) and composer.is_open


async def test_a_send_retried_after_a_drop_posts_once(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    server.faults.add(Fault(method="POST", path=STATUSES, drop=True, times=1))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        await type_text(pilot, "once")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        screen = screen_of(app)
        assert screen.engine.pending_count == 1
        pending = [m for m in screen.thread_view.query("MessageView") if m.waiting is not None]
        assert len(pending) == 1, "the thread shows it as pending"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        sent = posts(server)
        assert len(sent) == 2
        keys = {r.headers.get("idempotency-key") for r in sent}
        assert len(keys) == 1, "the retry carries the same key"
        texts = [s.text for s in server.state.statuses.values() if s.text.endswith("once")]
        assert len(texts) == 1, "posted once"
        assert screen.engine.pending_count == 0
        assert not [m for m in screen.thread_view.query("MessageView") if m.waiting is not None]


async def test_a_refusal_keeps_the_text_in_the_composer(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    server.faults.add(Fault(method="POST", path=STATUSES, status=422, times=1))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        await type_text(pilot, "refused")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        composer = screen_of(app).composer
        assert composer.is_open
        assert composer.body.text == "@ana @bo@elsewhere.example refused"
        assert "Not sent" in str(composer.query_one("#composer-note").render())
        assert screen_of(app).engine.pending_count == 0


async def test_a_draft_survives_escape_and_a_restart(make_app, tmp_path) -> None:
    server = FakeMastodon()
    group_chat(server)
    path = tmp_path / "cache.sqlite3"
    app = make_app(server, path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        await type_text(pilot, "half")
        await pilot.press("escape")
        await settle(app, pilot)
        assert not screen_of(app).composing
        await pilot.press("r")
        await settle(app, pilot)
        assert screen_of(app).composer.body.text.endswith("half"), "back after escape"
        await type_text(pilot, "way")
        await app.action_quit()
    again = make_app(server, path)
    async with again.run_test(size=(120, 40)) as pilot:
        await open_composer(again, pilot)
        assert screen_of(again).composer.body.text == "@ana @bo@elsewhere.example halfway"
    assert not posts(server)


async def test_an_offline_send_goes_when_the_server_is_back(tmp_path) -> None:
    server = FakeMastodon()
    group_chat(server)
    path = tmp_path / "cache.sqlite3"

    def app_on() -> tuple[DmInboxApp, Outage]:
        link = Outage(server.transport())
        engine = make_engine(server, path, transport=link, clock=manual_clock())
        return DmInboxApp(engine, clock=fixed_clock), link

    app, link = app_on()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        link.down = True
        await type_text(pilot, "later")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        screen = screen_of(app)
        assert screen.engine.pending_count == 1
        waiting = [m for m in screen.thread_view.query("MessageView") if m.waiting]
        assert len(waiting) == 1, "shown as waiting, with why"
        await app.action_quit()
    assert not posts(server)
    again, _ = app_on()
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(again, pilot)
        assert screen_of(again).engine.pending_count == 0
    texts = [s.text for s in server.state.statuses.values() if s.text.endswith("later")]
    assert len(texts) == 1
    assert len(posts(server)) == 1


async def test_editor_takes_the_text_and_gives_it_back(make_app, tmp_path, monkeypatch) -> None:
    script = tmp_path / "editor.py"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "path = sys.argv[1]\n"
        "text = open(path).read()\n"
        "open(path, 'w').write(text + 'written in the editor\\n')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(script))
    server = FakeMastodon()
    group_chat(server)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_composer(app, pilot)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        composer = screen_of(app).composer
        assert composer.body.text == "@ana @bo@elsewhere.example written in the editor"
        assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("dminbox-*/message.txt"))


async def test_a_new_message_checks_its_recipient(make_app) -> None:
    server = FakeMastodon()
    group_chat(server)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("C")
        await settle(app, pilot)
        screen = screen_of(app)
        composer = screen.composer
        assert composer.is_new and composer.to_field.has_focus
        await type_text(pilot, "nobody-here")
        await pilot.press("enter")
        await type_text(pilot, "hello")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        note = str(composer.query_one("#composer-note").render())
        assert "No account @nobody-here" in note
        assert not posts(server)
        composer.to_field.value = "@ana"
        composer.body.load_text("hello")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        sent = posts(server)
        assert len(sent) == 1 and form(sent[0])["status"] == "@ana hello"
        assert form(sent[0])["visibility"] == "direct"
