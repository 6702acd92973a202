"""dminbox.compose: who a direct message reaches, and how long the server finds it."""

from __future__ import annotations

import string
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dminbox.compose import (
    DEFAULT_MAX_CHARACTERS,
    DEFAULT_URL_WEIGHT,
    Limits,
    SendWarning,
    check,
    full_acct,
    mentioned,
    over_limit,
    participants_of,
    prefill,
    recipients_line,
    weighted_length,
)
from dminbox.models import Account

HOST = "mastodon.example"
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # 👩‍👩‍👧, three people joined by ZWJ
JAPAN = "\U0001f1ef\U0001f1f5"  # regional indicators J P
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
THUMB = "\U0001f44d\U0001f3fd"  # thumbs up, medium skin tone
E_ACUTE = "e\u0301"  # e and a combining acute accent
LONG_URL = "https://example.org/a/very/long/path/that/goes/on?and=on&and=on#for-a-while"


def me() -> Account:
    return Account(id="1", username="me", acct="me")


def account(id: str, acct: str) -> Account:
    return Account(id=id, username=acct.partition("@")[0], acct=acct)


# The module stays a core module


def test_imports_no_ui_no_network_no_fake() -> None:
    code = (
        "import sys, dminbox.compose\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'httpx')"
        " or m.startswith('dminbox.fake'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# weighted_length: Mastodon's counting


def test_plain_text_counts_its_characters() -> None:
    assert weighted_length("hello") == 5
    assert weighted_length("") == 0


def test_a_long_url_counts_23() -> None:
    assert len(LONG_URL) > 23
    assert weighted_length(LONG_URL) == DEFAULT_URL_WEIGHT
    assert weighted_length(f"see {LONG_URL} now") == 4 + 23 + 4


def test_a_short_url_counts_23_too() -> None:
    assert weighted_length("http://a.io") == 23
    assert weighted_length("HTTPS://a.io") == 23


def test_each_url_counts() -> None:
    assert weighted_length(f"{LONG_URL} {LONG_URL}") == 23 + 1 + 23


def test_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert weighted_length(f"({LONG_URL}).") == 1 + 23 + 2
    assert weighted_length("https://en.wikipedia.org/wiki/Foo_(bar)") == 23


def test_not_a_url_counts_as_written() -> None:
    assert weighted_length("ftp://example.org/file") == len("ftp://example.org/file")
    assert weighted_length("https://") == 8
    assert weighted_length("xhttps://example.org") == len("xhttps://example.org")


def test_a_custom_url_weight() -> None:
    limits = Limits(max_characters=500, characters_reserved_per_url=5)
    assert weighted_length(f"a {LONG_URL}", limits=limits) == 2 + 5


def test_a_remote_mention_counts_by_its_local_part() -> None:
    assert weighted_length("@alice@a.very.long.domain.example") == len("@alice")
    assert weighted_length("@alice hi") == len("@alice hi")
    assert weighted_length("hi @bob@x.org, and @carol@y.org.") == len("hi @bob, and @carol.")


def test_not_mentions_count_at_full_length() -> None:
    # an e-mail address, and mentions the length check does not take: an accent or
    # another @ after it, a domain longer than DNS allows
    assert weighted_length("mail foo@bar.example") == len("mail foo@bar.example")
    assert weighted_length("@noël@x.org") == len("@noël@x.org")
    assert weighted_length("@a@b.org@c.org") == len("@a@b.org@c.org")
    too_long = "@bob@" + "d" * 250 + ".org"
    assert weighted_length(too_long) == len(too_long)


def test_a_mention_inside_a_url_counts_with_the_url() -> None:
    assert weighted_length("https://x.org/@alice@elsewhere.example") == 23
    assert weighted_length("https://x.org/?u=@alice@elsewhere.example") == 23
    assert weighted_length("https://x.org/~@alice@elsewhere.example") == 23


@pytest.mark.parametrize("cluster", [FAMILY, JAPAN, SCOTLAND, THUMB, E_ACUTE, "\u1100\u1161\u11a8"])
def test_a_grapheme_cluster_counts_one(cluster: str) -> None:
    assert len(cluster) > 1
    assert weighted_length(cluster) == 1
    assert weighted_length(f"a{cluster}b") == 3


def test_a_line_break_counts_one() -> None:
    assert weighted_length("a\r\nb") == 3
    assert weighted_length("a\nb") == 3


def test_the_content_warning_counts_with_the_text() -> None:
    assert weighted_length("hello", "cw") == 7
    assert weighted_length("", "spoiler") == 7
    assert weighted_length(LONG_URL, FAMILY) == 1 + 23


def test_the_content_warning_counts_as_written() -> None:
    # Mastodon gives no URL or mention concession in the content warning
    assert weighted_length("x", LONG_URL) == 1 + len(LONG_URL)
    assert weighted_length("x", "@bob@x.org") == 1 + len("@bob@x.org")


def test_a_blank_text_counts_nothing() -> None:
    assert weighted_length("   \n ") == 0
    assert weighted_length("  ", "cw") == 2


@given(st.text(), st.text())
def test_weighted_length_never_raises(text: str, spoiler: str) -> None:
    assert weighted_length(text, spoiler) >= 0


ENTITY_ALPHABET = st.sampled_from(list("@:/.-_=aAbé()?# \n") + ["https://", "http://", "\u0301"])


@given(st.lists(ENTITY_ALPHABET).map("".join), st.text(max_size=5))
def test_weighted_length_never_raises_on_near_entities(text: str, spoiler: str) -> None:
    assert weighted_length(text, spoiler) >= 0
    assert weighted_length(text, spoiler, limits=Limits(characters_reserved_per_url=1)) >= 0


@given(st.text(st.characters(exclude_characters="@:")), st.text())
def test_without_urls_or_mentions_the_length_is_the_graphemes(text: str, spoiler: str) -> None:
    import regex

    expected = len(regex.findall(r"\X", spoiler + ("" if text.isspace() else text)))
    assert weighted_length(text, spoiler) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "@" + "a." * 50_000,
        "@a" * 50_000,
        "@a@" + "b-" * 50_000,
        "https://" + ")" * 100_000,
        "https://a" + "." * 100_000,
        ("https://a " * 20_000),
        "@" + "a" * 100_000 + "@" + "b" * 100_000 + "é",
    ],
    ids=lambda hostile: repr(hostile[:12]),
)
def test_linear_on_hostile_input(hostile: str) -> None:
    started = time.perf_counter()
    weighted_length(hostile)
    mentioned(hostile)
    assert time.perf_counter() - started < 2.0


# over_limit


def test_over_limit() -> None:
    limits = Limits(max_characters=10)
    assert over_limit("x" * 10, "", limits) is None
    assert over_limit("x" * 11, "", limits) == "1 character over the limit of 10."
    assert over_limit("x" * 8, "cw cw", limits) == "3 characters over the limit of 10."
    assert over_limit("x" * 912, "", Limits()) == "412 characters over the limit of 500."


def test_over_limit_counts_urls_by_weight() -> None:
    assert over_limit(LONG_URL, "", Limits(max_characters=23)) is None
    assert over_limit(f"{LONG_URL}!", "", Limits(max_characters=23)) == (
        "1 character over the limit of 23."
    )


# mentioned


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@a @b@x.org", ["a", "b@x.org"]),
        ("hi @alice, and @bob.", ["alice", "bob"]),
        ("(@alice) @bob! @carol? @dave: @eve;", ["alice", "bob", "carol", "dave", "eve"]),
        ("@alice@x.org. Thanks", ["alice@x.org"]),
        ("@a.b-c_d hi", ["a.b-c_d"]),
        ("@trailing. @dot- @dash_", ["trailing", "dot", "dash_"]),
        ("@Alice @alice @ALICE", ["Alice"]),
        ("@Bob@X.org @bob@x.ORG", ["Bob@X.org"]),
        ("@bob @bob@x.org", ["bob", "bob@x.org"]),  # a spelling each: full_acct tells
        ("mail foo@bar.com", []),
        ("mail foo@bar.com or @baz", ["baz"]),
        ("https://x.org/@alice", []),
        ("https://x.org/@alice@y.org", []),
        ("https://x.org/users?u=@alice", []),
        ("https://x.org/~@alice", ["alice"]),  # the server scans URLs too: it is one
        ("@", []),
        ("@ alice", []),
        ("@.alice", []),
        ("@@alice", ["alice"]),  # as on the server: "@" is no word character
        ("\n@alice\n@bob", ["alice", "bob"]),
        ("«@alice»", ["alice"]),
        ("@ünïcode", []),
        ("@alice@bücher.example", ["alice@bücher.example"]),
        ("", []),
    ],
)
def test_mentioned(text: str, expected: list[str]) -> None:
    assert mentioned(text) == expected


@given(st.text())
def test_mentioned_never_raises(text: str) -> None:
    found = mentioned(text)
    assert len({acct.lower() for acct in found}) == len(found)
    assert all(f"@{acct}" in text for acct in found)


# full_acct


@pytest.mark.parametrize(
    ("acct", "expected"),
    [
        ("bob", f"bob@{HOST}"),
        ("@bob", f"bob@{HOST}"),
        ("Bob", f"bob@{HOST}"),
        ("bob@Other.Example", "bob@other.example"),
        ("@Bob@other.example", "bob@other.example"),
        (f"bob@{HOST.upper()}", f"bob@{HOST}"),
        ("bob@bücher.example", "bob@xn--bcher-kva.example"),
    ],
)
def test_full_acct(acct: str, expected: str) -> None:
    assert full_acct(acct, HOST) == expected


# participants_of and prefill


def test_participants_leave_the_user_out() -> None:
    alice, bob = account("2", "alice@x.org"), account("3", "bob")
    assert participants_of([alice, me(), bob], "1") == [alice, bob]
    assert participants_of([alice, bob], "1") == [alice, bob]


def test_a_note_to_yourself_has_no_participants() -> None:
    assert participants_of([me()], "1") == []
    assert prefill([me()], "1") == ""
    assert prefill([], "1") == ""


def test_prefill() -> None:
    accounts = [account("2", "a@host"), me(), account("3", "b")]
    assert prefill(accounts, "1") == "@a@host @b "


def test_prefill_without_knowing_the_user_mentions_everyone() -> None:
    assert prefill([account("2", "a"), me()], None) == "@a @me "


def test_prefill_falls_back_to_the_username() -> None:
    assert prefill([Account(id="2", username="ann"), Account(id="3")], "1") == "@ann "


# recipients_line


def test_recipients_line() -> None:
    assert recipients_line("@a@host @b hi", HOST) == "@a@host, @b"
    assert recipients_line("hi", HOST) == ""
    assert recipients_line(f"@b @B@{HOST} @c", HOST) == "@b, @c"


# check


def test_a_reply_to_exactly_the_participants_is_fine() -> None:
    assert check("@alice@x.org @bob hi", ["alice@x.org", "bob"], HOST) is None
    assert check("@bob hi @alice@x.org", ["alice@x.org", "bob"], HOST) is None


def test_the_match_ignores_case() -> None:
    assert check("@Alice@X.org @BOB hi", ["alice@x.org", "bob"], HOST) is None


def test_a_local_user_may_be_spelled_with_the_host() -> None:
    assert check(f"@bob@{HOST} hi", ["bob"], HOST) is None
    assert check("@bob hi", [f"bob@{HOST}"], HOST) is None


def test_someone_added_forks() -> None:
    warning = check("@b @c hi", ["b"], HOST)
    assert warning == SendWarning("fork", "This starts a new conversation: @c added.")


def test_someone_left_out_forks() -> None:
    warning = check("@b hi", ["b", "c@x.org"], HOST)
    assert warning == SendWarning("fork", "This starts a new conversation: @c@x.org left out.")


def test_added_and_left_out() -> None:
    warning = check("@a @c hi", ["a", "b"], HOST)
    assert warning == SendWarning("fork", "This starts a new conversation: @c added, @b left out.")


def test_several_added_and_left_out() -> None:
    warning = check("@d @e@y.org", ["b", "c@x.org"], HOST)
    assert warning is not None and warning.kind == "fork"
    assert warning.text == (
        "This starts a new conversation: @d, @e@y.org added, @b, @c@x.org left out."
    )
    assert "\n" not in warning.text


def test_the_same_user_on_another_server_is_someone_else() -> None:
    warning = check("@bob@other.example", ["bob"], HOST)
    assert warning is not None and warning.kind == "fork"
    assert "@bob@other.example added" in warning.text
    assert "@bob left out" in warning.text


def test_nobody_mentioned() -> None:
    nobody = SendWarning("nobody", "Nobody is mentioned: the message would reach no one but you.")
    assert check("hi there", ["bob"], HOST) == nobody
    assert check("hi there", [], HOST) == nobody
    assert check("write to foo@bar.com", [], HOST) == nobody


def test_a_new_dm_only_needs_someone() -> None:
    assert check("@anyone hi", [], HOST) is None
    assert check("@a @b@x.org hi", [], HOST) is None


# Properties: what prefill writes is what check and mentioned expect

NAME_PART = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=8)
LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)


def joined(part: st.SearchStrategy[str], separators: str, min_more: int) -> st.SearchStrategy[str]:
    """Parts joined by one of the separators: "a.b-c"."""
    more = st.lists(st.tuples(st.sampled_from(separators), part), min_size=min_more, max_size=3)
    return st.builds(lambda first, rest: first + "".join(s + p for s, p in rest), part, more)


USERNAME = joined(NAME_PART, ".-", 0)  # Mastodon's [a-z0-9_]+([.-]+[a-z0-9_]+)*
DOMAIN = joined(LABEL, ".", 1)
ACCT = st.one_of(USERNAME, st.builds(lambda user, host: f"{user}@{host}", USERNAME, DOMAIN))
ACCTS = st.lists(ACCT, max_size=6, unique_by=str.lower)


def conversation(accts: list[str], with_me: bool) -> list[Account]:
    accounts = [account(str(index + 2), acct) for index, acct in enumerate(accts)]
    return [me(), *accounts] if with_me else accounts


@given(ACCTS, st.booleans())
def test_prefill_never_warns(accts: list[str], with_me: bool) -> None:
    accounts = conversation(accts, with_me)
    participants = [a.acct for a in participants_of(accounts, "1")]
    warning = check(prefill(accounts, "1") + "hi", participants, HOST)
    if participants:
        assert warning is None
    else:
        assert warning is not None and warning.kind == "nobody"


@given(ACCTS, st.booleans())
def test_mentioned_reads_back_the_prefill(accts: list[str], with_me: bool) -> None:
    accounts = conversation(accts, with_me)
    assert mentioned(prefill(accounts, "1")) == accts
    assert mentioned(prefill(accounts, "1") + "and some text.") == accts


@given(ACCTS)
def test_prefill_counts_as_the_local_parts(accts: list[str]) -> None:
    text = prefill(conversation(accts, True), "1")
    assert weighted_length(text) == sum(len(acct.partition("@")[0]) + 2 for acct in accts)


# Limits


def test_default_limits() -> None:
    assert Limits() == Limits(DEFAULT_MAX_CHARACTERS, DEFAULT_URL_WEIGHT) == Limits(500, 23)


def test_limits_from_v2_instance() -> None:
    data = {
        "domain": "mastodon.social",
        "configuration": {
            "urls": {"streaming": "wss://mastodon.social"},
            "statuses": {
                "max_characters": 1000,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 30,
            },
        },
    }
    assert Limits.from_instance(data) == Limits(1000, 30)


def test_limits_from_gotosocial() -> None:
    data = {"configuration": {"statuses": {"max_characters": 5000}}}
    assert Limits.from_instance(data) == Limits(5000, DEFAULT_URL_WEIGHT)


def test_limits_from_v1_instance() -> None:
    data = {
        "uri": "mastodon.example",
        "configuration": {"statuses": {"max_characters": 500, "characters_reserved_per_url": 23}},
    }
    assert Limits.from_instance(data) == Limits(500, 23)


def test_limits_from_pleroma() -> None:
    assert Limits.from_instance({"uri": "https://pl.example", "max_toot_chars": 5000}) == Limits(
        5000, DEFAULT_URL_WEIGHT
    )


def test_configuration_wins_over_max_toot_chars() -> None:
    data = {"max_toot_chars": 5000, "configuration": {"statuses": {"max_characters": 8000}}}
    assert Limits.from_instance(data).max_characters == 8000
    data = {"max_toot_chars": 5000, "configuration": {"statuses": {"max_characters": "x"}}}
    assert Limits.from_instance(data).max_characters == 5000


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "configuration",
        [],
        {},
        {"configuration": None},
        {"configuration": []},
        {"configuration": {"statuses": "many"}},
        {"configuration": {"statuses": {"max_characters": "500"}}},
        {"configuration": {"statuses": {"max_characters": 500.0}}},
        {"configuration": {"statuses": {"max_characters": True}}},
        {"configuration": {"statuses": {"max_characters": 0}}},
        {"configuration": {"statuses": {"max_characters": -5}}},
        {"configuration": {"statuses": {"characters_reserved_per_url": False}}},
        {"configuration": {"statuses": {"characters_reserved_per_url": 0}}},
        {"max_toot_chars": None},
        {"max_toot_chars": True},
    ],
)
def test_limits_from_garbage_are_the_defaults(data: object) -> None:
    assert Limits.from_instance(data) == Limits()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children)
        | st.dictionaries(
            st.sampled_from(
                [
                    "configuration",
                    "statuses",
                    "max_characters",
                    "characters_reserved_per_url",
                    "max_toot_chars",
                ]
            )
            | st.text(),
            children,
        )
    ),
)


@given(JSON)
def test_limits_from_any_json_never_raise(data: object) -> None:
    for shape in (data, {"configuration": data}, {"configuration": {"statuses": data}}):
        limits = Limits.from_instance(shape)
        assert limits.max_characters >= 1 and limits.characters_reserved_per_url >= 1
        assert type(limits.max_characters) is int
        assert type(limits.characters_reserved_per_url) is int
        cached = Limits.from_json(shape)
        assert cached.max_characters >= 1 and cached.characters_reserved_per_url >= 1


@given(st.integers(min_value=1), st.integers(min_value=1))
def test_limits_round_trip_through_the_cache(maximum: int, weight: int) -> None:
    limits = Limits(maximum, weight)
    assert Limits.from_json(limits.to_json()) == limits


def test_limits_to_json() -> None:
    assert Limits(1000, 30).to_json() == {
        "max_characters": 1000,
        "characters_reserved_per_url": 30,
        "code_points": False,
    }


def test_limits_from_damaged_cache_are_the_defaults() -> None:
    assert Limits.from_json(None) == Limits()
    assert Limits.from_json({"max_characters": "x", "characters_reserved_per_url": -1}) == Limits()
    assert Limits.from_json({"max_characters": 900}) == Limits(900, DEFAULT_URL_WEIGHT)


def test_gotosocial_counts_code_points_with_links_at_full_length() -> None:
    # GoToSocial reports a URL weight but counts runes of text and warning, all of them.
    instance = {
        "version": "0.17.3 git-8c4a3c5",
        "configuration": {"statuses": {"max_characters": 5000, "characters_reserved_per_url": 25}},
    }
    limits = Limits.from_instance(instance)
    assert limits.code_points and limits.max_characters == 5000
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, five code points
    link = "https://example.org/" + "a" * 60
    assert weighted_length(family + " " + link, "cw", limits=limits) == 5 + 1 + len(link) + 2
    assert Limits.from_json(limits.to_json()) == limits
    assert not Limits.from_instance({"version": "4.3.2"}).code_points
