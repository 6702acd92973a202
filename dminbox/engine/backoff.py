"""When to try again: capped exponential backoff with jitter, or when a rate limit lifts."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from dminbox.errors import ApiError

__all__ = ["Backoff", "reset_time"]


@dataclass
class Backoff:
    """Capped exponential backoff with jitter: 2 s, 4 s, 8 s … up to a minute, each
    drawn from its upper half so that many clients do not come back in step."""

    base: float = 2.0
    cap: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.failures)
        self.failures = min(self.failures + 1, 30)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.failures = 0


def reset_time(error: ApiError) -> float | None:
    """When a rate limit lifts (clock seconds), if the server said."""
    reset_at: datetime | None = getattr(error, "reset_at", None)
    return reset_at.timestamp() if reset_at is not None else None
