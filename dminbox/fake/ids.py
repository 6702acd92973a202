"""Id makers: Mastodon's time-based snowflakes and GoToSocial's ULIDs, both strings."""

from __future__ import annotations

import random
import re
from datetime import datetime

__all__ = ["CursorKey", "IdMaker", "encode_ulid"]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LEADING_INTEGER = re.compile(r"\s*([+-]?\d+)")

CursorKey = tuple[int, str]
"""A status id as the server orders it: (the integer, "") on Mastodon, (0, the ULID) on
GoToSocial. One type for both, so keys compare with each other."""


def _milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def encode_ulid(value: int) -> str:
    """The 26-character Crockford base32 spelling of a 128-bit number."""
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class IdMaker:
    """Hands out ids in the flavour's format.

    Status ids and GoToSocial row ids only ever grow, even when the caller
    back-dates a status: comparing two ids (as the real server does when it
    applies a cursor) then agrees with the order in which things were created.
    """

    def __init__(self, flavour: str, rng: random.Random) -> None:
        self.flavour = flavour
        self._rng = rng
        self._last: dict[str, int] = {}
        self._row_count = 0

    def _time_based(self, kind: str, moment: datetime) -> str:
        last = self._last.get(kind, 0)
        if self.flavour == "gotosocial":
            candidate = (_milliseconds(moment) << 80) | self._rng.getrandbits(80)
        else:
            # Mastodon::Snowflake: milliseconds in the high bits, 16 bits of sequence.
            candidate = (_milliseconds(moment) << 16) | self._rng.getrandbits(16)
        value = max(candidate, last + 1)
        self._last[kind] = value
        return encode_ulid(value) if self.flavour == "gotosocial" else str(value)

    def status_id(self, created_at: datetime) -> str:
        return self._time_based("status", created_at)

    def entity_id(self, created_at: datetime) -> str:
        """An id for an account or a media attachment."""
        return self._time_based("entity", created_at)

    def row_id(self, created_at: datetime) -> str:
        """A conversation row id: "1", "2", … on Mastodon, a ULID on GoToSocial."""
        if self.flavour == "gotosocial":
            return self._time_based("row", created_at)
        self._row_count += 1
        return str(self._row_count)

    def cursor_key(self, value: str) -> CursorKey:
        """How the server compares a cursor with a status id.

        Mastodon compares bigints (Rails reads "abc" as 0, like Ruby's to_i);
        GoToSocial compares ULID strings.
        """
        if self.flavour == "gotosocial":
            return (0, value.upper())
        match = LEADING_INTEGER.match(value)
        return (int(match.group(1)) if match else 0, "")
