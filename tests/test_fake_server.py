"""The fake Mastodon server behaves as docs/mastodon.md says a real Mastodon / GoToSocial does."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from dminbox.fake import FakeMastodon, Fault, serve
from dminbox.models import Account, Context, Conversation, Status

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
AUTH = {"Authorization": "Bearer demo-token"}
JSON_TYPE = "application/json; charset=utf-8"


def client_for(server: FakeMastodon, token: str | None = "demo-token") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=server.transport(), base_url=server.base_url, headers=headers
    )


def inbox_with_threads(count: int, flavour: str = "mastodon") -> FakeMastodon:
    """A server where `count` friends each sent me one message, a minute apart."""
    server = FakeMastodon(flavour)
    for number in range(count):
        friend = server.add_account(f"friend{number}", f"Friend {number}")
        server.post_status(
            friend,
            f"hello number {number}",
            mentions=[server.me],
            created_at=NOW + timedelta(minutes=number),
        )
    return server


async def follow_next(
    client: httpx.AsyncClient, first_url: str
) -> tuple[list[list[dict]], httpx.Response]:
    pages, url = [], first_url
    while True:
        response = await client.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        next_link = response.links.get("next")
        if not next_link:
            return pages, response
        url = next_link["url"]


# Pagination


async def test_mastodon_paging_ends_on_a_short_page():
    server = inbox_with_threads(45)
    async with client_for(server) as client:
        pages, last = await follow_next(client, "/api/v1/conversations")
    assert [len(page) for page in pages] == [20, 20, 5]
    seen = [row["id"] for page in pages for row in page]
    assert seen == [row["id"] for row in server.conversation_rows()]
    assert len(set(seen)) == 45
    assert set(last.links) == {"prev"}


async def test_mastodon_full_last_page_is_followed_by_an_empty_page_without_link():
    server = inbox_with_threads(40)
    async with client_for(server) as client:
        pages, last = await follow_next(client, "/api/v1/conversations?limit=20")
    assert [len(page) for page in pages] == [20, 20, 0]
    assert "link" not in last.headers
    assert len({row["id"] for page in pages for row in page}) == 40


async def test_link_header_format_and_cursors_are_last_status_ids():
    server = inbox_with_threads(3)
    async with client_for(server) as client:
        response = await client.get("/api/v1/conversations?limit=2")
    rows = response.json()
    base = "https://fake.dminbox.invalid/api/v1/conversations"
    assert response.headers["link"] == (
        f'<{base}?limit=2&max_id={rows[1]["last_status"]["id"]}>; rel="next", '
        f'<{base}?limit=2&min_id={rows[0]["last_status"]["id"]}>; rel="prev"'
    )
    assert re.fullmatch(r"\d{18}", rows[0]["last_status"]["id"])
    assert rows[0]["id"].isdigit() and int(rows[0]["id"]) < 100


async def test_gotosocial_paging_has_next_on_every_page_and_ends_empty():
    server = inbox_with_threads(45, flavour="gotosocial")
    async with client_for(server) as client:
        pages, last = await follow_next(client, "/api/v1/conversations")
    assert [len(page) for page in pages] == [40, 5, 0]
    assert "link" not in last.headers
    seen = [row["id"] for page in pages for row in page]
    assert seen == [row["id"] for row in server.conversation_rows()]
    assert all(ULID.fullmatch(row_id) for row_id in seen)
    assert ULID.fullmatch(pages[0][0]["last_status"]["id"])


async def test_mastodon_limit_is_clamped_to_40_and_echoed_verbatim():
    server = inbox_with_threads(45)
    async with client_for(server) as client:
        response = await client.get("/api/v1/conversations?limit=100")
    assert len(response.json()) == 40
    assert "limit=100&max_id=" in response.links["next"]["url"]
    assert "limit=100&min_id=" in response.links["prev"]["url"]


@pytest.mark.parametrize("limit", ["0", "-3", "abc", "2.5"])
async def test_mastodon_bad_limit_is_a_500(limit):
    async with client_for(inbox_with_threads(2)) as client:
        response = await client.get("/api/v1/conversations", params={"limit": limit})
    assert response.status_code == 500
    assert "error" in response.json()


@pytest.mark.parametrize(("limit", "status"), [("abc", 400), ("0", 400), ("81", 400), ("80", 200)])
async def test_gotosocial_limit_range(limit, status):
    async with client_for(inbox_with_threads(2, "gotosocial")) as client:
        response = await client.get("/api/v1/conversations", params={"limit": limit})
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"].startswith("Bad Request")


@pytest.mark.parametrize("flavour", ["mastodon", "gotosocial"])
async def test_min_id_and_since_id(flavour):
    server = inbox_with_threads(10, flavour)
    rows = server.conversation_rows()
    cursor = rows[7]["last_status"]["id"]
    async with client_for(server) as client:
        above = (await client.get(f"/api/v1/conversations?limit=3&min_id={cursor}")).json()
        newest = (await client.get(f"/api/v1/conversations?limit=3&since_id={cursor}")).json()
    expected_above = [row["id"] for row in rows[4:7]]
    if flavour == "gotosocial":
        expected_above.reverse()  # GoToSocial answers min_id oldest first
    assert [row["id"] for row in above] == expected_above
    assert [row["id"] for row in newest] == [row["id"] for row in rows[:3]]


async def test_max_id_given_a_conversation_id_is_empty_and_min_id_gives_the_oldest():
    server = inbox_with_threads(5)
    rows = server.conversation_rows()
    async with client_for(server) as client:
        empty = await client.get(f"/api/v1/conversations?max_id={rows[0]['id']}")
        oldest = await client.get(f"/api/v1/conversations?limit=2&min_id={rows[0]['id']}")
    assert empty.json() == [] and "link" not in empty.headers
    assert [row["id"] for row in oldest.json()] == [row["id"] for row in rows[3:5]]


async def test_rows_without_last_status_sort_last_and_end_the_list():
    server = inbox_with_threads(3)
    emptied = server.conversation_rows()[0]["id"]
    server.row(emptied).status_ids.clear()
    async with client_for(server) as client:
        response = await client.get("/api/v1/conversations?limit=3")
    rows = [Conversation.model_validate(row) for row in response.json()]
    assert rows[-1].id == emptied and rows[-1].last_status is None
    assert "next" not in response.links


async def test_demo_inbox_pages_through_the_api_without_duplicates():
    server = FakeMastodon.demo(now=NOW)
    async with client_for(server) as client:
        pages, _ = await follow_next(client, "/api/v1/conversations?limit=40")
    seen = [row["id"] for page in pages for row in page]
    assert len(seen) == len(set(seen)) == len(server.conversation_rows())
    assert len(pages) >= 5


# Conversation rules


@pytest.mark.parametrize("flavour", ["mastodon", "gotosocial"])
async def test_unread_follows_who_posted_last(flavour):
    server = FakeMastodon(flavour)
    alice = server.add_account("alice", "Alice")
    first = server.post_status(alice, "lunch?", mentions=[server.me])
    assert server.conversation_rows()[0]["unread"] is True
    server.post_status(server.me, "yes!", mentions=[alice], in_reply_to_id=first["id"])
    mine = server.conversation_rows()
    assert len(mine) == 1
    # Mastodon clears your unread flag when you reply; GoToSocial does not.
    assert mine[0]["unread"] is (flavour == "gotosocial")
    assert server.conversation_rows(alice)[0]["unread"] is True


async def test_mark_read_and_unread():
    server = inbox_with_threads(1)
    row_id = server.conversation_rows()[0]["id"]
    async with client_for(server) as client:
        read = await client.post(f"/api/v1/conversations/{row_id}/read")
        assert read.status_code == 200 and read.json()["unread"] is False
        unread = await client.post(f"/api/v1/conversations/{row_id}/unread")
        assert unread.json()["unread"] is True
    gotosocial = inbox_with_threads(1, "gotosocial")
    async with client_for(gotosocial) as client:
        row_id = gotosocial.conversation_rows()[0]["id"]
        assert (await client.post(f"/api/v1/conversations/{row_id}/unread")).status_code == 404


@pytest.mark.parametrize(
    ("flavour", "message"),
    [("mastodon", "Record not found"), ("gotosocial", "Not Found: conversation not found")],
)
async def test_deleted_row_is_forgotten_and_a_new_message_makes_a_new_row(flavour, message):
    server = FakeMastodon(flavour)
    alice = server.add_account("alice", "Alice")
    first = server.post_status(alice, "one", mentions=[server.me])
    old_id = server.conversation_rows()[0]["id"]
    async with client_for(server) as client:
        deleted = await client.delete(f"/api/v1/conversations/{old_id}")
        assert (deleted.status_code, deleted.json()) == (200, {})
        assert server.conversation_rows() == []
        reply = server.post_status(alice, "two", mentions=[server.me], in_reply_to_id=first["id"])
        rows = server.conversation_rows()
        assert len(rows) == 1 and rows[0]["id"] != old_id
        assert rows[0]["last_status"]["id"] == reply["id"]
        assert server.row(rows[0]["id"]).status_ids == [reply["id"]]
        gone = await client.post(f"/api/v1/conversations/{old_id}/read")
        assert (gone.status_code, gone.json()) == (404, {"error": message})
        again = await client.delete(f"/api/v1/conversations/{old_id}")
        assert again.status_code == 404


async def test_someone_elses_row_is_not_found():
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    bob = server.add_account("bob", "Bob")
    server.post_status(alice, "just for bob", mentions=[bob])
    bobs_row = server.conversation_rows(bob)[0]["id"]
    async with client_for(server) as client:
        response = await client.post(f"/api/v1/conversations/{bobs_row}/read")
    assert response.status_code == 404


def test_delete_status_moves_the_row_down_then_removes_it():
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    bob = server.add_account("bob", "Bob")
    x1 = server.post_status(alice, "x1", mentions=[server.me], created_at=NOW)
    server.post_status(bob, "y1", mentions=[server.me], created_at=NOW + timedelta(minutes=1))
    x2 = server.post_status(
        alice,
        "x2",
        mentions=[server.me],
        in_reply_to_id=x1["id"],
        created_at=NOW + timedelta(minutes=2),
    )
    assert [row["accounts"][0]["acct"] for row in server.conversation_rows()] == ["alice", "bob"]
    server.delete_status(x2["id"])
    rows = server.conversation_rows()
    assert [row["accounts"][0]["acct"] for row in rows] == ["bob", "alice"]
    assert rows[1]["last_status"]["id"] == x1["id"]
    server.delete_status(x1["id"])
    assert [row["accounts"][0]["acct"] for row in server.conversation_rows()] == ["bob"]


def test_rows_are_keyed_by_thread_and_participants():
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    bob = server.add_account("bob", "Bob", domain="example.org")
    start = server.post_status(alice, "group plan", mentions=[server.me, bob])
    server.post_status(server.me, "just you and me", mentions=[alice], in_reply_to_id=start["id"])
    server.post_status(alice, "a new topic", mentions=[server.me])
    rows = server.conversation_rows()
    assert [sorted(a["acct"] for a in row["accounts"]) for row in rows] == [
        ["alice"],
        ["alice"],
        ["alice", "bob@example.org"],
    ]
    note = server.post_status(server.me, "note to self", mentions=[])
    assert server.conversation_rows()[0]["accounts"][0]["id"] == server.me["id"]
    assert note["mentions"] == []


# Statuses


async def test_context_shows_only_what_the_viewer_may_see():
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    bob = server.add_account("bob", "Bob")
    s1 = server.post_status(alice, "s1", mentions=[server.me])
    s2 = server.post_status(server.me, "s2", mentions=[alice], in_reply_to_id=s1["id"])
    s3 = server.post_status(alice, "s3", mentions=[server.me], in_reply_to_id=s2["id"])
    hidden = server.post_status(alice, "for bob", mentions=[bob], in_reply_to_id=s3["id"])
    async with client_for(server) as client:
        context = Context.model_validate(
            (await client.get(f"/api/v1/statuses/{s2['id']}/context")).json()
        )
        assert [s.id for s in context.ancestors] == [s1["id"]]
        assert [s.id for s in context.descendants] == [s3["id"]]
        top = (await client.get(f"/api/v1/statuses/{s1['id']}/context")).json()
        assert [s["id"] for s in top["descendants"]] == [s2["id"], s3["id"]]
        for path in (
            f"/api/v1/statuses/{hidden['id']}/context",
            f"/api/v1/statuses/{hidden['id']}",
            "/api/v1/statuses/123/context",
        ):
            response = await client.get(path)
            assert (response.status_code, response.json()) == (404, {"error": "Record not found"})
        shown = await client.get(f"/api/v1/statuses/{s3['id']}")
        assert Status.model_validate(shown.json()).in_reply_to_id == s2["id"]


async def test_post_status_with_idempotency_key_mentions_and_html():
    server = FakeMastodon()
    alice = server.add_account("alice", "Alice")
    server.add_account("bob", "Bob", domain="example.org")
    form = {
        "status": "@alice @bob@example.org hi <3 https://example.org/x\n\nsecond",
        "visibility": "direct",
    }
    async with client_for(server) as client:
        first = await client.post("/api/v1/statuses", data=form, headers={"Idempotency-Key": "k1"})
        retry = await client.post("/api/v1/statuses", data=form, headers={"Idempotency-Key": "k1"})
        status = Status.model_validate(first.json())
        assert first.status_code == 200 and retry.json()["id"] == status.id
        assert {m.acct for m in status.mentions} == {"alice", "bob@example.org"}
        assert status.content.startswith('<p><span class="h-card" translate="no"><a href=')
        assert "hi &lt;3" in status.content and "</p><p>second</p>" in status.content
        assert '<a href="https://example.org/x" target="_blank"' in status.content
        assert len(server.state.statuses) == 1
        reply = await client.post(
            "/api/v1/statuses",
            json={"status": "@alice thanks", "visibility": "direct", "in_reply_to_id": status.id},
        )
        assert reply.json()["in_reply_to_id"] == status.id
    rows = server.conversation_rows(alice)
    assert [len(row["accounts"]) for row in rows] == [1, 2]


async def test_post_status_errors():
    server = FakeMastodon()
    async with client_for(server) as client:
        blank = await client.post("/api/v1/statuses", data={"status": "  ", "visibility": "direct"})
        assert (blank.status_code, blank.json()) == (
            422,
            {"error": "Validation failed: Text can't be blank"},
        )
        orphan = await client.post(
            "/api/v1/statuses", data={"status": "hi", "in_reply_to_id": "999"}
        )
        assert orphan.status_code == 404
        too_long = await client.post("/api/v1/statuses", data={"status": "x" * 501})
        assert too_long.status_code == 422


# Tokens, scopes and errors


async def test_missing_unknown_and_revoked_tokens_are_401():
    server = FakeMastodon()
    server.add_token("old", {"read", "write"})
    server.revoke_token("old")
    for token, message in (
        (None, "The access token is invalid"),
        ("nope", "The access token is invalid"),
        ("old", "The access token was revoked"),
    ):
        async with client_for(server, token) as client:
            response = await client.get("/api/v1/conversations")
        assert (response.status_code, response.json()) == (401, {"error": message})
        assert response.headers["www-authenticate"] == (
            f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{message}"'
        )


async def test_scopes_are_checked_per_endpoint():
    server = inbox_with_threads(1)
    server.add_token("reader", {"read:statuses"})
    row_id = server.conversation_rows()[0]["id"]
    outside = {"error": "This action is outside the authorized scopes"}
    async with client_for(server, "reader") as client:
        assert (await client.get("/api/v1/conversations")).status_code == 200
        for response in (
            await client.post(f"/api/v1/conversations/{row_id}/read"),
            await client.get("/api/v1/accounts/verify_credentials"),
            await client.post("/api/v1/statuses", data={"status": "hi"}),
        ):
            assert (response.status_code, response.json()) == (403, outside)
    server.add_token("narrow", {"read:accounts", "write:conversations"})
    async with client_for(server, "narrow") as client:
        me = await client.get("/api/v1/accounts/verify_credentials")
        assert Account.model_validate(me.json()).acct == "me"
        assert me.json()["display_name"] == "Me"
        assert (await client.post(f"/api/v1/conversations/{row_id}/read")).status_code == 200


async def test_unknown_route_and_common_headers():
    server = FakeMastodon()
    async with client_for(server) as client:
        missing = await client.get("/api/v1/nothing/here")
        listed = await client.get("/api/v1/conversations")
    assert (missing.status_code, missing.json()) == (404, {"error": "Record not found"})
    for response in (missing, listed):
        assert response.headers["content-type"] == JSON_TYPE
        assert response.headers["x-ratelimit-limit"] == "300"
        assert int(response.headers["x-ratelimit-remaining"]) < 300
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", response.headers["x-ratelimit-reset"]
        )
    assert server.requests[-1].path == "/api/v1/conversations"
    assert server.requests[-1].headers["authorization"] == "Bearer demo-token"
    server.requests.clear()
    assert server.requests == []


async def test_trailing_slash():
    async with client_for(inbox_with_threads(1)) as client:
        assert (await client.get("/api/v1/conversations/")).status_code == 200
    async with client_for(inbox_with_threads(1, "gotosocial")) as client:
        response = await client.get("/api/v1/conversations/?limit=5")
    assert response.status_code == 301
    assert response.headers["location"] == "/api/v1/conversations?limit=5"


# Faults


async def test_rate_limit_fault():
    server = FakeMastodon()
    server.faults.add(Fault(path="/api/v1/conversations", status=429, reset_after=90))
    async with client_for(server) as client:
        limited = await client.get("/api/v1/conversations")
        after = await client.get("/api/v1/conversations")
    assert (limited.status_code, limited.json()) == (429, {"error": "Too many requests"})
    assert limited.headers["x-ratelimit-remaining"] == "0"
    reset = datetime.strptime(limited.headers["x-ratelimit-reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
    wait = reset.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(seconds=80) < wait <= timedelta(seconds=90)
    assert after.status_code == 200


async def test_server_error_faults():
    server = FakeMastodon()
    for status in (500, 503, 502):
        server.faults.add(Fault(method="GET", path=r"/api/v1/conv.*", status=status))
    async with client_for(server) as client:
        crashed = await client.get("/api/v1/conversations")
        busy = await client.get("/api/v1/conversations")
        proxy = await client.get("/api/v1/conversations")
    assert crashed.status_code == 500 and "error" in crashed.json()
    assert busy.json() == {
        "error": "There was a temporary problem serving your request, please try again"
    }
    assert proxy.status_code == 502
    assert proxy.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in proxy.text


async def test_fault_matching_times_and_order():
    server = FakeMastodon()
    server.faults.add(Fault(method="POST", status=503, times=None))
    server.faults.add(Fault(path="/api/v1/conversations", status=500, times=2))
    server.faults.add(Fault(path="/api/v1/conversations", status=502))
    async with client_for(server) as client:
        statuses = [(await client.get("/api/v1/conversations")).status_code for _ in range(4)]
        posts = [
            (await client.post("/api/v1/statuses", data={"status": "x"})).status_code
            for _ in range(2)
        ]
        assert (await client.get("/api/v1/accounts/verify_credentials")).status_code == 200
    assert statuses == [500, 500, 502, 200]
    assert posts == [503, 503]
    server.faults.clear()
    assert len(server.faults) == 0


async def test_delay_and_hold_faults_still_serve_the_real_answer():
    server = inbox_with_threads(1)
    gate = asyncio.Event()
    server.faults.add(Fault(path="/api/v1/conversations", hold=gate))
    server.faults.add(Fault(path="/api/v1/accounts/verify_credentials", delay=0.01))
    async with client_for(server) as client:
        held = asyncio.create_task(client.get("/api/v1/conversations"))
        delayed = await client.get("/api/v1/accounts/verify_credentials")
        assert delayed.status_code == 200
        assert not held.done()
        gate.set()
        response = await held
    assert response.status_code == 200 and len(response.json()) == 1


async def test_held_answer_times_out_like_a_slow_server():
    server = FakeMastodon()
    server.faults.add(Fault(hold=asyncio.Event()))
    async with httpx.AsyncClient(
        transport=server.transport(), base_url=server.base_url, headers=AUTH, timeout=0.01
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/api/v1/conversations")


async def test_drop_fault_carries_out_the_request_but_loses_the_answer():
    server = FakeMastodon()
    server.faults.add(Fault(method="POST", path="/api/v1/statuses", drop=True))
    async with client_for(server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(
                "/api/v1/statuses",
                data={"status": "did it send?"},
                headers={"Idempotency-Key": "once"},
            )
        retry = await client.post(
            "/api/v1/statuses", data={"status": "did it send?"}, headers={"Idempotency-Key": "once"}
        )
    assert retry.status_code == 200
    assert len(server.state.statuses) == 1


async def test_body_size_fault_streams_a_huge_valid_json_body():
    server = inbox_with_threads(1)
    server.faults.add(Fault(path="/api/v1/conversations", body_size=300 * 2**20))
    server.faults.add(Fault(path="/api/v1/conversations", body_size=1000))
    async with client_for(server) as client:
        async with client.stream("GET", "/api/v1/conversations") as response:
            assert response.headers["content-length"] == str(300 * 2**20)
            read = 0
            async for piece in response.aiter_raw():
                assert len(piece) <= 64 * 1024
                read += len(piece)
                if read > 2**20:
                    break  # the rest is never made
        small = await client.get("/api/v1/conversations")
    assert len(small.content) == 1000 and small.json() == []
    assert small.headers["x-ratelimit-limit"] == "300"  # the real answer's headers stay


async def test_gzip_bomb_fault_is_small_on_the_wire_and_huge_inflated():
    server = inbox_with_threads(1)
    server.faults.add(Fault(path="/api/v1/conversations", gzip_bomb=8 * 2**20))
    client = client_for(server)
    async with client, client.stream("GET", "/api/v1/conversations") as response:
        assert response.headers["content-encoding"] == "gzip"
        assert "content-length" not in response.headers
        wire = b"".join([piece async for piece in response.aiter_raw()])
    assert len(wire) < 20 * 1024
    inflated = zlib.decompress(wire, zlib.MAX_WBITS | 16)
    assert len(inflated) == 8 * 2**20 and json.loads(inflated) == []


async def test_drip_fault_sends_the_body_one_byte_at_a_time():
    server = FakeMastodon()
    server.faults.add(Fault(path="/api/v1/conversations", drip=0.001))
    server.faults.add(Fault(path="/api/v1/conversations/9/read", status=404, drip=0.001))
    client = client_for(server)
    async with client, client.stream("GET", "/api/v1/conversations") as response:
        pieces = [piece async for piece in response.aiter_raw()]
        assert response.headers["content-length"] == "2"
    assert pieces == [b"[", b"]"]
    async with client_for(server) as again:
        missing = await again.post("/api/v1/conversations/9/read")
    assert (missing.status_code, missing.json()) == (404, {"error": "Not Found"})


async def test_rate_limit_fault_with_retry_after():
    server = FakeMastodon()
    server.faults.add(Fault(path="/api/v1/conversations", status=429, retry_after=42.2))
    server.faults.add(
        Fault(path="/api/v1/conversations", status=429, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    )
    async with client_for(server) as client:
        seconds = await client.get("/api/v1/conversations")
        date = await client.get("/api/v1/conversations")
    assert (seconds.status_code, seconds.headers["retry-after"]) == (429, "43")
    assert date.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert "x-ratelimit-reset" not in seconds.headers and "x-ratelimit-reset" not in date.headers


async def test_link_faults_replace_extend_or_remove_the_header():
    server = inbox_with_threads(45)
    base = server.base_url
    server.faults.add(Fault(path="/api/v1/conversations", link='<{url}>; rel="next"'))
    server.faults.add(Fault(path="/api/v1/conversations", link_extra='<http://[::1/x>; rel="up"'))
    server.faults.add(Fault(path="/api/v1/conversations", link=""))
    server.faults.add(Fault(path="/api/v1/statuses/.*", link_extra='<{base}/x>; rel="next"'))
    async with client_for(server) as client:
        looped = await client.get("/api/v1/conversations?limit=40")
        extended = await client.get("/api/v1/conversations?limit=40")
        removed = await client.get("/api/v1/conversations?limit=40")
        status_id = looped.json()[0]["last_status"]["id"]
        added = await client.get(f"/api/v1/statuses/{status_id}/context")
    assert looped.headers["link"] == f'<{base}/api/v1/conversations?limit=40>; rel="next"'
    assert extended.headers["link"].endswith(', <http://[::1/x>; rel="up"')
    assert 'rel="next"' in extended.headers["link"] and 'rel="prev"' in extended.headers["link"]
    assert "link" not in removed.headers
    assert added.headers["link"] == f'<{base}/x>; rel="next"'


async def test_loopback_server_streams_chunked_bodies_and_refuses_tls_at_once():
    server = inbox_with_threads(2)
    loopback = await serve(server)
    try:
        server.faults.add(Fault(path="/api/v1/conversations", body_size=5000, content_length=False))
        server.faults.add(Fault(path="/api/v1/conversations", gzip_bomb=2**20))
        async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as client:
            chunked = await client.get("/api/v1/conversations")
            bomb = await client.get("/api/v1/conversations")
            after = await client.get("/api/v1/conversations")
        assert chunked.headers["transfer-encoding"] == "chunked"
        assert len(chunked.content) == 5000 and chunked.json() == []
        assert bomb.headers["content-encoding"] == "gzip" and len(bomb.content) == 2**20
        assert len(after.json()) == 2
        reader, writer = await asyncio.open_connection("127.0.0.1", loopback.port)
        writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 2)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    finally:
        await loopback.close()


# The demo inbox


def _demo_statuses(server: FakeMastodon) -> list[dict]:
    return [server.status(status_id) for status_id in server.state.statuses]


def test_demo_inbox_size_mix_and_determinism():
    server = FakeMastodon.demo(now=NOW)
    rows = [Conversation.model_validate(row) for row in server.conversation_rows()]
    assert 150 <= len(rows) <= 220
    assert 0.15 <= sum(row.unread for row in rows) / len(rows) <= 0.35
    assert {len(row.accounts) for row in rows} >= {1, 2, 3, 4}
    assert rows[0].last_status and NOW - rows[0].last_status.created_at < timedelta(hours=1)
    assert NOW - rows[-1].last_status.created_at > timedelta(days=60)
    threads = [len(server.row(row.id).status_ids) for row in rows]
    assert sum(2 <= length <= 8 for length in threads) > 0.7 * len(threads)
    assert any(status["in_reply_to_id"] for status in _demo_statuses(server))
    again = FakeMastodon.demo(now=NOW)
    assert json.dumps(again.conversation_rows()) == json.dumps(server.conversation_rows())
    other_seed = FakeMastodon.demo(now=NOW, seed=1)
    assert json.dumps(other_seed.conversation_rows()) != json.dumps(server.conversation_rows())


def test_demo_inbox_holds_the_special_messages():
    server = FakeMastodon.demo(now=NOW)
    statuses = [Status.model_validate(s) for s in _demo_statuses(server)]
    contents = "\n".join(status.content for status in statuses)
    assert any(s.spoiler_text and s.sensitive for s in statuses)
    media = [m for s in statuses for m in s.media_attachments]
    assert any(m.type == "image" and m.description for m in media)
    assert any(m.type == "video" for m in media)
    assert any(m.description is None for m in media)
    assert all(m.url and m.url.startswith("https://") for m in media)
    assert any(len(s.content) > 1500 and s.content.count("<p>") >= 3 for s in statuses)
    assert '<a href="https://' in contents and 'class="u-url mention"' in contents
    for sample in ("ありがとう", "مرحبا", "Привет", "Καλημέρα", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇬🇷"):
        assert sample in contents
    for sample in (
        "[@click=app.quit]click me[/]",
        "[/foo]",
        "[bold red]not bold[/]",
        "&#27;]52;c;SGVsbG8=&#7;",
        "\x1b[31m",
        "\u202e",
        "&lt;script&gt;",
    ):
        assert sample in contents
    accounts = {
        a.acct: a
        for row in server.conversation_rows()
        for a in Conversation.model_validate(row).accounts
    }
    assert accounts["mallory@example.net"].display_name == "[b]Mallory[/b]"
    assert accounts["river@other.example"].display_name == ""
    assert any(a.display_name == "" and "@" not in a.acct for a in accounts.values())


def test_demo_gotosocial_uses_ulids_everywhere():
    server = FakeMastodon.demo(flavour="gotosocial", now=NOW)
    rows = server.conversation_rows()
    assert ULID.fullmatch(rows[0]["id"]) and ULID.fullmatch(rows[0]["last_status"]["id"])
    assert ULID.fullmatch(rows[0]["accounts"][0]["id"])
    assert 0.15 <= sum(row["unread"] for row in rows) / len(rows) <= 0.35


def test_json_has_the_fields_of_recorded_mastodon_answers():
    recording = yaml.safe_load((FIXTURES / "entity_test_entity_conversation.yaml").read_text())
    real = json.loads(recording["interactions"][0]["response"]["body"]["string"])
    real_status = next(row["last_status"] for row in real if row["last_status"])
    ours = FakeMastodon.demo(now=NOW).conversation_rows()[0]
    assert set(real[0]) <= set(ours)
    assert set(real_status) <= set(ours["last_status"])
    assert set(real_status["account"]) <= set(ours["last_status"]["account"])
    assert set(real_status["mentions"][0]) <= set(ours["last_status"]["mentions"][0])


# Over a real socket


async def test_loopback_server_speaks_http_with_keep_alive():
    server = FakeMastodon.demo(now=NOW)
    loopback = await serve(server, port=0)
    try:
        assert loopback.port > 0 and server.base_url == f"http://127.0.0.1:{loopback.port}"
        async with httpx.AsyncClient(base_url=server.base_url, headers=AUTH) as client:
            first = await client.get("/api/v1/conversations?limit=40")
            assert first.status_code == 200 and len(first.json()) == 40
            assert first.links["next"]["url"].startswith(server.base_url)
            second = await client.get(first.links["next"]["url"])
            assert second.status_code == 200
            assert not {r["id"] for r in first.json()} & {r["id"] for r in second.json()}
            posted = await client.post(
                "/api/v1/statuses", data={"status": "@alice over the wire", "visibility": "direct"}
            )
            assert posted.json()["mentions"][0]["acct"] == "alice"
            assert f'href="{server.base_url}/@alice"' in posted.json()["content"]
            assert f'href="{server.base_url}/@' in first.json()[0]["last_status"]["content"]
            server.faults.add(Fault(drop=True))
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/api/v1/conversations")
            assert (await client.get("/api/v1/conversations?limit=1")).status_code == 200
    finally:
        await loopback.close()


def test_command_line_serves_the_demo_until_interrupted():
    command = [sys.executable, "-m", "dminbox.fake", "--port", "0", "--gotosocial"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url_line, token_line = process.stdout.readline(), process.stdout.readline()
        assert re.fullmatch(r"Fake gotosocial instance: http://127\.0\.0\.1:\d+\n", url_line)
        assert token_line.split() == ["Access", "token:", "demo-token"]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Stopped." in out and "Traceback" not in err
