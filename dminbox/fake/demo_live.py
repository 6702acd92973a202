"""A live demo: people from the demo inbox write now and then, so the stream has news.

Only `FakeMastodon.demo(live=True)` makes one (for `dminbox --demo` and
`python -m dminbox.fake`); tests never get one. It starts with the first
request the server answers, on that request's event loop, and carries on
where it left off if a later loop takes over.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from dminbox.fake.demo_scripts import LIVE_LINES

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon

__all__ = ["LiveDemo"]

GAP_SECONDS = (20.0, 40.0)


class LiveDemo:
    """Posts `lines` to me one by one, a random 20–40 s apart."""

    def __init__(
        self,
        server: FakeMastodon,
        *,
        seed: int = 0,
        lines: tuple[tuple[str, str], ...] = LIVE_LINES,
        gap: tuple[float, float] = GAP_SECONDS,
    ) -> None:
        self.server = server
        self.waiting = list(lines)
        """The messages still to come, next first."""
        self.gap = gap
        self._rng = random.Random(seed)
        self._task: asyncio.Task[None] | None = None

    def keep_going(self) -> None:
        """Make sure the messages keep coming on the running event loop (called per request)."""
        loop = asyncio.get_running_loop()
        task = self._task
        if not self.waiting or (task is not None and not task.done() and task.get_loop() is loop):
            return
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while self.waiting:
            await asyncio.sleep(self._rng.uniform(*self.gap))
            username, text = self.waiting.pop(0)
            self.post(username, text)

    def post(self, username: str, text: str) -> dict:
        """`username` writes to me: a reply in our latest one-to-one thread, or a new one."""
        server = self.server
        record = server.state.find_account(username, None, local_only=False)
        if record is None:
            raise LookupError(f"nobody called {username!r} in the demo")
        author = server.account(record.id)
        me = server.me
        thread = next(
            (
                row
                for row in server.state.rows_of(me["id"])
                if row.participant_ids == (author["id"],) and row.last_status_id
            ),
            None,
        )
        reply_to = thread.last_status_id if thread is not None else None
        return server.post_status(author, text, mentions=[me], in_reply_to_id=reply_to)
