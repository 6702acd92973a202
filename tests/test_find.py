"""Find (`/`): the query's grammar, the index kept in step with the cache, and the screen.

Core: `parse` never raises and keeps only literals; `normalise` folds case,
accents and compatibility forms the same way for the text and the query.
Store: names, accts, text, CJK, accents both ways, the filters, hostile
queries (matched literally, never as FTS5 syntax), the index after every
kind of write, and the migration that builds it for a schema-4 cache.
Screen: typing filters over the whole cache, escape puts the inbox back as it
was, enter keeps the filter and opens, an old answer never replaces a newer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dminbox.find_query import FIND_LIMIT, Matches, Query, normalise, parse
from dminbox.store import SCHEMA_VERSION, Cache
from dminbox.store.db import APPLICATION_ID

from conftest import list_requests, make_engine, screen_of, settle

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _account(key: str, name: str = "", acct: str = "") -> dict[str, Any]:
    acct = acct or f"u{key}@x.invalid"
    return {"id": f"a{key}", "username": acct.split("@")[0], "acct": acct, "display_name": name}


def _row(
    key: str,
    text: str,
    *,
    name: str = "",
    acct: str = "",
    minutes: int = 0,
    unread: bool = False,
    author: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A conversation with one participant and a last status saying `text`."""
    account = _account(key, name, acct)
    created = (EPOCH + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": key,
        "unread": unread,
        "accounts": [account],
        "last_status": {
            "id": f"s{key}",
            "created_at": created,
            "account": author or account,
            "content": f"<p>{text}</p>",
            "visibility": "direct",
        },
    }


def _ids(cache: Cache, query: str) -> list[str]:
    return [c.id for c in cache.search(query)]


@pytest.fixture
def cache() -> Cache:
    cache = Cache.open(None, limit=1000)
    cache.put_conversations(
        [
            _row(
                "1", "ありがとう、東京で会いましょう", name="山田 花子", acct="hana@tokyo.example"
            ),
            _row("2", "Un café, s'il vous plaît", name="Zoë Ångström", acct="zoe", unread=True),
            _row("3", "see you at the cafe", name="Bob", acct="bob@example.org", minutes=-1),
            _row("4", 'say "hi" * NEAR( - : {body} AND ok', name="Eve", acct="eve", minutes=-2),
        ]
    )
    return cache


# -- the query, as data --------------------------------------------------------------------


def test_parse_reads_words_phrases_and_filters() -> None:
    assert parse('Tokyo "next time" is:unread from:@Alice with:bob to:Carol') == Query(
        terms=("tokyo", "next time"),
        unread=True,
        authors=("alice",),
        participants=("bob", "carol"),
    )
    assert parse("IS:READ").unread is False
    assert parse('from:"Some One" x').authors == ("some one",)
    assert parse('"an unclosed phrase').terms == ("an unclosed phrase",)


def test_filters_half_typed_are_left_out_and_other_colons_are_text() -> None:
    assert parse("from:").empty
    assert parse("is:unr").empty, "a filter being typed does not search for its own text"
    assert parse("is:foo a:b :").terms == ("is:foo", "a:b", ":")
    assert parse('"" ').empty


def test_normalise_folds_case_accents_and_compatibility_forms() -> None:
    assert normalise("  Café\tCRÈME  ") == "cafe creme"
    assert normalise("Ｔｏｋｙｏ ﬁ Straße") == "tokyo fi strasse"
    assert normalise("東京") == "東京"
    assert normalise("が") == "が", "kana keep their voicing marks"
    assert normalise("\x1b[31mred\x07") == "red"


@given(st.text())
def test_parse_never_raises_and_keeps_only_folded_text(text: str) -> None:
    query = parse(text)
    for part in (*query.terms, *query.authors, *query.participants):
        assert part and part == part.strip() and "\n" not in part


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


# -- the store: what is found ----------------------------------------------------------------


def test_participants_by_display_name_and_acct(cache: Cache) -> None:
    assert _ids(cache, "山田") == ["1"]
    assert _ids(cache, "hana@tokyo") == ["1"]
    assert _ids(cache, "@zoe") == ["2"]
    assert _ids(cache, "BOB") == ["3"]


def test_text_of_the_messages(cache: Cache) -> None:
    assert _ids(cache, "vous") == ["2"]
    assert _ids(cache, "see you") == ["3"]
    assert _ids(cache, '"at the cafe"') == ["3"]
    assert _ids(cache, "cafe see") == ["3"], "every word must be found, in any order"
    assert _ids(cache, "nowhere") == []


def test_cjk_inside_a_sentence_of_any_length(cache: Cache) -> None:
    assert _ids(cache, "東京") == ["1"], "two characters: the short index"
    assert _ids(cache, "東京で") == ["1"], "three: the trigram index"
    assert _ids(cache, "東") == ["1"]
    assert _ids(cache, "会いましょう") == ["1"]
    assert _ids(cache, "京都") == []


def test_accents_are_ignored_both_ways(cache: Cache) -> None:
    assert _ids(cache, "cafe") == ["2", "3"]
    assert _ids(cache, "café") == ["2", "3"]
    assert _ids(cache, "plait") == ["2"]
    assert _ids(cache, "zoe angstrom") == ["2"]
    assert _ids(cache, "ZOË") == ["2"]


def test_is_unread_and_is_read_narrow_and_combine(cache: Cache) -> None:
    assert _ids(cache, "is:unread") == ["2"]
    assert _ids(cache, "is:read") == ["1", "3", "4"]
    assert _ids(cache, "cafe is:unread") == ["2"]
    assert _ids(cache, "is:read cafe") == ["3"]
    assert _ids(cache, "is:unread 東京") == []
    assert _ids(cache, "is:read 東京") == ["1"]


def test_from_and_with_name_an_acct_by_its_start(cache: Cache) -> None:
    cache.put_conversations(
        [_row("5", "lunch?", acct="zed@else.example", author=_account("m", acct="me"))]
    )
    assert _ids(cache, "from:zoe") == ["2"]
    assert _ids(cache, "from:@bob@example.org") == ["3"]
    assert _ids(cache, "from:bo") == ["3"]
    assert _ids(cache, "from:z") == ["2"], "zed takes part in 5 but did not write in it"
    assert _ids(cache, "with:z") == ["5", "2"]
    assert _ids(cache, "to:zed") == ["5"]
    assert _ids(cache, "from:me lunch") == ["5"]
    assert _ids(cache, "from:ob") == [], "the start of an acct, not any part of it"
    assert _ids(cache, "from:zoe cafe is:unread") == ["2"]
    assert _ids(cache, "from:zoe is:read") == []


HOSTILE = [
    '"',
    '"hi"',
    "*",
    "NEAR(",
    "NEAR(a b)",
    "-",
    ":",
    "AND",
    "OR",
    "NOT",
    "{body}",
    "people:x",
    "^",
    "(",
    ")",
    "a*",
    '"hi" OR "ok"',
    "'",
    "\\",
    "\x00",
    "\ud800",
    "%",
    "_",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(cache: Cache, query: str) -> None:
    found = cache.search(query)
    assert isinstance(found, Matches)


def test_hostile_queries_match_literally(cache: Cache) -> None:
    assert _ids(cache, '"hi"') == ["4"]
    assert _ids(cache, "*") == ["4"]
    assert _ids(cache, "NEAR(") == ["4"]
    assert _ids(cache, "-") == ["4"]
    assert _ids(cache, ":") == ["4"]
    assert _ids(cache, "{body}") == ["4"]
    assert _ids(cache, "AND") == ["4"], "a word to find, not an operator"
    assert _ids(cache, '"hi" OR "ok"') == [], "OR too: and 4 has no 'or' in it"
    assert _ids(cache, "a*") == []
    assert _ids(cache, "NEAR(a b)") == []
    assert _ids(cache, "%") == [] and _ids(cache, "_") == []


_WORD = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp")).filter(
        lambda c: c not in "\"':"
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_WORD, min_size=1, max_size=6), st.data())
def test_any_part_of_any_message_is_found(words: list[str], data: st.DataObject) -> None:
    cache = Cache.open(None)
    text = " ".join(words).replace("<", " ").replace("&", " ")
    cache.put_conversations([_row("x", text), _row("y", "other")])
    folded = normalise(text)
    if not folded:
        return
    start = data.draw(st.integers(0, len(folded) - 1))
    end = data.draw(st.integers(start + 1, len(folded)))
    part = folded[start:end].strip()
    if not part or parse(f'"{part}"').terms != (part,):
        return
    assert "x" in _ids(cache, f'"{part}"'), (text, part)
    assert cache.search(part).total >= 0  # unquoted: words, filters; never raises


def test_total_counts_beyond_the_limit() -> None:
    cache = Cache.open(None, limit=1000)
    cache.put_conversations([_row(str(n), f"needle {n}", minutes=n) for n in range(30)])
    found = cache.search("needle", 10)
    assert found.total == 30
    assert [c.id for c in found] == [str(n) for n in range(29, 19, -1)], "newest first"
    assert cache.search("needle").total == 30
    assert cache.search('"needle 7"', 10).total == 1
    assert cache.search("needle 7", 10).total == 3, "7, 17 and 27: two words"


# -- the store: the index in step ---------------------------------------------------------


def test_the_index_follows_puts_threads_edits_and_deletions(cache: Cache) -> None:
    # A participant renamed, a new last message.
    row = _row("3", "tomorrow then", name="Robert", acct="bob@example.org")
    row["last_status"]["id"] = "s3-next"
    cache.put_conversations([row])
    assert _ids(cache, "robert") == ["3"] and _ids(cache, "Bob") == ["3"], "acct bob stays"
    assert _ids(cache, "tomorrow") == ["3"]
    assert _ids(cache, "see you") == ["3"], "the older message stays in its thread"
    # A thread read: every message of it is found, and who wrote it.
    other = _account("o", "Olga", "olga@example.net")
    reply = {
        "id": "t1",
        "created_at": "2026-01-01T00:00:30.000Z",
        "account": other,
        "content": "<p>a thread-only word: zanzibar</p>",
    }
    cache.put_thread("3", [reply])
    assert _ids(cache, "zanzibar") == ["3"]
    assert _ids(cache, "from:olga") == ["3"]
    # Edited on the server, then deleted there.
    cache.put_thread("3", [{**reply, "content": "<p>now madagascar</p>"}])
    assert _ids(cache, "zanzibar") == [] and _ids(cache, "madagascar") == ["3"]
    cache.forget_status("t1")
    assert _ids(cache, "madagascar") == [] and _ids(cache, "from:olga") == []
    # Deleted: gone from the index.
    cache.delete_conversation("3")
    assert _ids(cache, "bob") == [] and _ids(cache, "tomorrow") == []
    assert cache.search("cafe").total == 1


def test_a_removal_in_its_undo_window_is_not_found_and_an_undo_brings_it_back(
    cache: Cache,
) -> None:
    seq = cache.enqueue("remove", "2", not_before=99.0)
    assert _ids(cache, "cafe") == ["3"]
    assert cache.search("cafe").total == 1
    assert cache.cancel(seq) is not None
    assert _ids(cache, "cafe") == ["2", "3"]


def test_unread_state_changes_are_found_at_once(cache: Cache) -> None:
    cache.enqueue("read", "2")
    assert _ids(cache, "is:unread") == []
    assert _ids(cache, "cafe is:read") == ["2", "3"]
    cache.set_unread("3", True)
    assert _ids(cache, "cafe is:unread") == ["3"]


def test_pruning_takes_the_oldest_out_of_the_index() -> None:
    cache = Cache.open(None, limit=5)
    cache.put_conversations([_row(str(n), f"word{n} common", minutes=n) for n in range(20)])
    cache.prune()
    assert cache.search("common").total == 5
    assert _ids(cache, "word0") == []
    assert _ids(cache, "word19") == ["19"]


def test_the_index_is_rebuilt_as_it_would_be_written(cache: Cache) -> None:
    """What `rebuild` (the migration) makes equals what the writes kept."""
    from dminbox.store import find_index

    db = cache._database.connection
    before = db.execute("SELECT people, accts, authors, body FROM find_index ORDER BY 1").fetchall()
    with cache._database.write() as write:
        assert find_index.rebuild(write) == 4
    after = db.execute("SELECT people, accts, authors, body FROM find_index ORDER BY 1").fetchall()
    assert after == before
    assert _ids(cache, "東京") == ["1"] and _ids(cache, "is:unread cafe") == ["2"]


def test_a_schema_4_cache_is_migrated_and_its_index_built(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "c.sqlite3"
    cache = Cache.open(path)
    cache.put_conversations(
        [_row("1", "ありがとう、東京で会いましょう", unread=True), _row("2", "un café", minutes=-1)]
    )
    cache.close()
    # Schema 4 is this schema without the find index.
    db = sqlite3.connect(path)
    for table in ("find_index", "find_short", "find_rows"):
        db.execute(f"DROP TABLE {table}")
    db.execute("DROP TRIGGER IF EXISTS find_rows_unread")
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()

    again = Cache.open(path)
    assert again.notice is None
    assert _ids(again, "東京") == ["1"]
    assert _ids(again, "cafe") == ["2"]
    assert _ids(again, "is:unread") == ["1"]
    again.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


# -- the engine ------------------------------------------------------------------------------


async def test_the_engine_finds_in_the_whole_cache_off_the_loop(demo_server) -> None:
    cache = Cache.open(None, limit=1000)
    cache.put_conversations([_row(str(n), f"row {n} of many", minutes=-n) for n in range(300)])
    engine = make_engine(demo_server, cache)
    await engine.start()
    assert len(engine.inbox) < 300
    found = await engine.find("row 299")
    assert [c.id for c in found] == ["299"]
    assert (await engine.find("many")).total == 300
    assert len(await engine.find("many")) == FIND_LIMIT
    assert len(await engine.find("many", 250)) == 250
    await engine.close()


# -- the screen ------------------------------------------------------------------------------


def _fill(path: Path, server) -> str:
    """The demo inbox in the cache, and 200 older rows beyond what the app loads at start;
    returns the id of the one whose text says `needle`."""
    cache = Cache.open(path)
    cache.put_conversations(server.conversation_rows())
    old = [_row(f"old{n}", f"filler {n}", minutes=-n) for n in range(200)]
    old[150] = _row("old150", "the needle in the haystack", name="Nadia", minutes=-150)
    cache.put_conversations(old)
    cache.close()
    return "old150"


async def _type(pilot, text: str) -> None:
    names = {" ": "space", ":": "colon", "@": "at", '"': "quotation_mark"}
    await pilot.press(*[names.get(char, char) for char in text])


async def test_typing_filters_over_the_whole_cache_and_escape_restores(
    demo_server, make_app, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    target = _fill(path, demo_server)
    app = make_app(demo_server, path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        listing = screen.conversation_list
        assert target not in screen.inbox, "beyond the rows loaded"
        await pilot.press("j", "j", "j", "j", "j")
        before = (listing.highlighted.id, listing.cursor, listing.cursor - listing.scroll_offset.y)

        await pilot.press("slash")
        await _type(pilot, "needle")
        await settle(app, pilot)
        assert [c.id for c in listing.inbox] == [target]
        assert listing.inbox is not screen.inbox
        assert listing.highlighted.id == target
        assert "1 match" in listing.footer_text
        assert str(screen.query_one("#find-count").render()) == "1 match"

        await _type(pilot, "s")  # "needles": nothing
        await settle(app, pilot)
        assert len(listing.inbox) == 0
        assert listing.footer_text.startswith("No conversation matches")

        await pilot.press("escape")
        await settle(app, pilot)
        assert listing.inbox is screen.inbox
        assert not screen.finder.active
        assert listing.has_focus
        after = (listing.highlighted.id, listing.cursor, listing.cursor - listing.scroll_offset.y)
        assert after == before, "the cursor is back on its row, on its line"
        assert not screen.query_one("#find-bar").has_class("-open")


async def test_enter_keeps_the_filter_and_opens_the_highlighted_match(
    demo_server, make_app, tmp_path
) -> None:
    path = tmp_path / "cache.sqlite3"
    target = _fill(path, demo_server)
    app = make_app(demo_server, path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        listing = screen.conversation_list
        await pilot.press("slash")
        await _type(pilot, '"filler 1')  # filler 1, 10-19 and 100-199 (150 is the needle)
        await settle(app, pilot)
        total = screen.finder.matches.total
        assert total == 110
        await pilot.press("down", "down")
        highlighted = listing.highlighted
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.thread_view.conversation.id == highlighted.id
        assert screen.finder.active and listing.inbox is not screen.inbox
        await pilot.press("escape")  # back to the list: still filtered
        await settle(app, pilot)
        assert listing.has_focus and listing.highlighted.id == highlighted.id
        assert screen.finder.matches.total == total
        await pilot.press("slash")  # the bar comes back with its text
        assert screen.query_one("#find-input").value == '"filler 1'
        await pilot.press("escape")
        await settle(app, pilot)
        assert listing.inbox is screen.inbox
        assert target not in screen.inbox


async def test_scrolling_the_matches_asks_for_more(demo_server, make_app, tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    _fill(path, demo_server)
    app = make_app(demo_server, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        listing = screen.conversation_list
        await pilot.press("slash")
        await _type(pilot, "filler")
        await settle(app, pilot)
        assert len(listing.inbox) == FIND_LIMIT and screen.finder.matches.total == 199
        assert listing.footer_text.startswith(f"The newest {FIND_LIMIT} of 199")
        paged = len(list_requests(demo_server))
        listing.focus()
        for _ in range(5):
            await pilot.press("G")  # each time at the end: the next matches
            await settle(app, pilot)
        assert len(listing.inbox) == 199
        assert listing.footer_text.startswith("199 matches")
        assert len(list_requests(demo_server)) == paged, "matches come from the cache, not pages"


async def test_an_older_answer_never_replaces_a_newer_one(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        engine = screen.engine
        real = engine.find
        slow = asyncio.Event()

        async def find(query: str, limit: int = FIND_LIMIT) -> Matches:
            if query == "li":
                await slow.wait()  # the first keystroke's answer comes last
            return await real(query, limit)

        engine.find = find  # type: ignore[method-assign]
        await pilot.press("slash", "l", "i")
        await pilot.pause()
        await pilot.press("s")
        await settle(app, pilot)
        slow.set()
        await settle(app, pilot)
        assert screen.finder.shown_text == "lis"
        assert [c.id for c in screen.conversation_list.inbox] == [c.id for c in await real("lis")]


async def test_rows_changing_while_typing_ask_about_the_newest_text(demo_server, make_app) -> None:
    from dminbox.engine import RowsChanged

    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        engine = screen.engine
        real = engine.find
        slow = asyncio.Event()

        async def find(query: str, limit: int = FIND_LIMIT) -> Matches:
            if query == "lis":
                await slow.wait()
            return await real(query, limit)

        engine.find = find  # type: ignore[method-assign]
        await pilot.press("slash", "l", "i")
        await settle(app, pilot)
        assert screen.finder.shown_text == "li"
        await pilot.press("s")  # its answer is slow to come
        await pilot.pause()
        engine._emit(RowsChanged(0))  # the cache changed meanwhile: ask again
        await pilot.pause()
        slow.set()
        await settle(app, pilot)
        assert screen.finder.shown_text == "lis", "never the older text's matches"


async def test_the_list_follows_the_cache_while_filtering(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        await pilot.press("slash")
        await _type(pilot, "is:unread")
        await settle(app, pilot)
        listing = screen.conversation_list
        first = listing.highlighted
        assert first is not None and first.unread
        count = screen.finder.matches.total
        await screen.engine.mark_read(first.id)
        await settle(app, pilot)
        assert screen.finder.matches.total == count - 1
        assert first.id not in listing.inbox


def test_the_find_bar(snap_compare, make_app, demo_server) -> None:
    async def find(pilot) -> None:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("slash")
        await _type(pilot, "is:unread the")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(demo_server), terminal_size=(80, 24), run_before=find)
