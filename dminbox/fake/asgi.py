"""Calls an ASGI 3 app for one request and collects its whole answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["AsgiApp", "CollectedResponse", "call_app", "http_scope"]

AsgiApp = Callable[
    [dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]
]


@dataclass
class CollectedResponse:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


def http_scope(
    method: str,
    path: str,
    query_string: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    raw_path: bytes,
    scheme: str,
    server: tuple[str, int] | None,
    client: tuple[str, int] | None,
) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers],
        "server": server,
        "client": client,
    }


async def call_app(app: AsgiApp, scope: dict, body: bytes) -> CollectedResponse:
    """Run the app once; exceptions it raises reach the caller untouched."""
    request_sent = False
    response = CollectedResponse()
    chunks: list[bytes] = []

    async def receive() -> dict:
        nonlocal request_sent
        if request_sent:
            return {"type": "http.disconnect"}
        request_sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if not response.status:
        raise RuntimeError("the ASGI app finished without starting a response")
    response.body = b"".join(chunks)
    return response
