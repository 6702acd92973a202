"""Accounts inside the app: logging in, switching, and a token the server refuses."""

from __future__ import annotations

from textual.widgets import Input

from dminbox import accounts
from dminbox.config import Settings
from dminbox.engine import FIRST_BATCH
from dminbox.fake import FakeMastodon
from dminbox.oauth import SCOPES
from dminbox.session import EngineOpener
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp
from dminbox.ui.screens.inbox import InboxScreen
from dminbox.ui.screens.login import LoginScreen
from dminbox.ui.screens.token_refused import TokenRefusedScreen

from conftest import NOW, fixed_clock, make_engine, settle

HOST = "fake.dminbox.invalid"


def opener_for(server: FakeMastodon) -> EngineOpener:
    settings = Settings(instance=server.base_url, token="unused", use_cache=False)
    return EngineOpener(settings, transport=server.transport())


async def test_logging_in_from_the_app_switches_to_the_new_account() -> None:
    demo = FakeMastodon.demo(now=NOW)
    server = FakeMastodon.demo(now=NOW, seed=7)
    app = DmInboxApp(make_engine(demo), label="demo", clock=fixed_clock, opener=opener_for(server))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "l")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        app.screen.query_one("#instance", Input).value = HOST
        await pilot.press("enter")
        await settle(app, pilot)
        registration = accounts.app_registration(f"https://{HOST}")
        assert registration is not None and registration.scopes == SCOPES
        code = server.issue_code(registration.client_id, SCOPES)
        app.screen.query_one("#code", Input).value = code
        await pilot.press("enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)
        assert app.account_label == f"me@{HOST}"
        assert app.title.endswith(f"me@{HOST}")
        assert len(app.screen.inbox) >= 40
        stored = accounts.resolve_account(None)
        assert stored is not None and stored.acct == f"me@{HOST}"


async def test_a_wrong_code_says_so_in_one_line_and_stays() -> None:
    server = FakeMastodon.demo(now=NOW)
    app = DmInboxApp(
        make_engine(server), label="demo", clock=fixed_clock, opener=opener_for(server)
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "l")
        await pilot.pause()
        app.screen.query_one("#instance", Input).value = HOST
        await pilot.press("enter")
        await settle(app, pilot)
        app.screen.query_one("#code", Input).value = "not-a-code"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LoginScreen)
        status = str(app.screen.query_one("#login-status").render())
        assert "code" in status and "\n" not in status
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        assert app.account_label == "demo"


async def test_a_revoked_token_offers_to_log_in_again_and_the_cache_stays(tmp_path) -> None:
    server = FakeMastodon.demo(now=NOW)
    path = tmp_path / "cache.sqlite3"
    first = DmInboxApp(make_engine(server, path), clock=fixed_clock)
    async with first.run_test(size=(100, 30)) as pilot:
        await settle(first, pilot)
    cached = len(Cache.open(path).conversations(limit=1000))
    server.revoke_token(server.token)
    app = DmInboxApp(
        make_engine(server, path),
        label="me",
        clock=fixed_clock,
        opener=opener_for(server),
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TokenRefusedScreen)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "revoked or is invalid" in text
        await pilot.press("escape")
        await pilot.pause()
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        assert len(inbox.inbox) == min(cached, FIRST_BATCH), "the first screen, from the cache"
        await pilot.press("G")
        await settle(app, pilot)
        await pilot.press("G")
        await settle(app, pilot)
        assert len(inbox.inbox) == cached, "the whole cached inbox stays readable"
        await pilot.press("g")
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen), "told once, not at every request"
        inbox.engine.token_refused = False
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert isinstance(app.screen, TokenRefusedScreen)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#instance", Input).value == server.base_url


async def test_a_missing_scope_is_named(make_app) -> None:
    server = FakeMastodon.demo(now=NOW)
    server.add_token("read-only", {"read:statuses"})
    app = DmInboxApp(make_engine(server, token="read-only"), clock=fixed_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        inbox = app.screen
        index = next(i for i, c in enumerate(inbox.inbox) if c.unread)
        inbox.conversation_list.cursor = index
        await pilot.press("m")
        await settle(app, pilot)
        assert inbox.inbox[index].unread, "refused: the row is unread again"
        messages = [n.message for n in app._notifications]
        assert any("write:conversations" in m for m in messages), messages


async def test_with_no_account_at_a_terminal_the_app_opens_on_the_login_screen() -> None:
    server = FakeMastodon.demo(now=NOW)
    app = DmInboxApp(None, clock=fixed_clock, opener=opener_for(server))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        app.screen.query_one("#instance", Input).value = HOST
        await pilot.press("enter")
        await settle(app, pilot)
        registration = accounts.app_registration(f"https://{HOST}")
        app.screen.query_one("#code", Input).value = server.issue_code(
            registration.client_id, SCOPES
        )
        await pilot.press("enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)
        assert len(app.screen.inbox) >= 40


async def test_cancelling_the_first_login_exits_2() -> None:
    server = FakeMastodon.demo(now=NOW)
    app = DmInboxApp(None, clock=fixed_clock, opener=opener_for(server))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 2


async def test_switching_account_from_the_accounts_screen() -> None:
    server = FakeMastodon.demo(now=NOW)
    alice = server.add_account(username="zoe", display_name="Zoe")
    server.add_token("alice-token", {"read", "write"}, owner=alice)
    other = server.add_account(username="yann", display_name="Yann")
    server.post_status(other, "@zoe hello Zoe", mentions=[alice])
    accounts.save_account(f"zoe@{HOST}", server.base_url, alice["id"], "alice-token")
    accounts.save_account(f"me@{HOST}", server.base_url, server.me["id"], server.token)
    app = DmInboxApp(
        make_engine(server), label=f"me@{HOST}", clock=fixed_clock, opener=opener_for(server)
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert len(app.screen.inbox) >= 40
        await pilot.press("a")
        await pilot.pause()
        options = app.screen.query_one("#accounts")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index(f"zoe@{HOST}")
        await pilot.press("enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)
        assert app.account_label == f"zoe@{HOST}"
        assert [c.accounts[0].acct for c in app.screen.inbox] == ["yann"]
        assert accounts.resolve_account(None).acct == f"zoe@{HOST}", "now the default"


async def test_an_unexpected_error_while_switching_is_one_line_and_the_inbox_stays() -> None:
    server = FakeMastodon.demo(now=NOW)
    alice = server.add_account(username="zoe", display_name="Zoe")
    server.add_token("alice-token", {"read", "write"}, owner=alice)
    accounts.save_account(f"zoe@{HOST}", server.base_url, alice["id"], "alice-token")
    accounts.save_account(f"me@{HOST}", server.base_url, server.me["id"], server.token)
    opener = opener_for(server)

    def broken(stored: object) -> None:
        raise RuntimeError("the opener broke")

    opener.open = broken  # type: ignore[method-assign]
    app = DmInboxApp(make_engine(server), label=f"me@{HOST}", clock=fixed_clock, opener=opener)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        before = [c.id for c in app.screen.inbox]
        await pilot.press("a")
        await pilot.pause()
        options = app.screen.query_one("#accounts")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index(f"zoe@{HOST}")
        await pilot.press("enter")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen), "not left on the switching screen"
        assert app.account_label == f"me@{HOST}"
        assert [c.id for c in app.screen.inbox] == before
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors == ["Unexpected error: RuntimeError: the opener broke"]
        await pilot.press("j")
        assert app.screen.conversation_list.cursor == 1, "the inbox still takes keys"
