"""UI time per operation at 10,000 conversations: dminbox's list against a stock OptionList.

    .venv/bin/python bench/ui_ops.py [--rows 10000] [--reps 50] [--auto-reps 10]

One process, three apps run one after the other with `run_test(size=(120, 40),
headless=True)`: dminbox's InboxScreen on a file cache, fed by a stub client;
then a bare app (Header, stock OptionList, Footer) with the list at
`height: 1fr`; then the same list at its stock `height: auto`.

Each operation is timed from the call that performs it until every message it
queued has been handled and the screen update it caused has been composited
and encoded as terminal output (see `draw`). Left out: the wait for Textual's
next frame tick (idle time) and key dispatch (action methods are called
directly, the same way on both sides). Untimed, before each repetition, the
cursor is put back on a row in the middle of the list.

The stub server holds its answers to mark read and remove until told, so
"mark read" is the optimistic part only; "mark read: server answers" times
the screen's work when the answer arrives. A page of 40 is timed from the
moment the stub hands it over (storing it in the cache included).

Prints figures and whether each claim holds; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import io
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from textual._compositor import CompositorUpdate
from textual.app import App, ComposeResult
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList

from dminbox.client import MastodonClient
from dminbox.engine import UNDO_SECONDS, Engine
from dminbox.models import Conversation
from dminbox.page import PAGE_SIZE, Page
from dminbox.store import Cache
from dminbox.ui.app import DmInboxApp
from dminbox.ui.screens.inbox import InboxScreen

from ansi import describe
from sample_rows import demo_conversations, fixed_clock, many_conversations, option_prompt

SIZE = (120, 40)
FRAME_MS = 16.0
PROMPT_WIDTH = 110
"""OptionList prompts are cut to this many columns so each stays on one line at 120."""
MAX_ROUNDS = 50
CLAIMED = ("cursor down", "cursor down, scrolling", "mark read", "remove", "append 40")
"""The operations the "under one frame" claim is about."""

Action = Callable[[], object]


# -- measuring -----------------------------------------------------------------


class OutputMeter:
    """Counts the bytes each screen update would write to a truecolor terminal.

    Headless apps composite every update but skip encoding it; the meter does
    that step, inside the timed window, so the figures include it.
    """

    def __init__(self, app: App) -> None:
        self.bytes = 0
        self.updates: list[tuple[float, str]] = []
        """When the current operation wrote each of its updates, and what."""
        self._console = Console(
            file=io.StringIO(), color_system="truecolor", force_terminal=True, legacy_windows=False
        )
        display = app._display

        def display_and_count(screen: Screen, renderable: object) -> None:
            display(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                output = renderable.render_segments(self._console)
                self.bytes += len(output.encode())
                self.updates.append((time.perf_counter(), output))

        app._display = display_and_count  # type: ignore[method-assign]


def _needs_drawing(screen: Screen) -> bool:
    return bool(
        screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._dirty_widgets
    )


async def draw(pilot: Pilot) -> None:
    """Handles all queued messages and composites, until two rounds in a row find nothing to do.

    This is the work Textual does by itself at its next frame tick (the same
    two private calls `Pilot.pause` makes), without waiting for the tick.
    """
    screen = pilot.app.screen
    quiet = 0
    for _ in range(MAX_ROUNDS):
        await pilot._wait_for_screen()
        if _needs_drawing(screen):
            screen._on_timer_update()
            quiet = 0
        else:
            quiet += 1
            if quiet == 2:
                return


class GcWatch:
    """Adds up the time spent in full (generation 2) garbage collections while switched on."""

    def __init__(self) -> None:
        self.on = False
        self.ms = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if not self.on or info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._started) * 1000


@dataclass
class Sample:
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    """CPU time of the event loop's thread in the window: what other processes cannot inflate."""
    bytes: list[int] = field(default_factory=list)
    first_update_ms: list[float] = field(default_factory=list)
    """From the call to the first update written, when there was one."""
    updates: list[int] = field(default_factory=list)
    gc_ms: list[float] = field(default_factory=list)
    """Full garbage collections inside the timed window."""
    painted: list[str] = field(default_factory=list)
    """What each update of the last repetition repainted, as `ansi.describe` tells it."""

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        return _p95(self.ms)

    @property
    def p95_without_gc(self) -> float:
        """The p95 of the windows no full garbage collection fell into."""
        return _p95([ms for ms, gc_ms in zip(self.ms, self.gc_ms, strict=True) if not gc_ms])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[round(0.95 * (len(ordered) - 1))] if ordered else 0.0


async def _call(action: Action | None) -> None:
    if action is not None and inspect.isawaitable(result := action()):
        await result


@dataclass
class Operation:
    name: str
    act: Action
    """Timed, with the drawing it causes."""
    prepare: Action | None = None
    """Untimed, before each repetition."""
    finish: Action | None = None
    """Untimed, once after the last repetition."""


async def measure(pilot: Pilot, operations: list[Operation], reps: int) -> dict[str, Sample]:
    """Times each operation plus the drawing it causes, `reps` times, after an untimed setup."""
    meter = OutputMeter(pilot.app)
    watch = GcWatch()
    gc.callbacks.append(watch)
    results: dict[str, Sample] = {}
    try:
        for operation in operations:
            sample = results[operation.name] = Sample()
            gc.collect()
            for _ in range(reps):
                await _call(operation.prepare)
                await draw(pilot)
                meter.bytes, meter.updates = 0, []
                watch.ms, watch.on = 0.0, True
                start, cpu = time.perf_counter(), time.thread_time()
                await _call(operation.act)
                await draw(pilot)
                sample.ms.append((time.perf_counter() - start) * 1000)
                sample.cpu_ms.append((time.thread_time() - cpu) * 1000)
                watch.on = False
                sample.gc_ms.append(watch.ms)
                sample.bytes.append(meter.bytes)
                sample.updates.append(len(meter.updates))
                if meter.updates:
                    sample.first_update_ms.append((meter.updates[0][0] - start) * 1000)
            sample.painted = [
                f"{describe(output)} ({len(output.encode()):,} B)" for _, output in meter.updates
            ]
            await _call(operation.finish)
            await draw(pilot)
    finally:
        gc.callbacks.remove(watch)
    return results


def operations(
    *,
    place: Callable[[int, bool], None],
    cursor_down: Action,
    mark_read: Action,
    remove: Action,
    clear: Action,
    to_last: Action,
    append: Action,
    middle: int,
) -> list[Operation]:
    """The same sequence for every app; `place(row, at_top)` puts the cursor on a visible row."""
    fresh_rows = itertools.count(middle + 100)

    def place_fresh() -> None:
        place(next(fresh_rows), True)

    def clear_and_place() -> None:
        clear()
        place(middle, True)

    return [
        Operation("empty frame", lambda: None),
        Operation("cursor down", cursor_down, lambda: place(middle, True)),
        Operation("cursor down, scrolling", cursor_down, lambda: place(middle, False)),
        Operation("mark read", mark_read, place_fresh),
        Operation("remove", remove, clear_and_place),
        Operation("append 40", append, to_last),
    ]


# -- dminbox ---------------------------------------------------------------------


def _raw(conversations: list[Conversation]) -> list[dict[str, Any]]:
    return [conversation.model_dump() for conversation in conversations]


class StubClient(MastodonClient):
    """A server in memory. Pages after the first wait in `pages` until the benchmark
    releases them; mark read and remove wait until `answer` is set, like a slow link."""

    def __init__(self, first_page: list[Conversation]) -> None:
        super().__init__("https://bench.invalid", "bench-token")
        self.first_page = first_page
        self.pages: asyncio.Queue[list[Conversation]] = asyncio.Queue()
        self.answer = asyncio.Event()
        self.served = 0

    async def conversations(self, url: str | None = None, *, limit: int = PAGE_SIZE) -> Page:
        rows = self.first_page if url is None else await self.pages.get()
        self.served += 1
        next_url = f"https://bench.invalid/api/v1/conversations?page={self.served}"
        return Page(rows, next_url=next_url, raw=_raw(rows))

    async def mark_read(self, conversation_id: str) -> Conversation:
        await self.answer.wait()
        return Conversation(id=conversation_id)

    async def remove(self, conversation_id: str) -> None:
        await self.answer.wait()

    async def context_raw(self, status_id: str) -> dict[str, Any]:
        return {"ancestors": [], "descendants": []}


async def bench_dminbox(rows: int, reps: int) -> dict[str, Sample]:
    """The real InboxScreen on a file cache, as for a real account (the demo's is in memory).

    The first page holds all `rows`; later pages come from the stub when released.
    """
    base = demo_conversations()
    client = StubClient(many_conversations(rows, base=base))
    pages = [
        many_conversations(PAGE_SIZE, start=rows + n * PAGE_SIZE, base=base) for n in range(reps)
    ]
    with tempfile.TemporaryDirectory(prefix="dminbox-bench-") as folder:
        path = Path(folder) / "cache" / "bench.sqlite3"
        engine = Engine(
            open_store=lambda: Cache.open(path),
            open_client=lambda: client,  # type: ignore[arg-type, return-value]
            instance="https://bench.invalid",
        )
        app = DmInboxApp(engine, label="bench", clock=fixed_clock)
        async with app.run_test(size=SIZE, headless=True) as pilot:
            screen = app.screen
            assert isinstance(screen, InboxScreen)
            while len(screen.inbox) < rows:
                await asyncio.sleep(0.01)
            await draw(pilot)
            return await measure(pilot, _dminbox_operations(screen, client, pages), reps)


def _dminbox_operations(
    screen: InboxScreen, client: StubClient, pages: list[list[Conversation]]
) -> list[Operation]:
    view = screen.conversation_list
    middle = len(screen.inbox) // 2
    fresh_rows = itertools.count(middle + 1000)

    def place(row: int, at_top: bool) -> None:
        view.cursor = row
        height = view.scrollable_content_region.height
        view.scroll_to(y=row if at_top else row - height + 1, animate=False, immediate=True)

    async def append() -> None:
        """Releases the page the screen asked for, then waits for the worker to add it."""
        before = len(screen.inbox)
        client.pages.put_nowait(pages.pop())
        while len(screen.inbox) == before:
            # Not sleep(0): the page is stored on the engine's thread, and a spinning
            # wait would count as the event loop's own CPU time.
            await asyncio.sleep(0.0005)

    async def send_everything() -> None:
        """Lets the server answer all that is queued, removals in their undo window too."""
        client.answer.set()
        await screen.engine.send_queued(everything=True)
        client.answer.clear()

    async def send_removals() -> None:
        await send_everything()
        # The undo timers still fire, 5 s on, and redraw the footer: not in the next figures.
        await asyncio.sleep(UNDO_SECONDS + 0.5)

    async def mark_unanswered() -> None:
        place(next(fresh_rows), True)
        await screen.action_mark_read()

    async def answer_read() -> None:
        """The server confirms the read the screen is waiting on."""
        waiting = view.highlighted.id if view.highlighted else ""
        client.answer.set()
        while waiting in screen.engine.pending_reads:
            await asyncio.sleep(0.0005)
        client.answer.clear()

    common = {
        op.name: op
        for op in operations(
            place=place,
            cursor_down=view.action_cursor_down,
            mark_read=screen.action_mark_read,
            remove=screen.action_remove,
            clear=screen.app.clear_notifications,
            to_last=view.action_last,
            append=append,
            middle=middle,
        )
    }
    common["mark read"].finish = send_everything
    common["remove"].finish = send_removals
    answered = Operation("mark read: server answers", answer_read, mark_unanswered)
    ordered = list(common.values())
    ordered.insert(ordered.index(common["mark read"]) + 1, answered)
    return ordered


# -- a bare app with a stock OptionList --------------------------------------------


class OptionListApp(App[None]):
    """Header, a stock OptionList, Footer; `height` overrides the list's stock `height: auto`."""

    def __init__(self, prompts: list[Content], height: str) -> None:
        super().__init__()
        self.prompts = prompts
        self.list_height = height

    def compose(self) -> ComposeResult:
        yield Header()
        options = OptionList(*self.prompts)
        options.styles.height = self.list_height
        yield options
        yield Footer(compact=True)


async def bench_option_list(rows: int, reps: int, height: str) -> dict[str, Sample]:
    """The equivalents: highlight next, replace a prompt, remove an option, add 40 options."""
    base = demo_conversations()
    unread = [option_prompt(c, PROMPT_WIDTH) for c in many_conversations(len(base), base=base)]
    read = [
        option_prompt(c, PROMPT_WIDTH)
        for c in many_conversations(len(base), unread=False, base=base)
    ]
    app = OptionListApp([unread[n % len(unread)] for n in range(rows)], height)
    async with app.run_test(size=SIZE, headless=True) as pilot:
        options = app.query_one(OptionList)
        options.focus()
        await draw(pilot)

        def place(row: int, at_top: bool) -> None:
            options.highlighted = row
            height = options.scrollable_content_region.height
            options.scroll_to(y=row if at_top else row - height + 1, animate=False, immediate=True)

        def mark_read() -> None:
            index = options.highlighted or 0
            options.replace_option_prompt_at_index(index, read[index % len(read)])

        ops = operations(
            place=place,
            cursor_down=options.action_cursor_down,
            mark_read=mark_read,
            remove=lambda: options.remove_option_at_index(options.highlighted or 0),
            clear=lambda: None,
            to_last=options.action_last,
            append=lambda: options.add_options(unread[:PAGE_SIZE]),
            middle=rows // 2,
        )
        return await measure(pilot, ops, reps)


# -- report ----------------------------------------------------------------------


def _table(header: list[str], lines: list[list[str]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]
    print(" | ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)))
    print("-|-".join("-" * width for width in widths))
    for line in lines:
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def _verdict(sample: Sample) -> str:
    if sample.median >= FRAME_MS:
        return "NO"
    if sample.p95 < FRAME_MS:
        return "yes"
    if sample.p95_without_gc < FRAME_MS:
        return "median yes, p95 NO (GC)"
    return "median yes, p95 NO"


def _cell(samples: dict[str, Sample], operation: str, text: Callable[[Sample], str]) -> str:
    return text(samples[operation]) if operation in samples else "-"


def report(columns: dict[str, dict[str, Sample]], rows: int) -> None:
    names = list(columns)
    mine = columns["dminbox"]
    measured = [op for op in mine if op != "empty frame"]
    print(f"\nUI time per operation at {rows:,} rows, {SIZE[0]}x{SIZE[1]}, in ms:")
    print("wall-clock median / wall-clock p95 / CPU median (the event loop thread's CPU time)\n")
    lines = []
    for operation in mine:
        if operation == "empty frame":
            verdict = "(measuring overhead)"
        else:
            verdict = _verdict(mine[operation]) + ("" if operation in CLAIMED else " (extra)")
        times = (
            _cell(
                columns[n],
                operation,
                lambda s: f"{s.median:6.1f} / {s.p95:6.1f} / {statistics.median(s.cpu_ms):5.1f}",
            )
            for n in names
        )
        lines.append([operation, *times, verdict])
    _table(["operation", *(f"{n} ms" for n in names), "dminbox under 16 ms?"], lines)
    print(
        '"(GC)": the p95 is over 16 ms only in windows a full garbage collection fell into.\n'
        '"(extra)": not in the claim; the work done when the server confirms a read.'
    )

    print("\nBytes each operation writes to a truecolor terminal: median / max\n")
    lines = [
        [
            operation,
            *(
                _cell(
                    columns[n],
                    operation,
                    lambda s: f"{statistics.median(s.bytes):7,.0f} / {max(s.bytes):7,}",
                )
                for n in names
            ),
        ]
        for operation in measured
    ]
    _table(["operation", *(f"{n} bytes" for n in names)], lines)

    print("\nGarbage collection: full (gen-2) collections that fell inside timed windows\n")
    lines = []
    for name in names:
        pauses = [ms for sample in columns[name].values() for ms in sample.gc_ms if ms]
        windows = sum(len(sample.ms) for sample in columns[name].values())
        typical = f", {statistics.median(pauses):.0f} ms each (median)" if pauses else ""
        lines.append([name, f"{len(pauses)} of {windows} windows{typical}"])
    _table(["app", "full collections"], lines)

    print("\ndminbox in detail: time to the first update written, and what each update painted")
    print("(last repetition; screen rows and columns counted from 1)\n")
    for op in measured:
        first = statistics.median(mine[op].first_update_ms or [0])
        print(f"{op}: first update after {first:.2f} ms (median)")
        for number, painted in enumerate(mine[op].painted, start=1):
            print(f"    update {number}: {painted}")

    slow = [op for op in CLAIMED if mine[op].median >= FRAME_MS]
    spiky = [op for op in CLAIMED if op not in slow and mine[op].p95 >= FRAME_MS]
    print(
        f"\nClaim: every operation under one frame ({FRAME_MS:.0f} ms) at {rows:,} rows: "
        + ("HOLDS at the median" if not slow else "FAILS at the median for " + ", ".join(slow))
        + (f"; p95 over {FRAME_MS:.0f} ms also for " + ", ".join(spiky) if spiky else "")
    )
    reps = ", ".join(f"{n} {len(columns[n]['remove'].ms)}" for n in names)
    print(f"Repetitions per operation: {reps}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--auto-reps", type=int, default=10, help="for OptionList height: auto")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    benches = {
        "dminbox": lambda: bench_dminbox(args.rows, args.reps),
        "OptionList 1fr": lambda: bench_option_list(args.rows, args.reps, "1fr"),
        "OptionList auto": lambda: bench_option_list(args.rows, args.auto_reps, "auto"),
    }
    columns: dict[str, dict[str, Sample]] = {}
    for name, bench in benches.items():
        print(f"measuring {name}…", flush=True)
        columns[name] = asyncio.run(bench())
        # dminbox calls gc.freeze() once its rows are loaded, and that lasts for the whole
        # process: undo it so the apps measured next get the collector a fresh process has.
        gc.unfreeze()
        gc.collect()
    report(columns, args.rows)
    print(
        f"Run time {time.perf_counter() - started:.0f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    main()
