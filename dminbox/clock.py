"""Time for the sync engine: the real clock, and one tests move by hand.

The engine never calls `time` or `asyncio.sleep` itself; it asks its clock.
Tests give it a `ManualClock` and `advance()` it, so a five-second undo
window or a rate limit lifting at 21:14:05 takes no real time at all.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time: rate limits name a wall-clock moment)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that stands still until `advance()`; sleepers wake as their time comes."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + seconds, future))
        await future

    def advance(self, seconds: float) -> None:
        """Moves time on and wakes every sleeper whose moment has come."""
        self._now += seconds
        due = [(at, f) for at, f in self._sleepers if at <= self._now]
        self._sleepers = [(at, f) for at, f in self._sleepers if at > self._now]
        for _, future in sorted(due, key=lambda pair: pair[0]):
            if not future.done():
                future.set_result(None)

    @property
    def sleepers(self) -> int:
        """How many are waiting (tests use it to know a retry is scheduled)."""
        return sum(1 for _, f in self._sleepers if not f.done())

    def next_wake(self) -> float | None:
        """Seconds until the earliest sleeper wakes, or None."""
        waiting = [at for at, f in self._sleepers if not f.done()]
        return min(waiting) - self._now if waiting else None
