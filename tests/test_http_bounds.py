"""Bounded against a misbehaving server: size caps, the deadline, odd headers and links.

The fake server makes each misbehaviour on demand (`Fault`), in-process and
over a real loopback socket. Bodies of hundreds of megabytes are generated
as they are sent, so a test that passes has also shown they are never held.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from dminbox.client import MastodonClient
from dminbox.errors import ApiError, LoginError, RateLimitedError, ServerError
from dminbox.fake import FakeMastodon, Fault, serve
from dminbox.oauth import Target, http_client, register_app

LIST = "/api/v1/conversations"
MiB = 1024 * 1024
HOST = "fake.dminbox.invalid"


def inbox(count: int = 3) -> FakeMastodon:
    server = FakeMastodon()
    for number in range(count):
        friend = server.add_account(f"friend{number}")
        server.post_status(friend, f"hello {number}", mentions=[server.me])
    return server


def client_of(server: FakeMastodon, **options: float) -> MastodonClient:
    return MastodonClient(server.base_url, server.token, transport=server.transport(), **options)


@contextmanager
def measured() -> Iterator[dict[str, float]]:
    """Peak traced memory (MiB) and wall time (s) of the block."""
    figures: dict[str, float] = {}
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield figures
    finally:
        figures["seconds"] = time.perf_counter() - started
        figures["peak_mib"] = tracemalloc.get_traced_memory()[1] / MiB
        tracemalloc.stop()


BIG_BODIES = [
    pytest.param({"body_size": 300 * MiB}, id="300MB-with-length"),
    pytest.param({"body_size": 300 * MiB, "content_length": False}, id="300MB-chunked"),
    pytest.param({"gzip_bomb": 2 * 1024 * MiB}, id="gzip-bomb-2GB"),
]
"""Fault options (a Fault is used up once it applied, so each test makes its own)."""


# -- the size cap ----------------------------------------------------------------------


@pytest.mark.parametrize("options", BIG_BODIES)
async def test_a_huge_body_is_abandoned_at_the_cap(options: dict) -> None:
    server = inbox()
    server.faults.add(Fault(path=LIST, **options))
    async with client_of(server) as client:
        with measured() as figures, pytest.raises(ServerError) as raised:
            await client.conversations()
        page = await client.conversations()  # the client is fine afterwards
    assert str(raised.value) == f"{HOST} sent more than 8 MiB: gave up."
    assert raised.value.transient
    assert figures["peak_mib"] < 50, figures
    assert figures["seconds"] < 5, figures
    assert len(page.conversations) == 3


@pytest.mark.parametrize("options", BIG_BODIES)
async def test_a_huge_body_over_a_real_socket(options: dict) -> None:
    server = inbox()
    listener = await serve(server)
    try:
        server.faults.add(Fault(path=LIST, **options))
        async with MastodonClient(listener.url, server.token) as client:
            with measured() as figures, pytest.raises(ServerError) as raised:
                await client.conversations()
            page = await client.conversations()
    finally:
        await listener.close()
    host = listener.url.split("://", 1)[1]
    assert str(raised.value) == f"{host} sent more than 8 MiB: gave up."
    assert figures["peak_mib"] < 50, figures
    assert figures["seconds"] < 5, figures
    assert len(page.conversations) == 3


async def test_the_cap_is_a_parameter_and_counts_decompressed_bytes() -> None:
    server = inbox()
    async with client_of(server, max_bytes=4096) as client:
        server.faults.add(Fault(path=LIST, gzip_bomb=4097))
        with pytest.raises(ServerError, match=f"^{HOST} sent more than 4 KiB: gave up.$"):
            await client.conversations()
        server.faults.add(Fault(path=LIST, gzip_bomb=4096))  # at the cap: read, and valid
        assert (await client.conversations()).conversations == []
        server.faults.add(Fault(path=LIST, body_size=5000))
        with pytest.raises(ServerError, match="more than 4 KiB"):
            await client.conversations()
    async with client_of(server, max_bytes=1000) as client:
        server.faults.add(Fault(path=LIST, body_size=1001, content_length=False))
        with pytest.raises(ServerError, match="more than 1000 bytes"):
            await client.conversations()


def _streamed(status: int, pieces: AsyncIterator[bytes], **headers: str) -> httpx.Response:
    class Stream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for piece in pieces:
                yield piece

    return httpx.Response(status, headers=headers, stream=Stream())


async def test_any_transport_is_bounded_not_only_the_fake() -> None:
    """A plain httpx.MockTransport with an endless body (no length) fails at the cap."""
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"["
        while True:
            sent += 65536
            yield b" " * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return _streamed(200, endless(), **{"content-type": "application/json"})

    transport = httpx.MockTransport(handler)
    async with MastodonClient("https://social.example", "t", transport=transport) as client:
        with pytest.raises(ServerError, match="sent more than 8 MiB"):
            await client.conversations()
    assert 8 * MiB <= sent < 9 * MiB


async def test_an_in_memory_body_is_measured_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[" + b" " * 2000 + b"]")

    transport = httpx.MockTransport(handler)
    async with MastodonClient("https://a.example", "t", transport=transport, max_bytes=1000) as c:
        with pytest.raises(ServerError, match="^a.example sent more than 1000 bytes: gave up.$"):
            await c.conversations()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(b'[{"id":"1","unread":true,"accounts":[],"last_status":null}]')),
        ("deflate", zlib.compress(b'[{"id":"1","unread":true,"accounts":[],"last_status":null}]')),
        (
            "deflate",  # raw deflate, without the zlib wrapper, as some servers send
            (lambda c: c.compress(b'[{"id":"1","accounts":[]}]') + c.flush())(
                zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            ),
        ),
        ("identity", b'[{"id":"1","accounts":[]}]'),
    ],
    ids=["gzip", "deflate", "raw-deflate", "identity"],
)
async def test_compressed_answers_are_read(encoding: str, body: bytes) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):  # in small pieces, as a network delivers
            yield body[start : start + 7]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept-encoding"] == "gzip, deflate"
        return _streamed(200, pieces(), **{"content-encoding": encoding})

    transport = httpx.MockTransport(handler)
    async with MastodonClient("https://social.example", "t", transport=transport) as client:
        page = await client.conversations()
    assert [c.id for c in page.conversations] == ["1"]


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        ("gzip", b"\x1f\x8b\x08\x00not gzip at all", "sent a compressed body that is damaged"),
        ("br", b"\x00\x01", "sent a body in an encoding dminbox does not read (br)"),
        ("gzip, br", b"\x00", "in an encoding dminbox does not read (gzip, br)"),
    ],
)
async def test_bodies_that_cannot_be_decoded_are_server_errors(
    encoding: str, body: bytes, message: str
) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield body

    def handler(request: httpx.Request) -> httpx.Response:
        return _streamed(200, pieces(), **{"content-encoding": encoding})

    transport = httpx.MockTransport(handler)
    async with MastodonClient("https://social.example", "t", transport=transport) as client:
        with pytest.raises(ServerError) as raised:
            await client.conversations()
    assert message in str(raised.value) and raised.value.transient


# -- the deadline ----------------------------------------------------------------------


async def test_a_dripping_answer_fails_at_the_deadline() -> None:
    """One byte every 10 ms never trips the 1 s read timeout; the 0.15 s deadline ends it."""
    server = inbox()
    server.faults.add(Fault(path=LIST, drip=0.01))
    async with client_of(server, timeout=1.0, deadline=0.15) as client:
        started = time.perf_counter()
        with pytest.raises(ServerError) as raised:
            await client.conversations()
        elapsed = time.perf_counter() - started
        assert len((await client.conversations()).conversations) == 3
    assert str(raised.value) == f"{HOST} did not finish answering in 0.15 s."
    assert raised.value.transient
    assert 0.14 < elapsed < 1.5


async def test_a_dripping_answer_over_a_real_socket() -> None:
    server = inbox()
    listener = await serve(server)
    try:
        server.faults.add(Fault(path=LIST, drip=0.01))
        async with MastodonClient(listener.url, server.token, deadline=0.15) as client:
            with pytest.raises(ServerError, match=r"did not finish answering in 0\.15 s\.$"):
                await client.conversations()
            assert len((await client.conversations()).conversations) == 3
    finally:
        await listener.close()


async def test_a_short_drip_finishes_within_the_deadline() -> None:
    server = FakeMastodon()  # an empty inbox: the body is `[]`
    server.faults.add(Fault(path=LIST, drip=0.01))
    async with client_of(server, deadline=10) as client:
        page = await client.conversations()
    assert page.conversations == [] and page.is_last


async def test_an_answer_that_never_starts_fails_at_the_deadline() -> None:
    server = inbox()
    server.faults.add(Fault(path=LIST, hold=asyncio.Event()))
    async with client_of(server, timeout=5, deadline=0.1) as client:
        with pytest.raises(ServerError, match=r"did not finish answering in 0\.1 s"):
            await client.conversations()


async def test_a_slow_read_is_still_a_network_timeout() -> None:
    server = inbox()
    server.faults.add(Fault(path=LIST, hold=asyncio.Event()))
    async with client_of(server, timeout=0.05, deadline=5) as client:
        with pytest.raises(ApiError) as raised:
            await client.conversations()
    assert str(raised.value) == f"{HOST} did not answer in time." and raised.value.transient


# -- rate limits and links, as the fake sends them ----------------------------------------


async def test_retry_after_seconds_from_the_fake() -> None:
    server = inbox()
    server.faults.add(Fault(path=LIST, status=429, retry_after=120))
    async with client_of(server) as client:
        before = datetime.now(UTC)
        with pytest.raises(RateLimitedError) as raised:
            await client.conversations()
    reset_at = raised.value.reset_at
    assert reset_at is not None
    assert timedelta(seconds=119) < reset_at - before < timedelta(seconds=122)
    assert str(raised.value) == (f"Rate limited by {HOST} until {reset_at.astimezone():%H:%M:%S}.")


async def test_retry_after_http_date_from_the_fake() -> None:
    server = inbox()
    reset = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    server.faults.add(Fault(path=LIST, status=429, retry_after=format_datetime(reset, usegmt=True)))
    async with client_of(server) as client:
        with pytest.raises(RateLimitedError) as raised:
            await client.conversations()
    assert raised.value.reset_at == reset


async def test_a_next_link_back_to_the_same_page_is_handed_over_as_it_is() -> None:
    """The client does not loop by itself: it returns the link; callers stop at a seen URL."""
    server = inbox()
    server.faults.add(Fault(path=LIST, link='<{url}>; rel="next"'))
    async with client_of(server) as client:
        page = await client.conversations()
    assert page.next_url == f"https://{HOST}{LIST}?limit=40"
    assert page.prev_url is None
    assert len(page.conversations) == 3


async def test_an_unparsable_link_beside_a_valid_one_keeps_the_page() -> None:
    server = inbox(45)
    server.faults.add(
        Fault(path=LIST, link_extra='<http://[::1/api/v1/conversations?max_id=5>; rel="next"')
    )
    async with client_of(server) as client:
        page = await client.conversations()
    assert len(page.conversations) == 40
    assert page.next_url is None  # the bad `next` replaced the good one, and was dropped
    assert page.prev_url is not None and page.prev_url.startswith(f"https://{HOST}{LIST}?")
    request = server.requests[-1]
    assert request.path == LIST


async def test_links_to_another_origin_are_pinned() -> None:
    server = inbox(45)
    server.faults.add(
        Fault(path=LIST, link="<http://evil.example:8080/api/v1/conversations?max_id=9>; rel=next")
    )
    async with client_of(server) as client:
        page = await client.conversations()
        assert page.next_url == f"https://{HOST}{LIST}?max_id=9"
        await client.conversations(page.next_url)
    assert server.requests[-1].headers["host"] == HOST


# -- the login shares the bounds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            Fault(path="/api/v1/apps", gzip_bomb=1024 * MiB),
            f"{HOST} sent more than 8 MiB: gave up.",
        ),
        (Fault(path="/api/v1/apps", body_size=20 * MiB), f"{HOST} sent more than 8 MiB: gave up."),
    ],
    ids=["bomb", "huge"],
)
async def test_the_login_is_bounded_as_the_client_is(fault: Fault, message: str) -> None:
    server = FakeMastodon()
    server.faults.add(fault)
    async with http_client(server.transport()) as http:
        with measured() as figures, pytest.raises(LoginError) as raised:
            await register_app(http, Target(f"https://{HOST}"))
    assert str(raised.value) == message
    assert raised.value.transient and isinstance(raised.value.__cause__, ServerError)
    assert figures["peak_mib"] < 50
