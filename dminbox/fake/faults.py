"""Faults the fake server can be told to inject: error answers, delays, held and dropped
replies, and answers that try a client's bounds: huge, inflating, dripping, or with odd links."""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus

from dminbox.fake.responses import JSON_TYPE

__all__ = ["ConnectionDropped", "Fault", "FaultList", "fault_body", "filler", "gzip_bomb"]

HTML_TYPE = "text/html"
TEMPORARY_PROBLEM = "There was a temporary problem serving your request, please try again"
# What nginx in front of a Mastodon sends when Puma is down or slow.
NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class ConnectionDropped(Exception):
    """Raised by the app when a fault drops the connection; transports turn it into a hang-up."""


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next `times` matching requests.

    `path` is a regular expression that must match the whole path. With only
    `delay` or `hold` the real answer follows. With `drop` the request is still
    carried out, then its answer is lost, as when a proxy hangs up.

    The body and header options change whatever answer is sent (the real one,
    or the `status` one), and combine:

        Fault(path=LIST, body_size=300 * 2**20)      # 300 MB, generated as it is sent
        Fault(path=LIST, gzip_bomb=2 * 2**30)        # a few MB of gzip inflating to 2 GB
        Fault(path=LIST, drip=1.0)                   # the real answer, one byte a second
        Fault(path=LIST, status=429, retry_after=30) # Retry-After instead of X-RateLimit-*
        Fault(path=LIST, link='<{url}>; rel="next"') # `next` is the same page: a loop
        Fault(path=LIST, link_extra='<http://[::1/x>; rel="next"')  # an unparsable URL

    In `link` and `link_extra`, `{url}` stands for the request's own URL and
    `{base}` for the server's base URL.
    """

    method: str | None = None
    path: str | None = None
    status: int | None = None
    reset_after: float = 60.0
    """With status 429: seconds until `X-RateLimit-Reset`."""
    retry_after: float | str | None = None
    """With status 429: send `Retry-After` (seconds, or this text, e.g. an HTTP-date)
    instead of the `X-RateLimit-*` headers."""
    delay: float = 0.0
    hold: asyncio.Event | None = None
    drop: bool = False
    body_size: int | None = None
    """Replace the body with this many bytes (a JSON `[ ... ]` of spaces), made as it is sent."""
    gzip_bomb: int | None = None
    """Replace the body with `Content-Encoding: gzip` that inflates to this many bytes."""
    content_length: bool = True
    """Whether a `body_size` body declares its length; False sends it chunked, so a
    client can only count. (A gzip bomb never declares one.)"""
    drip: float = 0.0
    """Seconds between the body's bytes, sent one at a time (the headers come at once)."""
    link: str | None = None
    """Replace the `Link` header with this (an empty string removes it)."""
    link_extra: str | None = None
    """Append this to the `Link` header, after a comma (or make it the header)."""
    times: int | None = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.fullmatch(self.path, path) is not None

    @property
    def streams(self) -> bool:
        """True when the body is not sent at once: generated, compressed or dripped."""
        return self.body_size is not None or self.gzip_bomb is not None or self.drip > 0


class FaultList:
    """The faults waiting to apply, checked in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)

    def __iter__(self):
        return iter(list(self._faults))

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, counting one use of it."""
        for fault in self._faults:
            if fault.times is not None and fault.times <= 0:
                continue
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return fault
        return None


def fault_body(status: int) -> tuple[str, bytes]:
    """The content type and body a real deployment sends with this status."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if status in (502, 504):
        return HTML_TYPE, NGINX_PAGE.format(code=status, phrase=phrase).encode()
    message = {429: "Too many requests", 503: TEMPORARY_PROBLEM}.get(status, phrase)
    return JSON_TYPE, json.dumps({"error": message}).encode()


PIECE = 64 * 1024


def filler(size: int, piece: int = PIECE) -> Iterator[bytes]:
    """`size` bytes of valid JSON (an empty list padded with spaces), one piece at a time."""
    if size <= 0:
        return
    if size == 1:
        yield b" "
        return
    spaces = b" " * piece
    left = size - 2
    first = min(left, piece - 1)
    yield b"[" + spaces[:first]
    left -= first
    while left > 0:
        step = min(left, piece)
        yield spaces[:step]
        left -= step
    yield b"]"


def gzip_bomb(inflated: int, piece: int = 1024 * 1024) -> Iterator[bytes]:
    """A gzip stream that inflates to `inflated` bytes of `filler`, compressed lazily.

    Spaces compress about 1000 to 1, so 2 GB take about 2 MB on the wire; only
    what a client reads is ever compressed.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for plain in filler(inflated, piece):
        packed = compressor.compress(plain)
        if packed:
            yield packed
    yield compressor.flush()
