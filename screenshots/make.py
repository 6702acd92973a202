"""Regenerates the SVG screenshots in this folder from the demo inbox.

Run: .venv/bin/python screenshots/make.py
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from dminbox.client import MastodonClient
from dminbox.engine import Engine
from dminbox.fake import FakeMastodon
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp

HERE = Path(__file__).parent
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
"""A fixed time, so the pictures change only when the UI does."""

SHOTS = [
    ("inbox-80x24", (80, 24), []),
    ("thread-80x24", (80, 24), ["j", "j", "j", "j", "enter", "c"]),
    ("inbox-160x50", (160, 50), ["j", "j", "j", "j", "enter"]),
    ("help-80x24", (80, 24), ["question_mark"]),
    ("reply-80x24", (80, 24), ["j", "j", "j", "j", "r", "o", "k"]),
]


async def settle(app: DmInboxApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await engine_idle(app)
    await pilot.pause()


async def engine_idle(app: DmInboxApp) -> None:
    if app.engine is not None:
        await app.engine.idle()


async def shoot(name: str, size: tuple[int, int], keys: list[str]) -> None:
    server = FakeMastodon.demo(now=NOW)
    client = MastodonClient(server.base_url, server.token, transport=server.transport())
    engine = Engine(
        open_store=lambda: Cache.open(None),
        open_client=lambda: client,
        instance=server.base_url,
        live=False,
    )
    app = DmInboxApp(engine, label="demo", clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)
        app.save_screenshot(f"{name}.svg", str(HERE))
    print(f"wrote screenshots/{name}.svg")


async def main() -> None:
    for name, size, keys in SHOTS:
        await shoot(name, size, keys)


if __name__ == "__main__":
    asyncio.run(main())
