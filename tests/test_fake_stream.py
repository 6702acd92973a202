"""The fake server's direct stream: WebSocket (in-process and on a socket) and server-sent events.

Each test reads what a client would: httpx-ws's `aconnect_ws` for messages, and
raw wsproto frames where the pings themselves are the point.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpcore
import httpx
import pytest
import wsproto
from httpx_ws import (
    WebSocketDisconnect,
    WebSocketNetworkError,
    WebSocketUpgradeError,
    aconnect_ws,
)
from wsproto.events import CloseConnection, Event, Ping, Pong, TextMessage

from dminbox.fake import FakeMastodon, serve
from dminbox.fake.demo_live import LiveDemo

STREAM = "/api/v1/streaming?stream=direct"
EVENTS = "/api/v1/streaming/direct"
QUIET = 0.15
"""Seconds a test listens to be sure nothing comes."""


@dataclass
class Link:
    """A way to reach the fake: a client, and the origin a WebSocket URL starts with."""

    server: FakeMastodon
    client: httpx.AsyncClient
    origin: str
    ws_origin: str
    in_process: bool = False


@asynccontextmanager
async def linked(server: FakeMastodon, how: str) -> AsyncIterator[Link]:
    if how == "in-process":
        async with httpx.AsyncClient(transport=server.transport()) as client:
            yield Link(server, client, server.base_url, server.base_url, in_process=True)
        return
    listener = await serve(server)
    try:
        async with httpx.AsyncClient() as client:
            ws_origin = "ws://" + listener.url.split("://", 1)[1]
            yield Link(server, client, listener.url, ws_origin)
    finally:
        await listener.close()


@pytest.fixture(params=["in-process", "loopback"])
async def link(request: pytest.FixtureRequest) -> AsyncIterator[Link]:
    async with linked(FakeMastodon(), request.param) as made:
        yield made


def people(server: FakeMastodon) -> tuple[dict, dict]:
    alice = server.add_account("alice", "Alice")
    server.add_token("alice-token", {"read", "write"}, owner=alice)
    return server.me, alice


def connect(link: Link, token: str | None = None, path: str = STREAM, **options):
    token = link.server.token if token is None else token
    return aconnect_ws(link.ws_origin + path, link.client, subprotocols=[token], **options)


async def next_event(ws, timeout: float = 1.0) -> tuple[str, str]:
    message = await ws.receive_json(timeout=timeout)
    assert message["stream"] == ["direct"]
    assert isinstance(message["payload"], str), "the payload is a string, even for JSON"
    return message["event"], message["payload"]


async def next_conversation(ws) -> dict:
    event, payload = await next_event(ws)
    assert event == "conversation"
    conversation = json.loads(payload)
    assert set(conversation) == {"id", "unread", "accounts", "last_status"}
    return conversation


async def nothing_comes(ws, seconds: float = QUIET) -> None:
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=seconds)


# -- handshake --------------------------------------------------------------------


async def test_the_token_in_the_protocol_header_is_echoed_as_the_subprotocol(link: Link) -> None:
    async with connect(link) as ws:
        assert ws.subprotocol == link.server.token
        assert link.server.stream.connections == 1
        assert link.server.stream.open == 1
    seen = link.server.requests[-1]
    assert seen.path == "/api/v1/streaming"
    assert seen.headers["sec-websocket-protocol"] == link.server.token


async def test_the_instance_names_where_the_stream_is(link: Link) -> None:
    instance = (await link.client.get(link.origin + "/api/v2/instance")).json()
    streaming = instance["configuration"]["urls"]["streaming"]
    assert streaming.startswith("ws://" if link.origin.startswith("http://") else "wss://")
    async with aconnect_ws(streaming + STREAM, link.client, subprotocols=[link.server.token]):
        assert link.server.stream.open == 1


@pytest.mark.parametrize("how", ["query", "header"])
async def test_the_token_may_come_as_a_query_or_an_authorization_header(how: str) -> None:
    server = FakeMastodon()
    me, alice = people(server)
    async with linked(server, "in-process") as link:
        if how == "query":
            ws_context = aconnect_ws(
                f"{link.ws_origin}{STREAM}&access_token={server.token}", link.client
            )
        else:
            ws_context = aconnect_ws(
                link.ws_origin + STREAM,
                link.client,
                headers={"Authorization": f"Bearer {server.token}"},
            )
        async with ws_context as ws:
            assert ws.subprotocol is None, "nothing offered, nothing echoed"
            server.post_status(alice, "hello", mentions=[me])
            assert (await next_conversation(ws))["accounts"][0]["id"] == alice["id"]


@pytest.mark.parametrize("token", ["wrong", "revoked", ""])
async def test_a_bad_token_is_refused_before_the_upgrade(link: Link, token: str) -> None:
    if token == "revoked":
        link.server.add_token("revoked", {"read"})
        link.server.revoke_token("revoked")
    with pytest.raises(WebSocketUpgradeError) as refused:
        async with aconnect_ws(
            link.ws_origin + STREAM, link.client, subprotocols=[token] if token else None
        ):
            pass
    answer = refused.value.response
    assert answer.status_code == 401
    expected = "Missing access token" if not token else "Invalid access token"
    assert answer.headers["x-error-message"] == expected
    assert link.server.stream.connections == 0
    assert link.server.stream.attempts == 1


async def test_mastodon_accepts_a_token_without_read_and_says_so_in_a_frame() -> None:
    server = FakeMastodon()
    me, alice = people(server)
    server.add_token("profile-only", {"profile"})
    async with linked(server, "in-process") as link, connect(link, "profile-only") as ws:
        error = await ws.receive_json(timeout=1.0)
        assert error == {"error": "Access token does not have the required scopes", "status": 401}
        server.post_status(alice, "hello", mentions=[me])
        await nothing_comes(ws)


async def test_gotosocial_refuses_a_token_without_read_with_403() -> None:
    server = FakeMastodon("gotosocial")
    server.add_token("profile-only", {"profile"})
    server.add_token("statuses", {"read:statuses"})
    async with linked(server, "in-process") as link:
        with pytest.raises(WebSocketUpgradeError) as refused:
            async with connect(link, "profile-only"):
                pass
        assert refused.value.response.status_code == 403
        async with connect(link, "statuses") as ws:
            assert ws.subprotocol == "statuses"


@pytest.mark.parametrize("flavour", ["mastodon", "gotosocial"])
async def test_a_trailing_slash_is_the_same_stream(flavour: str) -> None:
    server = FakeMastodon(flavour)
    me, alice = people(server)
    path = "/api/v1/streaming/?stream=direct"
    async with linked(server, "loopback") as link, connect(link, path=path) as ws:
        server.post_status(alice, "hello", mentions=[me])
        await next_conversation(ws)


async def test_another_path_is_not_a_stream(link: Link) -> None:
    with pytest.raises(WebSocketUpgradeError) as refused:
        async with connect(link, path="/api/v1/elsewhere"):
            pass
    assert refused.value.response.status_code == 404


async def test_an_upgrade_without_a_key_is_a_bad_request(link: Link) -> None:
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
    async with link.client.stream("GET", link.ws_origin + STREAM, headers=headers) as answer:
        assert answer.status_code == 400
    assert link.server.stream.attempts == 0


# -- events --------------------------------------------------------------------------


async def test_a_new_message_is_a_conversation_event_for_each_participant(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    async with connect(link) as mine, connect(link, "alice-token") as hers:
        status = server.post_status(alice, "are you around?", mentions=[me])
        for ws, owner in ((mine, me), (hers, alice)):
            conversation = await next_conversation(ws)
            row = server.conversation_rows(owner)[0]
            assert conversation == row, "each owner hears their own row"
            assert conversation["last_status"]["id"] == status["id"]
        await nothing_comes(mine, 0.05)  # one event per row


async def test_read_and_unread_send_the_row_again(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    server.post_status(alice, "are you around?", mentions=[me])
    row_id = server.conversation_rows()[0]["id"]
    headers = {"Authorization": f"Bearer {server.token}"}
    async with connect(link) as ws:
        answer = await link.client.post(
            f"{link.origin}/api/v1/conversations/{row_id}/read", headers=headers
        )
        assert answer.status_code == 200
        read = await next_conversation(ws)
        assert (read["id"], read["unread"]) == (row_id, False)
        await link.client.post(
            f"{link.origin}/api/v1/conversations/{row_id}/unread", headers=headers
        )
        unread = await next_conversation(ws)
        assert (unread["id"], unread["unread"]) == (row_id, True)
        assert unread["last_status"]["id"] == read["last_status"]["id"], "no new message"


async def test_a_deleted_status_is_a_delete_event_then_the_row_moves_back(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    first = server.post_status(alice, "one", mentions=[me])
    second = server.post_status(me, "two", mentions=[alice], in_reply_to_id=first["id"])
    async with connect(link) as mine, connect(link, "alice-token") as hers:
        answer = await link.client.delete(
            f"{link.origin}/api/v1/statuses/{second['id']}",
            headers={"Authorization": f"Bearer {server.token}"},
        )
        assert answer.status_code == 200
        for ws in (mine, hers):
            assert await next_event(ws) == ("delete", second["id"])
            fallen_back = await next_conversation(ws)
            assert fallen_back["last_status"]["id"] == first["id"]
        server.delete_status(first["id"])  # the last one: the rows go, and say nothing
        for ws in (mine, hers):
            assert await next_event(ws) == ("delete", first["id"])
            await nothing_comes(ws)


async def test_a_destroyed_row_sends_nothing(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    server.post_status(alice, "one", mentions=[me])
    row_id = server.conversation_rows()[0]["id"]
    async with connect(link) as ws:
        answer = await link.client.delete(
            f"{link.origin}/api/v1/conversations/{row_id}",
            headers={"Authorization": f"Bearer {server.token}"},
        )
        assert answer.status_code == 200
        await nothing_comes(ws)


async def test_a_message_posted_through_the_api_is_streamed_too() -> None:
    server = FakeMastodon()
    me, alice = people(server)
    async with linked(server, "in-process") as link, connect(link, "alice-token") as ws:
        answer = await link.client.post(
            f"{link.origin}/api/v1/statuses",
            data={"status": "@alice lunch?", "visibility": "direct"},
            headers={"Authorization": f"Bearer {server.token}"},
        )
        assert answer.status_code == 200
        conversation = await next_conversation(ws)
        assert conversation["last_status"]["id"] == answer.json()["id"]
        assert conversation["accounts"][0]["id"] == me["id"]


async def test_subscribe_frames_are_tolerated_and_subscribe_once() -> None:
    server = FakeMastodon()
    me, alice = people(server)
    async with linked(server, "in-process") as link, connect(link, path="/api/v1/streaming") as ws:
        server.post_status(alice, "one", mentions=[me])
        await nothing_comes(ws)
        for _ in range(2):
            await ws.send_json({"type": "subscribe", "stream": "direct"})
        await ws.send_text("not json")
        await ws.send_json({"type": "subscribe", "stream": "user"})
        await nothing_comes(ws, 0.05)  # and the frames have arrived
        server.post_status(alice, "two", mentions=[me])
        await next_conversation(ws)
        await nothing_comes(ws)  # subscribed once: one event per change


async def test_a_subscribe_frame_on_a_subscribed_stream_changes_nothing(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    async with connect(link) as ws:
        await ws.send_json({"type": "subscribe", "stream": "direct"})
        await nothing_comes(ws, 0.05)
        server.post_status(alice, "one", mentions=[me])
        await next_conversation(ws)
        await nothing_comes(ws, 0.05)


# -- switches ------------------------------------------------------------------------


async def test_drop_hangs_up_without_a_close_frame_and_a_reconnect_counts(link: Link) -> None:
    server = link.server
    async with connect(link) as ws:
        assert server.stream.drop() == 1
        with pytest.raises(WebSocketNetworkError):
            await ws.receive(timeout=1.0)
    async with connect(link) as ws:
        await server.stream.wait_for_connections(2, timeout=1.0)
        assert server.stream.connections == 2
        me, alice = people(server)
        server.post_status(alice, "still there?", mentions=[me])
        await next_conversation(ws)


async def test_close_sends_a_close_frame(link: Link) -> None:
    async with connect(link) as ws:
        link.server.stream.close(1001, "going away")
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive(timeout=1.0)
        assert (closed.value.code, closed.value.reason) == (1001, "going away")


async def test_revoking_the_token_closes_its_streams(link: Link) -> None:
    server = link.server
    people(server)
    async with connect(link, "alice-token") as hers, connect(link) as mine:
        server.revoke_token("alice-token")
        with pytest.raises(WebSocketDisconnect):
            await hers.receive(timeout=1.0)
        await nothing_comes(mine, 0.05)


async def test_a_stall_holds_everything_back_until_it_ends(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    server.stream.ping_interval = 0.02
    async with connect(link) as ws:
        server.stream.stall(True)
        status = server.post_status(alice, "hello?", mentions=[me])
        await nothing_comes(ws)
        assert server.stream.open == 1, "still connected"
        server.stream.stall(False)
        assert (await next_conversation(ws))["last_status"]["id"] == status["id"]


@pytest.mark.parametrize("status", [502, 200, 404])
async def test_refuse_answers_new_streams_with_plain_http(link: Link, status: int) -> None:
    server = link.server
    async with connect(link) as ws:
        server.stream.refuse = status
        with pytest.raises(WebSocketUpgradeError) as refused:
            async with connect(link):
                pass
        assert refused.value.response.status_code == status
        if status == 502:  # nginx's page (over a socket httpx-ws leaves the body unread)
            assert refused.value.response.headers["content-type"] == "text/html"
        await nothing_comes(ws, 0.05)  # the open stream stays open
    server.stream.refuse = None
    async with connect(link):
        pass
    assert (server.stream.connections, server.stream.attempts) == (2, 3)


# -- heartbeats, at the frame level --------------------------------------------------


class RawWebSocket:
    """A WebSocket read frame by frame, to see pings that httpx-ws answers unseen."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.protocol = wsproto.Connection(wsproto.ConnectionType.CLIENT)
        self.pending: list[Event] = []

    async def next(self, timeout: float = 1.0) -> Event | None:
        """The next frame, or None when nothing comes within `timeout`."""
        while not self.pending:
            try:
                data = await self.stream.read(65536, timeout=timeout)
            except (TimeoutError, httpcore.ReadTimeout):
                return None
            self.protocol.receive_data(data or None)
            self.pending.extend(self.protocol.events())
        return self.pending.pop(0)

    async def send(self, event: Event) -> None:
        await self.stream.write(self.protocol.send(event))


@asynccontextmanager
async def raw(link: Link, token: str | None = None) -> AsyncIterator[RawWebSocket]:
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Protocol": token or link.server.token,
    }
    async with link.client.stream("GET", link.ws_origin + STREAM, headers=headers) as answer:
        assert answer.status_code == 101
        assert answer.headers["sec-websocket-protocol"] == (token or link.server.token)
        stream = answer.extensions["network_stream"]
        try:
            yield RawWebSocket(stream)
        finally:
            await stream.aclose()


async def test_the_server_pings_and_a_stall_stops_the_pings(link: Link) -> None:
    link.server.stream.ping_interval = 0.03
    async with raw(link) as ws:
        ping = await ws.next()
        assert isinstance(ping, Ping)
        await ws.send(ping.response())
        link.server.stream.stall(True)
        assert await ws.next(timeout=QUIET) is None
        link.server.stream.stall(False)
        assert isinstance(await ws.next(), Ping)


async def test_a_ping_left_unanswered_until_the_next_one_ends_the_connection(link: Link) -> None:
    link.server.stream.ping_interval = 0.03
    async with raw(link) as ws:
        assert isinstance(await ws.next(), Ping)
        ending = await ws.next()
        assert isinstance(ending, CloseConnection) and ending.code == 1006, "no close frame"
    assert link.server.stream.open == 0


async def test_the_server_answers_a_ping_unless_stalled(link: Link) -> None:
    link.server.stream.ping_interval = None
    async with raw(link) as ws:
        await ws.send(Ping(b"are you there"))
        assert await ws.next() == Pong(b"are you there")
        link.server.stream.stall(True)
        await ws.send(Ping(b"and now?"))
        assert await ws.next(timeout=QUIET) is None


async def test_events_are_text_frames(link: Link) -> None:
    me, alice = people(link.server)
    async with raw(link) as ws:
        link.server.post_status(alice, "hi", mentions=[me])
        frame = await ws.next()
        assert isinstance(frame, TextMessage)
        assert json.loads(frame.data)["event"] == "conversation"


# -- server-sent events --------------------------------------------------------------


class Lines:
    """An event stream's lines, read a few at a time from one iterator."""

    def __init__(self, answer: httpx.Response) -> None:
        self._lines = answer.aiter_lines()

    async def take(self, count: int) -> list[str]:
        return [await anext(self._lines) for _ in range(count)]


async def test_server_sent_events_greet_thump_and_carry_events(link: Link) -> None:
    server = link.server
    me, alice = people(server)
    server.stream.thump_interval = 0.05
    headers = {"Authorization": f"Bearer {server.token}"}
    async with link.client.stream("GET", link.origin + EVENTS, headers=headers) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream"
        lines = Lines(answer)
        assert await lines.take(2) == [":)", ":thump"]
        status = server.post_status(alice, "hello", mentions=[me])
        event, data, blank = await lines.take(3)
        assert (event, blank) == ("event: conversation", "")
        assert data.startswith("data: {")
        conversation = json.loads(data.removeprefix("data: "))
        assert conversation["last_status"]["id"] == status["id"]
        server.delete_status(status["id"])
        assert await lines.take(3) == ["event: delete", f"data: {status['id']}", ""]


async def test_server_sent_events_take_the_token_as_a_query() -> None:
    server = FakeMastodon()
    async with linked(server, "in-process") as link:
        url = f"{link.origin}{EVENTS}?access_token={server.token}"
        async with link.client.stream("GET", url) as answer:
            assert await Lines(answer).take(1) == [":)"]
        async with link.client.stream("GET", f"{link.origin}{EVENTS}?access_token=no") as answer:
            await answer.aread()
            assert answer.status_code == 401
            assert answer.json() == {"error": "Invalid access token"}


async def test_a_dropped_event_stream_breaks_off_mid_body(link: Link) -> None:
    headers = {"Authorization": f"Bearer {link.server.token}"}
    async with link.client.stream("GET", link.origin + EVENTS, headers=headers) as answer:
        lines = Lines(answer)
        assert await lines.take(1) == [":)"]
        link.server.stream.drop()
        with pytest.raises(httpx.RemoteProtocolError):
            await lines.take(1)


async def test_an_event_stream_closed_as_an_event_comes_stops(link: Link) -> None:
    """The close lands as the stream wakes for an event: the answer must still stop."""
    me, alice = people(link.server)
    headers = {"Authorization": f"Bearer {link.server.token}"}
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(2):
        async with link.client.stream("GET", link.origin + EVENTS, headers=headers) as answer:
            await Lines(answer).take(1)
            link.server.post_status(alice, "now", mentions=[me])
            closing = loop.time()
    assert loop.time() - closing < 0.5
    if link.in_process:  # over a socket the server notices at its next write
        assert link.server.stream.open == 0


async def test_a_stalled_event_stream_sends_nothing_and_a_read_timeout_notices() -> None:
    server = FakeMastodon()
    server.stream.thump_interval = 0.02
    server.stream.stall(True)
    async with linked(server, "in-process") as link:
        headers = {"Authorization": f"Bearer {server.token}"}
        url = link.origin + EVENTS
        async with link.client.stream("GET", url, headers=headers, timeout=QUIET) as answer:
            assert answer.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                await answer.aread()


async def test_gotosocial_has_no_server_sent_events() -> None:
    server = FakeMastodon("gotosocial")
    async with linked(server, "in-process") as link:
        answer = await link.client.get(
            link.origin + EVENTS, headers={"Authorization": f"Bearer {server.token}"}
        )
        assert answer.status_code == 404


# -- the live demo ---------------------------------------------------------------------


def test_the_demo_inbox_for_tests_stays_still() -> None:
    assert FakeMastodon.demo().live is None


async def test_a_live_demo_posts_to_me_on_the_stream() -> None:
    server = FakeMastodon.demo(live=True)
    assert server.live is not None
    server.live.gap = (0.01, 0.02)
    async with linked(server, "in-process") as link, connect(link) as ws:  # starts it
        conversation = await next_conversation(ws)
        author = conversation["last_status"]["account"]["username"]
        assert (author, conversation["unread"]) == ("alice", True)
        assert server.conversation_rows()[0]["id"] == conversation["id"], "on top of the inbox"
        second = await next_conversation(ws)
        assert second["last_status"]["account"]["username"] == "tomasz"


def test_a_live_line_replies_in_the_one_to_one_thread_when_there_is_one() -> None:
    server = FakeMastodon()
    me, alice = people(server)
    first = server.post_status(alice, "hi", mentions=[me])
    posted = LiveDemo(server).post("alice", "me again")
    assert posted["in_reply_to_id"] == first["id"]
    assert len(server.conversation_rows()) == 1
