"""The app against the fake server over a real loopback socket, as a user would run it."""

from __future__ import annotations

import pytest

from dminbox.checks import normalise_instance
from dminbox.client import MastodonClient
from dminbox.engine import Engine
from dminbox.errors import NetworkError
from dminbox.fake import FakeMastodon, Fault, serve
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp
from dminbox.ui.screens.inbox import InboxScreen

from conftest import NOW, fixed_clock, manual_clock, settle


async def test_the_app_reads_pages_and_marks_read_over_a_socket() -> None:
    server = FakeMastodon.demo(now=NOW)
    listener = await serve(server)
    try:
        instance = normalise_instance(listener.url)
        assert instance.startswith("http://127.0.0.1:")
        engine = Engine(
            open_store=lambda: Cache.open(None),
            open_client=lambda: MastodonClient(instance, server.token),
            clock=manual_clock(),
        )
        app = DmInboxApp(engine, clock=fixed_clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, InboxScreen)
            assert len(screen.inbox) >= 40
            assert screen.inbox.next_url is not None
            assert screen.inbox.next_url.startswith(listener.url), "links name the socket's origin"
            index = next(i for i, c in enumerate(screen.inbox) if c.unread)
            screen.conversation_list.cursor = index
            await pilot.press("enter")
            await settle(app, pilot)
            target = screen.inbox[index]
            assert not target.unread
            row = next(r for r in server.conversation_rows() if r["id"] == target.id)
            assert row["unread"] is False
    finally:
        await listener.close()


async def test_a_connection_dropped_by_the_server_is_a_network_error() -> None:
    server = FakeMastodon.demo(now=NOW)
    listener = await serve(server)
    try:
        server.faults.add(Fault(method="GET", path="/api/v1/conversations", drop=True))
        async with MastodonClient(listener.url, server.token) as client:
            with pytest.raises(NetworkError) as raised:
                await client.conversations()
            assert "dropped" in str(raised.value)
            page = await client.conversations()
            assert len(page.conversations) == 40
    finally:
        await listener.close()
