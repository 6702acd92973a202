"""Shared fixtures: a fake Mastodon server and an app wired to it, with clocks tests move."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dminbox.client import MastodonClient
from dminbox.clock import ManualClock
from dminbox.engine import Engine
from dminbox.fake import FakeMastodon
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
"""The time every UI test and snapshot lives at."""


def fixed_clock() -> datetime:
    return NOW


def manual_clock() -> ManualClock:
    """The engine's clock for a test: it starts at the real time (rate limits from the fake
    server name real moments) and moves only when the test says."""
    return ManualClock(time.time())


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch):
    """Every test gets its own XDG folders: nothing touches the real home."""
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.delenv("DMINBOX_INSTANCE", raising=False)
    monkeypatch.delenv("DMINBOX_TOKEN", raising=False)


@pytest.fixture
def demo_server() -> FakeMastodon:
    return FakeMastodon.demo(now=NOW)


def make_engine(
    server: FakeMastodon,
    cache: Cache | Path | None = None,
    *,
    transport: Any = None,
    clock: ManualClock | None = None,
    token: str | None = None,
    live: bool = False,
    **client_options: Any,
) -> Engine:
    """An engine on the fake server: an in-memory cache unless a cache or a path is given.
    It listens on the direct stream only with `live` (tests of the stream ask for it)."""
    link = transport or server.transport()

    def open_store() -> Cache:
        if isinstance(cache, Cache):
            return cache
        return Cache.open(cache)

    def open_client() -> MastodonClient:
        return MastodonClient(
            server.base_url, token or server.token, transport=link, **client_options
        )

    return Engine(
        open_store=open_store,
        open_client=open_client,
        instance=server.base_url,
        clock=clock or manual_clock(),
        live=live,
    )


@pytest.fixture
def make_app() -> Callable[..., DmInboxApp]:
    def build(
        server: FakeMastodon, cache: Cache | Path | None = None, **options: Any
    ) -> DmInboxApp:
        return DmInboxApp(make_engine(server, cache, **options), label="test", clock=fixed_clock)

    return build


async def settle(app: DmInboxApp, pilot: Any) -> None:
    """Lets workers and the engine finish what they are doing, and the screen catch up."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if app.engine is not None:
            await app.engine.idle()
    await pilot.pause()


def clock_of(app: DmInboxApp) -> ManualClock:
    assert app.engine is not None and isinstance(app.engine.clock, ManualClock)
    return app.engine.clock


LIST = "/api/v1/conversations"


def list_requests(server: FakeMastodon) -> list[str]:
    """Every GET of the conversation list the server saw, as its path and sorted query."""
    return [
        f"{r.path}?{'&'.join(f'{k}={v}' for k, v in sorted(r.query.items()))}"
        for r in server.requests
        if r.method == "GET" and r.path == LIST
    ]


def requests_of(server: FakeMastodon, method: str, suffix: str = "") -> list[str]:
    return [r.path for r in server.requests if r.method == method and r.path.endswith(suffix)]


def screen_of(app: DmInboxApp) -> Any:
    """The inbox screen the app shows now (and that it is the inbox)."""
    from dminbox.ui.screens.inbox import InboxScreen

    assert isinstance(app.screen, InboxScreen), app.screen
    return app.screen
