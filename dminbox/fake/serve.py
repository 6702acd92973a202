"""Serves a FakeMastodon on a loopback port: a small HTTP/1.1 server with keep-alive.

Answers are streamed as the app produces them: with the app's Content-Length
when it gives one, else chunked (HTTP/1.1) or ended by closing (HTTP/1.0).
A GET with `Upgrade: websocket` becomes a WebSocket (framed by wsproto, in
fake/websocket.py) for the rest of the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx

from dminbox.fake.asgi import AppResponse, http_scope, open_app
from dminbox.fake.faults import ConnectionDropped
from dminbox.fake.responses import JSON_TYPE
from dminbox.fake.websocket import is_upgrade, serve_websocket, websocket_scope

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon

__all__ = ["LOOPBACK_HOSTS", "LoopbackServer", "serve"]

logger = logging.getLogger(__name__)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024


class BadRequest(Exception):
    """The bytes on the socket are not a request this server understands."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, str, list[tuple[bytes, bytes]], bytes]:
    first = await reader.readexactly(1)
    if first == b"\x16":
        # A TLS ClientHello (https:// to this plain port): answer at once, as nginx does,
        # instead of waiting for a request head that never comes.
        raise BadRequest(400, "this port speaks plain HTTP, not TLS")
    head = first + await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    headers: list[tuple[bytes, bytes]] = []
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadRequest(400, "malformed header")
        headers.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
    lookup = dict(headers)
    if b"chunked" in lookup.get(b"transfer-encoding", b"").lower():
        raise BadRequest(411, "chunked request bodies are not supported; send Content-Length")
    try:
        length = int(lookup.get(b"content-length", b"0"))
    except ValueError as error:
        raise BadRequest(400, "bad Content-Length") from error
    if not 0 <= length <= MAX_BODY:
        raise BadRequest(413, "request body too large")
    body = await reader.readexactly(length) if length else b""
    return method, target, version, headers, body


def _wants_keep_alive(version: str, headers: list[tuple[bytes, bytes]]) -> bool:
    connection = dict(headers).get(b"connection", b"").lower()
    if version == "HTTP/1.0":
        return connection == b"keep-alive"
    return connection != b"close"


def _response_head(
    status: int,
    headers: list[tuple[bytes, bytes]],
    body_length: int | None,
    keep_alive: bool,
    *,
    chunked: bool = False,
) -> bytes:
    """The status line and headers; `body_length` None means chunked or until the close."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}".encode()]
    lines += [
        name + b": " + value
        for name, value in headers
        if name.lower() not in (b"connection", b"content-length", b"transfer-encoding")
    ]
    if body_length is not None:
        lines.append(f"content-length: {body_length}".encode())
    elif chunked:
        lines.append(b"transfer-encoding: chunked")
    lines.append(b"connection: keep-alive" if keep_alive else b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


class LoopbackServer:
    """A running loopback server; `close()` stops it and hangs up on every client."""

    def __init__(self, fake: FakeMastodon, host: str) -> None:
        self.fake = fake
        self.host = host
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self, port: int) -> None:
        self._server = await asyncio.start_server(
            self._serve_connection, self.host, port, limit=MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._answer_requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away, or sent more than a request head may hold
        except asyncio.CancelledError:
            # close() ends idle keep-alive connections this way. The task must finish
            # quietly: asyncio's stream callback reports a cancelled handler as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        while True:
            try:
                method, target, version, headers, body = await _read_request(reader)
            except BadRequest as error:
                message = json.dumps({"error": str(error)}).encode()
                content_type = [(b"content-type", JSON_TYPE.encode())]
                writer.write(
                    _response_head(error.status, content_type, len(message), False) + message
                )
                await writer.drain()
                return
            raw_path, _, query = target.partition("?")
            if method == "GET" and is_upgrade(httpx.Headers(headers)):
                scope = websocket_scope(
                    unquote(raw_path),
                    query.encode("latin-1"),
                    headers,
                    raw_path=raw_path.encode("latin-1"),
                    scheme="http",
                    server=(self.host, self.port),
                    client=(peer[0], peer[1]),
                )
                try:
                    await serve_websocket(
                        self.fake.asgi, scope, target.encode("latin-1"), reader, writer
                    )
                except (ConnectionDropped, ConnectionError, asyncio.IncompleteReadError):
                    pass  # hung up, as the app asked, or the client went away
                except Exception:
                    logger.exception("the fake server failed on a WebSocket to %s", target)
                return
            scope = http_scope(
                method,
                unquote(raw_path),
                query.encode("latin-1"),
                headers,
                raw_path=raw_path.encode("latin-1"),
                scheme="http",
                server=(self.host, self.port),
                client=(peer[0], peer[1]),
            )
            keep_alive = _wants_keep_alive(version, headers)
            try:
                response = await open_app(self.fake.asgi, scope, body)
            except ConnectionDropped:
                return  # hang up without a word, like a crashed upstream
            except Exception:
                # A bug in the fake: answer like a crashed Rails app and tell the console.
                logger.exception("the fake server failed on %s %s", method, target)
                message = b'{"error":"Internal Server Error"}'
                content_type = [(b"content-type", JSON_TYPE.encode())]
                writer.write(_response_head(500, content_type, len(message), False) + message)
                await writer.drain()
                return
            try:
                complete = await _write_answer(writer, response, method, version, keep_alive)
            finally:
                await response.aclose()
            if not (complete and keep_alive):
                return


async def _write_answer(
    writer: asyncio.StreamWriter,
    response: AppResponse,
    method: str,
    version: str,
    keep_alive: bool,
) -> bool:
    """Streams one answer; False when the connection must close after it (or broke)."""
    length = _declared_length(response.headers)
    chunked = length is None and version != "HTTP/1.0"
    if length is None and not chunked:
        keep_alive = False  # an HTTP/1.0 client reads until the close
    writer.write(
        _response_head(response.status, response.headers, length, keep_alive, chunked=chunked)
    )
    if method == "HEAD":
        await writer.drain()
        return keep_alive
    try:
        while (piece := await response.next_chunk()) is not None:
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
    except ConnectionDropped:
        return False  # hang up in the middle of the body
    if chunked:
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    return keep_alive


async def serve(
    server: FakeMastodon, host: str = "127.0.0.1", port: int = 0, *, set_base_url: bool = True
) -> LoopbackServer:
    """Start serving `server` on a loopback address; port 0 picks a free port.

    With `set_base_url` (the default) the fake's `base_url` becomes the socket's
    URL, so Link headers and account URLs point where clients can follow them.
    """
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the fake server only binds loopback addresses, not {host!r}")
    loopback = LoopbackServer(server, host)
    await loopback.start(port)
    if set_base_url:
        server.base_url = loopback.url
    return loopback
