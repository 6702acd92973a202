"""Time per keystroke of find (`/`), at 100,000 cached conversations.

    .venv/bin/python bench/find.py [--rows 100000] [--reps 20]

The claim: filtering the list as the user types costs under 50 ms per
keystroke at 100,000 cached conversations. Each query below is typed one
character at a time; every prefix is one keystroke, and each keystroke is
timed `--reps` times (after one untimed run), as:

- `store`: `Cache.search(prefix)` on the store's thread: the SQL, counting
  every match and parsing the newest `FIND_LIMIT` (100) into `Conversation`s;
- `engine`: `await Engine.find(prefix)` from an event loop: the same plus
  the hop to the store's thread and back, what the screen waits for;
- `screen`: in a headless app at 120x40 on the same cache, from the key's
  character entering the find bar's Input (`insert_text_at_cursor`, what the
  Input does with a key) until the list holds the answer for that text and
  the screen is composited (`ui_ops.draw`: every queued message handled,
  without waiting for the next frame tick), one run per keystroke; key
  dispatch and the frame tick are left out, as in `ui_ops.py`. Each query is
  typed `SCREEN_REPS` (5) times.

Against baselines measured in the same run, on the same file:

- `first screen`: `Cache.conversations(limit=200)`, what the inbox reads to
  show a screenful (a find cannot be much cheaper than showing its rows);
- `no index`: the same query answered without the index, `LIKE '%…%'` over
  the stored JSON of every conversation, its participants and its last
  status, newest first, with a count (less than the index does: no thread,
  no accent folding): what a find would cost with no index at all. Timed on
  each query's whole text only, three times (it is slow).

The cache holds `--rows` conversations cloned from the demo inbox under new
ids, one minute apart (the demo's 180-odd conversations repeat, so a word in
one demo conversation matches about 1 in 180 rows), built in batches of
10,000 through the cache's own writes (so the index is kept as in use). It
also times the migration that builds the index for an existing cache.

Prints the figures and, for each keystroke, whether it stays under 50 ms;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dminbox.engine import Engine
from dminbox.fake import FakeMastodon
from dminbox.store import Cache, find_index

from sample_rows import cloned_rows

NEWEST = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
BATCH = 10_000
LIMIT = 1_000_000
"""The cache's row limit here: nothing is pruned while measuring."""
BUDGET_MS = 50.0
SCREEN_REPS = 5
"""Times each query is typed into the app."""

TYPED = [
    ("a name", "tomasz"),
    ("an acct", "@ines@travel"),
    ("text, many matches", "the"),
    ("text, a few", "lisbon"),
    ("CJK", "散歩しましょう"),
    ("accents ignored", "cafe"),
    ("no match", "zqxw"),
    ("two words", "next time"),
    ("two common words", "the time"),
    ("is:unread", "is:unread"),
    ("from:", "from:grace"),
    ("filter and text", "is:unread coffee"),
]
"""(what it shows, the text typed): each prefix of the text is a keystroke."""


def demo_rows() -> list[dict[str, Any]]:
    server = FakeMastodon.demo(now=NEWEST)
    rows = [r for r in server.conversation_rows() if isinstance(r.get("last_status"), dict)]
    # A fifth unread, as in the store benchmark, so is:unread has rows to find.
    return [{**row, "unread": index % 5 == 0} for index, row in enumerate(rows)]


def build(path: Path, rows: int, base: list[dict[str, Any]]) -> float:
    began = time.perf_counter()
    cache = Cache.open(path, limit=LIMIT)
    for start in range(0, rows, BATCH):
        cache.put_conversations(
            cloned_rows(base, start, min(BATCH, rows - start)),
            page_url=f"https://x.invalid/api/v1/conversations?page={start // 40}",
        )
    cache.close()
    return time.perf_counter() - began


def rebuild(path: Path) -> float:
    """The migration's work: every document made again, in one transaction."""
    db = sqlite3.connect(path, isolation_level=None)
    began = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    find_index.rebuild(db)
    db.execute("COMMIT")
    took = time.perf_counter() - began
    db.close()
    return took


def timed(call: Callable[[], object], reps: int) -> list[float]:
    call()
    samples = []
    for _ in range(reps):
        began = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - began) / 1e6)
    return samples


def no_index(cache: Cache, text: str) -> Callable[[], object]:
    """The same find without the index: LIKE over the stored JSON of every conversation,
    its participants and its last status (not its cached thread, so it does less), newest
    first, with a count."""
    from dminbox.find_query import FIND_LIMIT, parse
    from dminbox.store.entities import _parsed, _raw

    db = cache._database.connection
    query = parse(text)
    where, params = ["c.hidden = 0"], []
    people = "EXISTS (SELECT 1 FROM participants p JOIN accounts a ON a.id = p.account_id"
    people += " WHERE p.conversation_id = c.id AND a.json LIKE ?)"
    for term in query.terms:
        where.append(f"(c.json LIKE ? OR s.json LIKE ? OR {people})")
        params += [f"%{term}%"] * 3
    for acct in query.authors:
        where.append("s.json LIKE ?")
        params.append(f'%"acct": "{acct}%')
    for acct in query.participants:
        where.append(people)
        params.append(f'%"acct": "{acct}%')
    if query.unread is not None:
        where.append(f"c.unread = {int(query.unread)}")
    source = "conversations c LEFT JOIN statuses s ON s.id = c.last_status_id"
    condition = " AND ".join(where)

    def run() -> None:
        db.execute(f"SELECT count(*) FROM {source} WHERE {condition}", params).fetchone()
        rows = db.execute(
            f"SELECT c.id, c.json, c.unread, s.json FROM {source} WHERE {condition}"
            " ORDER BY c.activity DESC, c.id DESC LIMIT ?",
            [*params, FIND_LIMIT],
        ).fetchall()
        _parsed(_raw(db, rows))

    return run


def write_times(cache: Cache, base: list[dict[str, Any]], rows: int, reps: int) -> dict:
    """What keeping the index costs the writes: a 40-row page, of rows already cached (a
    refresh) and of new ones, with the index and with its calls made no-ops."""
    kept = cloned_rows(base, 1000, 40)
    grown = [rows + 10_000]

    def new_page() -> None:
        cache.put_conversations(cloned_rows(base, grown[0], 40), page_url="https://x.invalid/n")
        grown[0] += 40

    def cached_page() -> None:
        cache.put_conversations(kept, page_url="https://x.invalid/c")

    result = {}
    for label in ("with the index", "without"):
        result[label] = (timed(cached_page, reps), timed(new_page, reps))
        for name in ("conversation_written", "status_written", "forget", "hidden_changed"):
            setattr(find_index, name, lambda *args, **kwargs: None)
    return result


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def fmt(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.1f} / {p95(samples):6.1f}"


async def engine_times(path: Path, keys: list[str], reps: int) -> dict[str, list[float]]:
    engine = Engine(
        open_store=lambda: Cache.open(path, limit=LIMIT),
        open_client=lambda: None,  # type: ignore[arg-type, return-value]
        live=False,
    )
    await engine.open_store()
    result: dict[str, list[float]] = {}
    for key in keys:
        await engine.find(key)
        samples = []
        for _ in range(reps):
            began = time.perf_counter_ns()
            await engine.find(key)
            samples.append((time.perf_counter_ns() - began) / 1e6)
        result[key] = samples
    assert engine.store is not None
    engine.store.close()
    return result


async def screen_times(path: Path, typed: list[str], reps: int) -> dict[str, list[float]]:
    """Per keystroke in a headless app: press, then until the list shows its answer."""
    from textual.widgets import Input
    from ui_ops import draw

    from dminbox.client import MastodonClient
    from dminbox.find_query import parse
    from dminbox.ui.app import DmInboxApp
    from dminbox.ui.widgets.find_bar import FindBar

    server = FakeMastodon.demo(now=NEWEST)  # in-process: page 1 merges, nothing else
    engine = Engine(
        open_store=lambda: Cache.open(path, limit=LIMIT),
        open_client=lambda: MastodonClient(
            server.base_url, server.token, transport=server.transport()
        ),
        live=False,
    )
    app = DmInboxApp(engine, label="bench", clock=lambda: NEWEST)
    times: dict[str, list[float]] = {}
    async with app.run_test(size=(120, 40), headless=True) as pilot:
        await pilot.pause()
        screen = app.screen
        for text in [t for _ in range(reps) for t in typed]:
            await pilot.press("slash")
            await pilot.pause()
            bar = screen.query_one(FindBar)
            field = bar.query_one(Input)
            finder = screen.finder  # type: ignore[attr-defined]
            for n in range(1, len(text) + 1):
                wanted = None if parse(text[:n]).empty else text[:n]
                began = time.perf_counter_ns()
                field.insert_text_at_cursor(text[n - 1])  # what the Input does with a key
                while finder.shown_text != wanted:
                    await asyncio.sleep(0.0005)
                await draw(pilot)
                times.setdefault(text[:n], []).append((time.perf_counter_ns() - began) / 1e6)
            assert bar.value == text
            await pilot.press("escape")
            await pilot.pause()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--no-screen", action="store_true", help="skip the app's timings")
    args = parser.parse_args()

    started = time.perf_counter()
    print(
        f"{os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}; load average {os.getloadavg()[0]:.2f} at the start"
    )
    base = demo_rows()
    keys = [text[:n] for _, text in TYPED for n in range(1, len(text) + 1)]
    with tempfile.TemporaryDirectory(prefix="dminbox-find-bench-") as folder:
        path = Path(folder) / "cache" / "bench.sqlite3"
        took = build(path, args.rows, base)
        size = sum(p.stat().st_size for p in path.parent.iterdir()) / 2**20
        print(
            f"built {args.rows:,} conversations in {took:.1f} s ({size:.0f} MiB with WAL)"
            f"; the index alone rebuilt (the migration's work) in {rebuild(path):.1f} s"
        )
        cache = Cache.open(path, limit=LIMIT)
        db = cache._database.connection
        index_pages = db.execute("SELECT count(*) FROM dbstat WHERE name LIKE 'find_%'").fetchone()[
            0
        ]
        print(f"the index takes {index_pages * 4096 / 2**20:.0f} MiB of that\n")

        first_screen = timed(lambda: cache.conversations(limit=200), args.reps)
        store: dict[str, list[float]] = {}
        naive: dict[str, list[float]] = {}
        found: dict[str, tuple[int, int]] = {}
        for key in keys:
            store[key] = timed(lambda key=key: cache.search(key), args.reps)
            if any(key == text for _, text in TYPED):  # whole words only: it is slow
                naive[key] = timed(no_index(cache, key), 3)
            matches = cache.search(key)
            found[key] = (len(matches), matches.total)
        writes = write_times(cache, base, args.rows, args.reps)
        cache.close()
        engine = asyncio.run(engine_times(path, keys, args.reps))
        screen: dict[str, list[float]] = {}
        if not args.no_screen:
            typed = [text for _, text in TYPED]
            screen = asyncio.run(screen_times(path, typed, SCREEN_REPS))

    print(f"first screen (conversations(limit=200)): {fmt(first_screen)} ms (median / p95)\n")
    print(
        "keystroke          | matches (shown) | store ms       | engine ms      | screen ms"
        "      | no index ms     | under 50 ms?"
    )
    print(
        "-------------------|-----------------|----------------|----------------|----------"
        "------|-----------------|-------------"
    )
    worst = 0.0
    for label, text in TYPED:
        print(f"{label}:")
        for n in range(1, len(text) + 1):
            key = text[:n]
            shown, total = found[key]
            on_screen, high = "             -", p95(engine[key])
            if key in screen:
                median, most = statistics.median(screen[key]), max(screen[key])
                on_screen = f"{median:6.1f} / {most:5.1f}"
                high = max(high, median)
            worst = max(worst, high)
            without = fmt(naive[key]) if key in naive else "              -"
            print(
                f"  {key!r:<17}|{total:>9,} ({shown:>3}) | {fmt(store[key])} |"
                f" {fmt(engine[key])} | {on_screen} | {without} | "
                + ("yes" if high < BUDGET_MS else "NO")
            )
    print("\nA page of 40 rows written, ms (median / p95): already cached | new")
    for label, (cached, new) in writes.items():
        print(f"  {label:<15} {fmt(cached)} | {fmt(new)}")
    print(
        "\nstore, engine, no index: median / p95 of the repetitions; screen: median / max of"
        f" {SCREEN_REPS} typings. A keystroke is under the budget when the engine's p95 and"
        " the screen's median are."
        f"\nClaim: every keystroke under {BUDGET_MS:g} ms at {args.rows:,} conversations:"
        f" {'HOLDS' if worst < BUDGET_MS else 'FAILS'} (worst {worst:.1f} ms)."
        f"\nRun time {time.perf_counter() - started:.0f} s;"
        f" load average {os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    sys.exit(main())
