"""UI time per operation at 10,000 conversations: dminbox's list against a stock OptionList.

    .venv/bin/python bench/ui_ops.py [--rows 10000] [--reps 50] [--auto-reps 5]

One process, three apps run one after the other with `run_test(size=(120, 40),
headless=True)`: dminbox's InboxScreen, then a bare app with a stock
OptionList at `height: 1fr`, then the same with the stock `height: auto`.

Each operation is timed (wall clock) from the call that performs it until
every message it queued has been handled and the screen update it caused has
been composited and encoded as terminal output (`draw`). What is left out is
the wait for Textual's next frame tick, which is idle time, and key dispatch
(the action methods are called directly, the same way on both sides).

Prints figures and whether each claim holds; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import io
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from rich.console import Console
from textual._compositor import CompositorUpdate
from textual.app import App, ComposeResult
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList

from dminbox.client import PAGE_SIZE, MastodonClient, Page
from dminbox.models import Context, Conversation
from dminbox.ui.app import DmInboxApp
from dminbox.ui.screens.inbox import InboxScreen
from sample_rows import demo_conversations, fixed_clock, many_conversations, option_prompt

SIZE = (120, 40)
FRAME_MS = 16.0
PROMPT_WIDTH = 110
"""OptionList prompts are cut to this many columns so each stays on one line at 120."""
MAX_ROUNDS = 50

Action = Callable[[], object]


# -- measuring -----------------------------------------------------------------


class OutputMeter:
    """Counts the bytes each screen update would write to a truecolor terminal.

    Headless apps composite every update but skip encoding it; the meter does
    that step, inside the timed window, so the figures include it.
    """

    def __init__(self, app: App) -> None:
        self.bytes = 0
        self._console = Console(
            file=io.StringIO(), color_system="truecolor", force_terminal=True, legacy_windows=False
        )
        display = app._display

        def display_and_count(screen: Screen, renderable: object) -> None:
            display(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                self.bytes += len(renderable.render_segments(self._console).encode())

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


@dataclass
class Sample:
    ms: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _call(action: Action | None) -> None:
    if action is not None and inspect.isawaitable(result := action()):
        await result


async def measure(
    pilot: Pilot, meter: OutputMeter, act: Action, reps: int, prepare: Action | None = None
) -> Sample:
    """Times `act` plus the drawing it causes, `reps` times; `prepare` runs untimed before each."""
    sample = Sample()
    gc.collect()
    for _ in range(reps):
        await _call(prepare)
        await draw(pilot)
        meter.bytes = 0
        start = time.perf_counter()
        await _call(act)
        await draw(pilot)
        sample.ms.append((time.perf_counter() - start) * 1000)
        sample.bytes.append(meter.bytes)
    return sample


@dataclass
class Operations:
    """The operations one app is timed on, each with its untimed preparation."""

    start: Action
    """Puts the cursor on row `rows // 2`, at the top of the view."""
    cursor_down: Action
    mark_read: Action
    next_row: Action
    remove: Action
    clear: Action
    to_last: Action
    append: Callable[[], Awaitable[None] | None]


OPERATIONS = ("empty frame", "cursor down", "mark read", "remove", "append 40")


async def run_operations(pilot: Pilot, ops: Operations, reps: int) -> dict[str, Sample]:
    meter = OutputMeter(pilot.app)
    results = {"empty frame": await measure(pilot, meter, lambda: None, reps)}
    await _call(ops.start)
    results["cursor down"] = await measure(pilot, meter, ops.cursor_down, reps)
    results["mark read"] = await measure(pilot, meter, ops.mark_read, reps, ops.next_row)
    results["remove"] = await measure(pilot, meter, ops.remove, reps, ops.clear)
    results["append 40"] = await measure(pilot, meter, ops.append, reps, ops.to_last)
    return results


# -- dminbox ---------------------------------------------------------------------


class StubClient(MastodonClient):
    """Answers from memory at once; every page after the first waits in `pages` until released."""

    def __init__(self, first_page: list[Conversation]) -> None:
        super().__init__("https://bench.invalid", "bench-token")
        self.first_page = first_page
        self.pages: asyncio.Queue[list[Conversation]] = asyncio.Queue()
        self.served = 0

    async def conversations(self, url: str | None = None, *, limit: int = PAGE_SIZE) -> Page:
        rows = self.first_page if url is None else await self.pages.get()
        self.served += 1
        next_url = f"https://bench.invalid/api/v1/conversations?page={self.served}"
        return Page(rows, next_url=next_url)

    async def mark_read(self, conversation_id: str) -> Conversation:
        return Conversation(id=conversation_id)

    async def remove(self, conversation_id: str) -> None:
        return None

    async def context(self, status_id: str) -> Context:
        return Context()


async def bench_dminbox(rows: int, reps: int) -> dict[str, Sample]:
    base = demo_conversations()
    client = StubClient(many_conversations(rows, base=base))
    pages = [
        many_conversations(PAGE_SIZE, start=rows + n * PAGE_SIZE, base=base) for n in range(reps)
    ]
    app = DmInboxApp(client, label="bench", clock=fixed_clock)
    async with app.run_test(size=SIZE, headless=True) as pilot:
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        while len(screen.inbox) < rows:
            await asyncio.sleep(0.01)
        await draw(pilot)
        rows_view = screen.conversation_list

        def start() -> None:
            rows_view.cursor = rows // 2
            rows_view.scroll_to(y=rows // 2, animate=False, immediate=True)

        async def append() -> None:
            before = len(screen.inbox)
            client.pages.put_nowait(pages.pop())
            while len(screen.inbox) == before:
                await asyncio.sleep(0)

        ops = Operations(
            start=start,
            cursor_down=rows_view.action_cursor_down,
            mark_read=screen.action_mark_read,
            next_row=rows_view.action_cursor_down,
            remove=screen.action_remove,
            clear=app.clear_notifications,
            to_last=rows_view.action_last,
            append=append,
        )
        return await run_operations(pilot, ops, reps)


# -- a bare app with a stock OptionList --------------------------------------------


class OptionListApp(App[None]):
    """Header, a stock OptionList, Footer; `height` overrides the list's stock `height: auto`."""

    def __init__(self, prompts: list[Content], height: str) -> None:
        super().__init__()
        self.prompts = prompts
        self.height = height

    def compose(self) -> ComposeResult:
        yield Header()
        options = OptionList(*self.prompts)
        options.styles.height = self.height
        yield options
        yield Footer(compact=True)


async def bench_option_list(rows: int, reps: int, height: str) -> dict[str, Sample]:
    base = demo_conversations()
    unread = [option_prompt(c, PROMPT_WIDTH) for c in many_conversations(len(base), base=base)]
    read = [
        option_prompt(c, PROMPT_WIDTH)
        for c in many_conversations(len(base), unread=False, base=base)
    ]
    prompts = [unread[n % len(unread)] for n in range(rows)]
    app = OptionListApp(prompts, height)
    async with app.run_test(size=SIZE, headless=True) as pilot:
        await draw(pilot)
        options = app.query_one(OptionList)
        options.focus()
        await draw(pilot)

        def start() -> None:
            options.highlighted = rows // 2
            options.scroll_to(y=rows // 2, animate=False, immediate=True)

        def mark_read() -> None:
            index = options.highlighted or 0
            options.replace_option_prompt_at_index(index, read[index % len(read)])

        ops = Operations(
            start=start,
            cursor_down=options.action_cursor_down,
            mark_read=mark_read,
            next_row=options.action_cursor_down,
            remove=lambda: options.remove_option_at_index(options.highlighted or 0),
            clear=lambda: None,
            to_last=options.action_last,
            append=lambda: options.add_options(unread[:PAGE_SIZE]),
        )
        return await run_operations(pilot, ops, reps)


# -- report ----------------------------------------------------------------------


def _cell(sample: Sample | None) -> str:
    if sample is None:
        return "-"
    return f"{sample.median:8.2f} / {sample.p95:8.2f}"


def report(columns: dict[str, dict[str, Sample]], rows: int) -> None:
    names = list(columns)
    print(f"\nUI time per operation at {rows:,} rows, {SIZE[0]}x{SIZE[1]}, ms median / p95:\n")
    header = ["operation", *names, "dminbox under 16 ms?"]
    widths = [14, *(max(21, len(n)) for n in names), 22]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for operation in OPERATIONS:
        mine = columns["dminbox"][operation]
        if operation == "empty frame":
            verdict = "(measuring overhead)"
        elif mine.median < FRAME_MS and mine.p95 < FRAME_MS:
            verdict = "yes"
        elif mine.median < FRAME_MS:
            verdict = "median yes, p95 NO"
        else:
            verdict = "NO"
        cells = [operation, *(_cell(columns[n].get(operation)) for n in names), verdict]
        print(" | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    print("\nBytes an update writes to a truecolor terminal, median / max:\n")
    print(" | ".join(h.ljust(w) for h, w in zip(header[:-1], widths[:-1], strict=True)))
    print("-+-".join("-" * w for w in widths[:-1]))
    for operation in OPERATIONS[1:]:
        cells = [operation]
        for name in names:
            sample = columns[name][operation]
            cells.append(f"{statistics.median(sample.bytes):8,.0f} / {max(sample.bytes):8,}")
        print(" | ".join(c.ljust(w) for c, w in zip(cells, widths[:-1], strict=True)))
    reps = {name: len(columns[name]["remove"].ms) for name in names}
    print("\nRepetitions per operation: " + ", ".join(f"{n} {r}" for n, r in reps.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--auto-reps", type=int, default=5, help="for OptionList height: auto")
    args = parser.parse_args()
    started = time.perf_counter()
    columns: dict[str, dict[str, Sample]] = {}
    for name, bench in (
        ("dminbox", lambda: bench_dminbox(args.rows, args.reps)),
        ("OptionList 1fr", lambda: bench_option_list(args.rows, args.reps, "1fr")),
        ("OptionList auto", lambda: bench_option_list(args.rows, args.auto_reps, "auto")),
    ):
        print(f"measuring {name}…", flush=True)
        columns[name] = asyncio.run(bench())
    report(columns, args.rows)
    print(f"Run time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
