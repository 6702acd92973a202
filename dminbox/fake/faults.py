"""Faults the fake server can be told to inject: error answers, delays, held and dropped replies."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from http import HTTPStatus

from dminbox.fake.responses import JSON_TYPE

__all__ = ["ConnectionDropped", "Fault", "FaultList", "fault_body"]

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
    """

    method: str | None = None
    path: str | None = None
    status: int | None = None
    reset_after: float = 60.0
    delay: float = 0.0
    hold: asyncio.Event | None = None
    drop: bool = False
    times: int | None = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.fullmatch(self.path, path) is not None


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
