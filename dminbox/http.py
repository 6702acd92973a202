"""The one HTTP stack: the httpx client, answers read within bounds, and errors in one line.

Both the API client and the login send through `fetch`, so a failure reads
the same everywhere. Every answer is bounded twice, against a server that
misbehaves: at most `max_bytes` of body *after* decompression (read as a
stream, so a huge or endlessly inflating body is abandoned at the cap), and
at most `deadline` seconds for the whole exchange (httpx's timeouts only
bound each read, so a server dripping one byte a second would never time out).

    async with build_client(base_url=instance) as http:
        reply = await fetch(http, "GET", "/api/v1/conversations")
        if not reply.is_success:
            raise error_for(reply)

A transport exception becomes a `NetworkError` (`describe_transport_error`
gives its text); an answer past a bound becomes a `ServerError`; both are
transient. `error_for` maps an unsuccessful answer to its `ApiError`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from dminbox import __version__
from dminbox.errors import (
    ApiError,
    AuthenticationError,
    MissingScopeError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from dminbox.text import one_line

__all__ = [
    "CONNECT_TIMEOUT",
    "DEADLINE",
    "MAX_BYTES",
    "READ_TIMEOUT",
    "Reply",
    "build_client",
    "describe_transport_error",
    "error_for",
    "fetch",
    "pinned_links",
    "pin_to_origin",
    "reset_time",
    "server_said",
]

MAX_BYTES = 8 * 1024 * 1024
"""The largest body read, decompressed: far above any real page (a full page is under 1 MB)."""
DEADLINE = 60.0
"""Seconds one exchange may take in all: connecting, sending and reading the whole body."""
READ_TIMEOUT = 20.0
"""Seconds httpx waits for each read (and write) before giving up."""
CONNECT_TIMEOUT = 10.0
ACCEPT_ENCODING = "gzip, deflate"
"""The encodings `fetch` decodes itself, piece by bounded piece."""
_PIECE = 64 * 1024
"""The most one inflate step may produce, so a bomb never lands in memory at once."""


def build_client(
    *,
    base_url: str = "",
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = READ_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """The httpx client every part of dminbox speaks through; redirects are never followed."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        follow_redirects=False,
        headers={
            "User-Agent": f"dminbox/{__version__}",
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            **(headers or {}),
        },
    )


@dataclass(frozen=True)
class Reply:
    """A whole answer, its body read within the bounds.

    `response` is httpx's, for its status, headers, request and `links`; its
    own body is not read (use `content`).
    """

    response: httpx.Response
    content: bytes
    """The body, decompressed."""

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def is_success(self) -> bool:
        return self.response.is_success

    @property
    def host(self) -> str:
        """Who answered, as the messages name it: `host[:port]`."""
        return _host(self.response.request.url)

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.content)


async def fetch(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_BYTES,
    deadline: float = DEADLINE,
    **kwargs: Any,
) -> Reply:
    """Sends one request and reads its whole answer within `deadline` s and `max_bytes`.

    Raises `NetworkError` when the exchange fails, `ServerError` when the
    answer is too large, too slow or cannot be decoded, and `ApiError` for a
    URL that cannot be asked for. Any status is returned: see `error_for`.
    """
    try:
        request = http.build_request(method, url, **kwargs)
    except httpx.InvalidURL as error:
        raise ApiError(f"{one_line(url, 100)} is not an address dminbox can ask.") from error
    host = _host(request.url)
    bound = asyncio.timeout(deadline)
    try:
        async with bound:
            response = await http.send(request, stream=True)
            try:
                content = await _read_body(response, max_bytes, host)
            finally:
                await response.aclose()
    except TimeoutError as error:
        if bound.expired():
            raise ServerError(f"{host} did not finish answering in {deadline:g} s.") from error
        raise NetworkError(f"{host} did not answer in time.") from error
    except httpx.TransportError as error:
        raise NetworkError(describe_transport_error(error, host)) from error
    except httpx.DecodingError as error:
        raise ServerError(f"{host} sent a compressed body that is damaged.") from error
    except httpx.InvalidURL as error:
        raise ApiError(f"{host} is not an address dminbox can ask.") from error
    return Reply(response, content)


async def _read_body(response: httpx.Response, limit: int, host: str) -> bytes:
    too_large = ServerError(f"{host} sent more than {_size(limit)}: gave up.")
    if response.is_stream_consumed:
        # The transport built the body in memory (httpx.MockTransport): only measure it.
        if len(response.content) > limit:
            raise too_large
        return response.content
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    decoder = _decoder(response.headers.get("content-encoding", ""), host)
    parts: list[bytes] = []
    raw = size = 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        if raw > limit:
            raise too_large
        for piece in decoder.feed(chunk) if decoder else (chunk,):
            size += len(piece)
            if size > limit:
                raise too_large
            parts.append(piece)
    if decoder is not None:
        rest = decoder.flush()
        if size + len(rest) > limit:
            raise too_large
        parts.append(rest)
    return b"".join(parts)


class _Inflater:
    """Decodes gzip or deflate in pieces of at most _PIECE bytes of output."""

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        self._started = False
        wbits = zlib.MAX_WBITS if self._deflate else zlib.MAX_WBITS | 16
        self._inflate = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self._inflate.eof:
            try:
                piece = self._inflate.decompress(data, _PIECE)
            except zlib.error as error:
                if self._deflate and not self._started:
                    # Some servers send raw deflate without the zlib wrapper.
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise httpx.DecodingError(str(error)) from error
            self._started = True
            data = self._inflate.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < _PIECE:
                return  # everything fed is out; a full piece may have more behind it

    def flush(self) -> bytes:
        try:
            return self._inflate.flush(_PIECE)
        except zlib.error as error:
            raise httpx.DecodingError(str(error)) from error


def _decoder(header: str, host: str) -> _Inflater | None:
    encodings = [e.strip().lower() for e in header.split(",") if e.strip().lower() != "identity"]
    encodings = [e for e in encodings if e]
    if not encodings:
        return None
    if len(encodings) == 1 and encodings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater("deflate" if encodings[0] == "deflate" else "gzip")
    named = one_line(", ".join(encodings), 40)
    raise ServerError(f"{host} sent a body in an encoding dminbox does not read ({named}).")


def _size(limit: int) -> str:
    mib = 1024 * 1024
    if limit >= mib and limit % mib == 0:
        return f"{limit // mib} MiB"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def _host(url: httpx.URL) -> str:
    return url.netloc.decode("ascii", "replace") or url.host


# -- transport failures ----------------------------------------------------------------


def describe_transport_error(error: httpx.TransportError, host: str) -> str:
    """One line naming `host` for what went wrong on the way: TLS, DNS, refused, drop..."""
    if isinstance(error, httpx.TimeoutException):
        return f"{host} did not answer in time."  # also when a TLS handshake never ends
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "the certificate is not valid"
            return f"TLS failed with {host}: {_reason(reason)}."
    for cause in causes:
        if isinstance(cause, ssl.SSLError) and not isinstance(cause, _SSL_NOT_FAILURES):
            reason = (cause.reason or "the secure connection failed").lower().replace("_", " ")
            if reason == "wrong version number":
                reason += " (does it speak https on this port?)"
            return f"TLS failed with {host}: {_reason(reason)}."
    text = " ".join(str(cause).lower() for cause in causes)
    if any(isinstance(cause, socket.gaierror) for cause in causes) or (
        "name or service not known" in text or "nodename nor servname" in text
    ):
        return f"Cannot find {_bare(host)}: check the spelling and your connection."
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes) or (
        "connection refused" in text
    ):
        return f"{host} refused the connection: check the address and port."
    if isinstance(error, httpx.ProxyError):
        return f"The proxy refused the connection to {host}."
    if isinstance(error, httpx.UnsupportedProtocol):
        return f"Cannot connect to {host}: dminbox speaks only http and https."
    if isinstance(error, httpx.ConnectError):
        return f"Cannot connect to {host}: check the address and your connection."
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"{host} dropped the connection."
    return f"The connection to {host} broke off."


_SSL_NOT_FAILURES = (ssl.SSLWantReadError, ssl.SSLWantWriteError)
"""What the ssl module raises while a handshake is only waiting for bytes."""


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything chained to it, groups included, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (current.__cause__, current.__context__):
            if nested is not None:
                pending.append(nested)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)


def _reason(text: str) -> str:
    """OpenSSL's words as the tail of one sentence: one line, no capital, no final stop."""
    reason = one_line(str(text), 160).rstrip(".")
    return reason[:1].lower() + reason[1:]


def _bare(host: str) -> str:
    """The host without its port."""
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if host.count(":") == 1 else host


# -- answers that are not a success ----------------------------------------------------


def error_for(reply: Reply, scope: str = "", *, now: datetime | None = None) -> ApiError:
    """The error an unsuccessful answer means; `scope` names what a 403 lacks."""
    status, host = reply.status_code, reply.host
    said = server_said(reply)
    if status == 401:
        return AuthenticationError(
            f"The token was refused ({said or 'invalid or revoked'}): log in again."
        )
    if status == 403:
        needs = f"the {scope} permission" if scope else "the permission for this"
        return MissingScopeError(
            f"The token lacks {needs} ({said or 'forbidden'}): "
            "log in again with dminbox login to grant it."
        )
    if status in (404, 410):
        return NotFoundError(said or f"{host} answered HTTP {status}.", status_code=status)
    if status == 422:
        return ValidationError(said or f"{host} answered HTTP {status}.")
    if status == 429:
        reset_at = reset_time(reply.headers, now=now)
        return RateLimitedError(f"Rate limited by {host}{_until(reset_at)}.", reset_at=reset_at)
    if status >= 500:
        kind = "" if said else " (an error page, not the API)"
        reason = f": {said}" if said else ""
        return ServerError(
            f"{host} had a problem, HTTP {status}{kind}{reason}.", status_code=status
        )
    if 300 <= status < 400:
        return ServerError(
            f"{host} redirected the request (HTTP {status}): check the instance URL.",
            status_code=status,
            transient=False,
        )
    return ApiError(
        f"{host} refused the request, HTTP {status}: {said or 'no reason given'}.",
        status_code=status,
    )


def server_said(reply: Reply) -> str | None:
    """The `error_description` or `error` of a Mastodon error body, made safe for one line."""
    try:
        body = reply.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    said = body.get("error_description") or body.get("error")
    if not isinstance(said, str):
        return None
    return one_line(said, 200) or None


def reset_time(headers: httpx.Headers, *, now: datetime | None = None) -> datetime | None:
    """When a rate limit lifts: `X-RateLimit-Reset` or `Retry-After`.

    `X-RateLimit-Reset` is ISO 8601 on Mastodon and may be a Unix time on GoToSocial;
    `Retry-After` is seconds from `now` or an HTTP-date. None when neither can be read.
    """
    moment = now or datetime.now(UTC)
    reset = headers.get("X-RateLimit-Reset", "").strip()
    if reset.isdigit() and len(reset) <= 12:
        return datetime.fromtimestamp(int(reset), UTC)
    if reset:
        try:
            return _aware(datetime.fromisoformat(reset.replace("Z", "+00:00")))
        except ValueError:
            pass
    retry = headers.get("Retry-After", "").strip()
    if retry.isdigit():
        try:
            return moment + timedelta(seconds=int(retry))
        except OverflowError:
            return None
    if retry:
        try:
            return _aware(parsedate_to_datetime(retry))
        except (ValueError, TypeError, IndexError, OverflowError):
            return None
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _until(reset_at: datetime | None) -> str:
    """The tail of the message: until 21:14:05 in local time (with the date when far off)."""
    if reset_at is None:
        return ": wait a few minutes"
    try:
        local = reset_at.astimezone()
        near = abs(reset_at - datetime.now(UTC)) < timedelta(hours=12)
    except (OverflowError, ValueError, OSError):
        return ": wait a few minutes"
    return f" until {local:%H:%M:%S}" if near else f" until {local:%Y-%m-%d %H:%M:%S}"


# -- links ------------------------------------------------------------------------------


def pin_to_origin(url: str, origin: httpx.URL, base: httpx.URL | None = None) -> str | None:
    """`url` resolved against `base` (default: `origin`), with `origin`'s scheme and host.

    Proxies may name another host or port in their links; the token must
    never travel to any origin but the one the user chose. None when the URL
    cannot be parsed or is not http(s).
    """
    try:
        resolved = (base or origin).join(url)
        if resolved.scheme not in ("http", "https"):
            return None
        return str(origin.copy_with(raw_path=resolved.raw_path, fragment=None))
    except (httpx.InvalidURL, ValueError, TypeError):
        return None


def pinned_links(reply: Reply, origin: httpx.URL) -> dict[str, str]:
    """rel -> URL from the `Link` header (parsed by httpx), pinned to `origin`.

    A link whose URL cannot be parsed is left out; the others stay.
    """
    links: dict[str, str] = {}
    base = reply.response.request.url
    for link in reply.response.links.values():
        url = link.get("url")
        if not url:
            continue
        pinned = pin_to_origin(url, origin, base)
        if pinned is None:
            continue
        for rel in link.get("rel", "").lower().split():
            links.setdefault(rel, pinned)
    return links
