"""What the composer needs from the fake server, as docs/mastodon.md says real servers do it:
the instance's limits (v2, and v1 before Mastodon 4.0), how a status's length is counted,
finding accounts by name (lookup, search, resolve), and a post whose answer is lost."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from dminbox.fake import FakeMastodon, Fault
from dminbox.fake.counting import gotosocial_length, mastodon_length
from dminbox.models import Account, Status

RECORDING = Path(__file__).parent / "fixtures" / "mastodon" / "test_stream_direct.yaml"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one grapheme, 7 code points
FLAG = "\U0001f1eb\U0001f1f7"  # one grapheme, 2 code points
LONG_URL = "https://example.org/" + "a" * 80


def client_for(server: FakeMastodon, token: str | None = "demo-token") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=server.transport(), base_url=server.base_url, headers=headers
    )


def recorded(path: str) -> dict:
    """The body of the recorded real answer to GET `path`."""
    interactions = yaml.safe_load(RECORDING.read_text())["interactions"]
    match = next(i for i in interactions if i["request"]["uri"].endswith(path))
    return json.loads(match["response"]["body"]["string"])


async def post(client: httpx.AsyncClient, text: str, **form: str) -> httpx.Response:
    return await client.post(
        "/api/v1/statuses", data={"status": text, "visibility": "direct", **form}
    )


# The instance: v2, v1, and the limit


@pytest.mark.parametrize(
    ("flavour", "limit", "per_url"), [("mastodon", 500, 23), ("gotosocial", 5000, 25)]
)
async def test_instance_v2_and_v1_have_their_own_shapes(flavour, limit, per_url):
    server = FakeMastodon(flavour)
    async with client_for(server, None) as client:
        v2 = (await client.get("/api/v2/instance")).json()
        v1_answer = await client.get("/api/v1/instance")
        v1 = v1_answer.json()
    assert ("deprecation" in v1_answer.headers) == (flavour == "mastodon")
    statuses = {"max_characters": limit, "characters_reserved_per_url": per_url}
    assert v2["domain"] == "fake.dminbox.invalid" and "uri" not in v2
    assert v2["configuration"]["urls"]["streaming"] == "wss://fake.dminbox.invalid"
    assert statuses.items() <= v2["configuration"]["statuses"].items()
    assert v1["uri"] == "fake.dminbox.invalid" and "domain" not in v1
    assert v1["urls"] == {"streaming_api": "wss://fake.dminbox.invalid"}
    assert statuses.items() <= v1["configuration"]["statuses"].items()
    assert v1["version"] == v2["version"] and v1["title"] == v2["title"]
    assert ("max_toot_chars" in v1) == (flavour == "gotosocial")


async def test_instance_fields_are_named_as_in_a_recorded_mastodon():
    async with client_for(FakeMastodon()) as client:
        for path in ("/api/v2/instance", "/api/v1/instance"):
            ours = (await client.get(path)).json()
            real = recorded(path + "/")
            assert set(ours) <= set(real), path
            ours_statuses = ours["configuration"]["statuses"]
            assert set(ours_statuses) == set(real["configuration"]["statuses"]), path
            assert set(ours.get("urls", {})) <= set(real.get("urls", {})), path
            urls = ours["configuration"].get("urls", {})
            assert set(urls) <= set(real["configuration"].get("urls", {})), path


async def test_streaming_url_follows_the_base_url():
    server = FakeMastodon(base_url="http://127.0.0.1:8080")
    async with client_for(server) as client:
        v2 = (await client.get("/api/v2/instance")).json()
        v1 = (await client.get("/api/v1/instance")).json()
    assert v2["domain"] == v1["uri"] == "127.0.0.1:8080"
    assert v2["configuration"]["urls"]["streaming"] == "ws://127.0.0.1:8080"
    assert v1["urls"]["streaming_api"] == "ws://127.0.0.1:8080"


async def test_a_server_without_v2_instance_still_answers_v1():
    server = FakeMastodon(instance_v2=False, max_characters=1000)
    async with client_for(server) as client:
        v2 = await client.get("/api/v2/instance")
        v1 = await client.get("/api/v1/instance")
    assert (v2.status_code, v2.json()) == (404, {"error": "Record not found"})
    assert v1.status_code == 200
    assert v1.json()["version"].startswith("3.")
    assert v1.json()["configuration"]["statuses"]["max_characters"] == 1000
    server.instance_v2 = True
    async with client_for(server) as client:
        assert (await client.get("/api/v2/instance")).json()["version"].startswith("4.")


@pytest.mark.parametrize("flavour", ["mastodon", "gotosocial"])
async def test_the_limit_the_instance_reports_is_the_one_posting_enforces(flavour):
    server = FakeMastodon(flavour, max_characters=10)
    async with client_for(server) as client:
        reported = (await client.get("/api/v2/instance")).json()
        assert reported["configuration"]["statuses"]["max_characters"] == 10
        assert (await post(client, "x" * 10)).status_code == 200
        too_long = await post(client, "x" * 11)
        server.max_characters = 11
        assert (await post(client, "x" * 11)).status_code == 200
        v1 = (await client.get("/api/v1/instance")).json()
    assert v1["configuration"]["statuses"]["max_characters"] == 11
    if flavour == "mastodon":
        assert (too_long.status_code, too_long.json()) == (
            422,
            {"error": "Validation failed: Text character limit of 10 exceeded"},
        )
    else:
        assert (too_long.status_code, too_long.json()) == (
            400,
            {
                "error": "Bad Request: status too long, 11 characters provided "
                "(including spoiler/content warning) but limit is 10"
            },
        )
    assert len(server.state.statuses) == 2


def test_default_limits_per_flavour():
    assert FakeMastodon().max_characters == 500
    assert FakeMastodon("gotosocial").max_characters == 5000


# Counting as the server does


def test_mastodon_counts_grapheme_clusters_links_mentions_and_the_warning():
    assert mastodon_length(FAMILY) == 1
    assert mastodon_length(FLAG + "e\u0301") == 2
    assert mastodon_length("a\r\nb") == 3  # CR LF is one cluster
    assert mastodon_length(LONG_URL) == 23
    assert mastodon_length("see http://x.org/a and https://y.org/b") == 4 + 23 + 5 + 23
    assert mastodon_length(LONG_URL, url_weight=10) == 10
    assert mastodon_length("@bob@remote.example hi") == len("@bob hi")
    assert mastodon_length("@alice #tag") == len("@alice #tag")
    assert mastodon_length("body", "cw") == 6
    assert mastodon_length("mail bob@remote.example") == len("mail bob@remote.example")


def test_gotosocial_counts_code_points_of_everything():
    assert gotosocial_length(FAMILY) == 7
    assert gotosocial_length(FLAG) == 2
    assert gotosocial_length(LONG_URL) == len(LONG_URL)
    assert gotosocial_length("@bob@remote.example") == 19
    assert gotosocial_length("body", "cw") == 6


async def test_mastodon_posting_counts_its_way():
    server = FakeMastodon(max_characters=30)
    server.add_account("bob", "Bob", domain="a-rather-long-domain-name.example")
    async with client_for(server) as client:
        emoji = await post(client, FAMILY * 30)
        link = await post(client, f"{LONG_URL} ok")  # 23 + 3
        mention = await post(client, "@bob@a-rather-long-domain-name.example hi")  # 7
        warned = await post(client, "x" * 20, spoiler_text="y" * 11)
        warned_ok = await post(client, "x" * 20, spoiler_text="y" * 10)
        emoji_over = await post(client, FAMILY * 31)
    assert [r.status_code for r in (emoji, link, mention, warned_ok)] == [200] * 4
    assert warned.status_code == emoji_over.status_code == 422
    assert Status.model_validate(mention.json()).mentions[0].acct.startswith("bob@")


async def test_gotosocial_posting_counts_code_points():
    server = FakeMastodon("gotosocial", max_characters=30)
    async with client_for(server) as client:
        emoji = await post(client, FAMILY * 5)  # 35 code points
        link = await post(client, LONG_URL)
        fits = await post(client, FAMILY * 4)  # 28
    assert emoji.status_code == link.status_code == 400
    assert "35 characters provided" in emoji.json()["error"]
    assert fits.status_code == 200


# Finding accounts: lookup


def people(flavour: str = "mastodon") -> FakeMastodon:
    server = FakeMastodon(flavour)
    server.add_account("alice", "Alice Liddell")
    server.add_account("alina", "Alina")
    server.add_account("bob", "Bob Remote", domain="remote.example")
    server.add_account("Zed", "Someone Else")
    server.add_remote_account("carol@far.example", "Carol Faraway")
    return server


async def test_lookup_finds_known_accounts_by_acct():
    server = people()
    async with client_for(server) as client:
        for acct, expected in (
            ("alice", "alice"),
            ("@alice", "alice"),
            ("ALICE", "alice"),
            ("alice@fake.dminbox.invalid", "alice"),
            ("bob@remote.example", "bob@remote.example"),
            ("bob@REMOTE.example", "bob@remote.example"),
        ):
            response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
            assert response.status_code == 200, acct
            account = Account.model_validate(response.json())
            assert account.acct == expected
            assert response.json() == server.account(account.id)
        for acct in ("nobody", "bob", "alice@elsewhere.example", "carol@far.example", ""):
            response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
            assert (response.status_code, response.json()) == (
                404,
                {"error": "Record not found"},
            ), acct


async def test_lookup_scopes_on_mastodon():
    server = people()
    server.add_token("accounts", {"read:accounts"})
    server.add_token("statuses", {"read:statuses"})
    server.add_token("gone", {"read"})
    server.revoke_token("gone")
    expected = {None: 200, "unknown-token": 200, "accounts": 200, "statuses": 403, "gone": 401}
    for token, status in expected.items():
        async with client_for(server, token) as client:
            response = await client.get("/api/v1/accounts/lookup?acct=alice")
        assert response.status_code == status, token


async def test_gotosocial_lookup_wants_a_token_and_says_what_was_not_found():
    server = people("gotosocial")
    async with client_for(server, None) as client:
        assert (await client.get("/api/v1/accounts/lookup?acct=alice")).status_code == 401
    async with client_for(server) as client:
        found = await client.get("/api/v1/accounts/lookup?acct=bob@remote.example")
        missing = await client.get("/api/v1/accounts/lookup?acct=carol@far.example")
        no_acct = await client.get("/api/v1/accounts/lookup")
    assert found.json()["acct"] == "bob@remote.example"
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "Not Found: @carol@far.example not found"},
    )
    assert no_acct.status_code == 400


# Finding accounts: search and resolve


async def search(client: httpx.AsyncClient, q: str, **params: str) -> httpx.Response:
    return await client.get("/api/v2/search", params={"q": q, "type": "accounts", **params})


def accts(response: httpx.Response) -> list[str]:
    return [account["acct"] for account in response.json()["accounts"]]


async def test_search_matches_name_prefixes_case_insensitively():
    server = people()
    async with client_for(server) as client:
        ali = await search(client, "ALI", resolve="true", limit="5")
        at_ali = await search(client, "@ali")
        remote = await search(client, "bob@rem")
        by_name = await search(client, "lidd")
        zed = await search(client, "zed")
        limited = await search(client, "al", limit="1")
        nothing = await search(client, "lice")
    assert ali.json().keys() == {"accounts", "statuses", "hashtags"}
    assert ali.json()["statuses"] == ali.json()["hashtags"] == []
    assert accts(ali) == accts(at_ali) == ["alice", "alina"]
    assert accts(remote) == ["bob@remote.example"]
    assert accts(by_name) == ["alice"]
    assert accts(zed) == ["Zed"]
    assert accts(limited) == ["alice"]
    assert accts(nothing) == []
    assert ali.json()["accounts"][0] == server.account(ali.json()["accounts"][0]["id"])


async def test_search_with_resolve_fetches_a_remote_account_once_named_exactly():
    server = people()
    carol_id = next(iter(server.state.remote_only))
    async with client_for(server) as client:
        unresolved = await search(client, "carol@far.example")
        partial = await search(client, "carol@far", resolve="true")
        lookup_before = await client.get("/api/v1/accounts/lookup?acct=carol@far.example")
        resolved = await search(client, "@carol@far.example", resolve="true")
        lookup_after = await client.get("/api/v1/accounts/lookup?acct=carol@far.example")
        plain_after = await search(client, "carol")
        nobody = await search(client, "dave@far.example", resolve="true")
    assert accts(unresolved) == accts(partial) == [] and lookup_before.status_code == 404
    assert accts(resolved) == ["carol@far.example"]
    assert resolved.json()["accounts"][0]["id"] == carol_id
    assert resolved.json()["accounts"][0]["display_name"] == "Carol Faraway"
    assert lookup_after.status_code == 200 and lookup_after.json()["id"] == carol_id
    assert accts(plain_after) == ["carol@far.example"]
    assert accts(nobody) == []
    assert carol_id in server.state.accounts and not server.state.remote_only


async def test_search_exact_match_comes_first_and_local_domain_is_local():
    server = people()
    server.add_account("al", "Al")
    async with client_for(server) as client:
        exact = await search(client, "al@fake.dminbox.invalid")
        prefix = await search(client, "al")
    assert accts(exact) == ["al"]
    assert set(accts(prefix)) == {"al", "alice", "alina"}


async def test_search_tokens_and_scopes_on_mastodon():
    server = people()
    server.add_token("search", {"read:search"})
    server.add_token("accounts", {"read:accounts"})
    async with client_for(server, None) as client:
        anonymous = await search(client, "ali")
        anonymous_resolve = await search(client, "carol@far.example", resolve="true")
        anonymous_offset = await search(client, "ali", offset="1")
    async with client_for(server, "search") as client:
        narrow = await search(client, "ali", resolve="true")
        missing_q = await client.get("/api/v2/search")
    async with client_for(server, "accounts") as client:
        wrong_scope = await search(client, "ali")
    assert accts(anonymous) == ["alice", "alina"]
    assert (anonymous_resolve.status_code, anonymous_resolve.json()) == (
        401,
        {
            "error": "Search queries that resolve remote resources are not supported "
            "without authentication"
        },
    )
    assert anonymous_offset.status_code == 401
    assert server.state.remote_only  # the refused search fetched nobody
    assert accts(narrow) == ["alice", "alina"]
    assert missing_q.status_code == 400
    assert wrong_scope.status_code == 403


async def test_gotosocial_search():
    server = people("gotosocial")
    async with client_for(server, None) as client:
        assert (await search(client, "ali")).status_code == 401
    async with client_for(server) as client:
        text = await search(client, "lice")  # GoToSocial matches anywhere in the names
        username = await search(client, "@ali")
        unresolved = await search(client, "carol@far.example")
        resolved = await search(client, "carol@far.example", resolve="true")
        bad_limit = await search(client, "ali", limit="many")
        clamped = await search(client, "ali", limit="500")
    assert accts(text) == ["alice"]
    assert set(accts(username)) == {"alice", "alina"}
    assert accts(unresolved) == [] and accts(resolved) == ["carol@far.example"]
    assert bad_limit.status_code == 400
    assert clamped.status_code == 200


async def test_a_post_that_mentions_an_unfetched_account_fetches_it():
    server = people()
    async with client_for(server) as client:
        sent = await post(client, "@carol@far.example hello")
    status = Status.model_validate(sent.json())
    assert [m.acct for m in status.mentions] == ["carol@far.example"]
    assert not server.state.remote_only
    assert server.conversation_rows()[0]["accounts"][0]["acct"] == "carol@far.example"


def test_remote_accounts_must_be_remote_and_new():
    server = people()
    for acct in ("carol@far.example", "bob@remote.example", "me@fake.dminbox.invalid", "dave"):
        with pytest.raises(ValueError):
            server.add_remote_account(acct)
    with pytest.raises(ValueError):
        server.add_account("carol", domain="far.example")
    dave = server.add_remote_account("@dave@far.example", "Dave")
    assert dave["acct"] == "dave@far.example" and dave["id"] not in server.state.accounts


# A post whose answer is lost


async def test_a_dropped_post_happened_and_a_retry_with_its_key_returns_it():
    server = FakeMastodon()
    friend = server.add_account("friend", "Friend")
    server.faults.add(Fault(method="POST", path="/api/v1/statuses", drop=True))
    form = {"status": "@friend did it send?", "visibility": "direct"}
    key = {"Idempotency-Key": "8d2f0c1e-retry"}
    async with client_for(server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/api/v1/statuses", data=form, headers=key)
        assert len(server.state.statuses) == 1  # posted, though the answer was lost
        (posted_id,) = server.state.statuses
        retry = await client.post("/api/v1/statuses", data=form, headers=key)
        assert retry.status_code == 200 and retry.json()["id"] == posted_id
        assert list(server.state.statuses) == [posted_id]
        assert len(server.conversation_rows(friend)) == 1
        other_key = await client.post(
            "/api/v1/statuses", data=form, headers={"Idempotency-Key": "another"}
        )
    assert other_key.json()["id"] != posted_id  # a new key is a new status
    assert [r.method for r in server.requests].count("POST") == 3
