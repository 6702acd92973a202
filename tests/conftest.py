"""Shared fixtures: a fake Mastodon server and an app wired to it, with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from dminbox.cache import Cache
from dminbox.client import MastodonClient
from dminbox.fake import FakeMastodon
from dminbox.session import InboxSession
from dminbox.ui.app import DmInboxApp

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
"""The time every UI test and snapshot lives at."""


def fixed_clock() -> datetime:
    return NOW


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


def make_session(server: FakeMastodon, cache: Cache | None = None) -> InboxSession:
    """A session on the fake server, with an in-memory cache unless one is given."""
    client = MastodonClient(server.base_url, server.token, transport=server.transport())
    return InboxSession(client, cache if cache is not None else Cache.open(None))


@pytest.fixture
def make_app() -> Callable[..., DmInboxApp]:
    def build(server: FakeMastodon, cache: Cache | None = None) -> DmInboxApp:
        return DmInboxApp(make_session(server, cache), label="test", clock=fixed_clock)

    return build
