"""Start-up cost: first paint, peak memory, `unread-count --offline` and cold-start requests.

    .venv/bin/python bench/startup.py [--runs 5] [--sizes 0,10000,100000]

Every figure is printed next to a baseline measured in the same run, and
judged against the start-up claims of issue #7:

- first paint from a warm cache of 10,000 and of 100,000 conversations
  within 1.3x of a bare Textual app, the empty-cache frame within 1.5x;
- peak memory (VmHWM) at 10,000 cached within 1.5x of the bare app;
- `dminbox unread-count --offline` within 1.5x of `python -c "import sqlite3"`
  run by the same interpreter (median of COUNT_RUNS runs each, interleaved);
- a cold start (empty cache, a live server) sends one `GET /api/v1/conversations`
  before its first paint, and asks for the next page only after it.

Also: the first screen costs the same with 100 or 100,000 cached
conversations, because the inbox reads only what it shows (one batch of 200
rows, newest first) and never loads the whole cache.

Each app case is the real program in its own pseudo-terminal (120x40,
TERM=xterm-256color, XDG folders in a temporary directory per case):

- dminbox, `python -m dminbox --instance http://127.0.0.1:PORT --token
  demo-token --cache-limit 200000`, on a cache built beforehand at
  `cache_path(instance, account id)` with 0, 10,000 and 100,000
  conversations (the demo inbox's rows cloned under new ids, a minute apart),
  and `remember_account(instance, token, id)` naming the account, so no request is
  needed before the app starts;
- a bare Textual app (`bare_app.py`: Header, a stock OptionList of 40 rows,
  Footer), the cost of Textual alone.

The instance is the fake server (`python -m dminbox.fake --port 0`), stopped
with SIGSTOP as soon as we have asked it who `me` is. The kernel still accepts
the app's connection, but no answer ever comes, so whatever is painted came
from the cache: the app does not go offline either, it waits (its timeout is
20 s, far beyond a run).

First paint is the time from the fork until the terminal output, with escape
sequences removed, holds the newest cached conversation's first participant
(for the empty cache, and for the header column, the title: `dminbox`; for
the bare app `Conversation 01`). After 0.5 s of quiet, VmHWM (peak resident
memory) is read from `/proc/<pid>/status`, then the app is asked to quit (q,
or ctrl+q) and killed if it has not within 3 s. One warm-up run per case is
discarded; then the cases take turns, `--runs` times. The cache files are in
the page cache (just written), as on a machine that ran dminbox recently.

The cold start runs the same command in a fresh home (no account, no cache,
no `last-account`) against the demo inbox served by a thread of this script
(`dminbox.fake.serve`), which records every request and when it came. Its
first paint is the newest conversation on screen; the requests are counted
before it and in the AFTER_PAINT seconds after it.

`unread-count --offline` runs the console script (`.venv/bin/dminbox`) with
this interpreter on the 10,000-row cache, twice over: through a stored
account (accounts.json) and through DMINBOX_INSTANCE/DMINBOX_TOKEN (the
`last-account` file). Each run is a fresh process, its wall time taken
around `subprocess.run`, like the baseline's.

Before anything, the dminbox package is byte-compiled (`compileall`), so no
process measured compiles its sources, as none would in an installed copy.

Also times, in this process, the cache reads behind the first screen.
Prints the figures and whether each claim holds; asserts nothing. Every
child (the apps, the stopped server) is ended by pid however the script ends.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import bare_app
from terminal_bytes import COLUMNS, LINES, Terminal, child_env

import dminbox
from dminbox.accounts import save_account
from dminbox.checks import normalise_instance
from dminbox.fake import FakeMastodon, serve
from dminbox.session import remember_account
from dminbox.store import Cache, PagingState, cache_path

from sample_rows import cloned_rows

BENCH = Path(__file__).resolve().parent
SIZES = (0, 10_000, 100_000)
CACHE_LIMIT = 200_000
"""Passed to the cache and the app alike, so nothing is pruned."""
BATCH = 10_000
"""Conversations per `put_conversations` call while building a cache."""
FIRST_SCREEN = 200
"""What the inbox reads from the cache before its first paint (`CACHE_BATCH`)."""
NEWEST = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TOKEN = "demo-token"
PAINT_TIMEOUT = 60.0
SETTLE = 0.5
"""Quiet after the first paint before reading VmHWM: start-up has finished drawing."""
QUIT_WAIT = 3.0
SAME_COST = 1.20
"""The claim's tolerance: 100,000 within 20% of 10,000."""
WARM_PAINT = 1.3
"""Issue #7: first paint from a warm cache within 1.3x of the bare Textual app."""
EMPTY_FRAME = 1.5
"""Issue #7: the empty-cache frame within 1.5x of the bare app."""
PEAK_MEMORY = 1.5
"""Issue #7: VmHWM at 10,000 cached within 1.5x of the bare app."""
QUICK_COUNT = 1.5
"""Issue #7: `unread-count --offline` within 1.5x of `python -c "import sqlite3"`."""
MEMORY_SIZE = 10_000
"""The cache size the memory and unread-count claims are judged at."""
COUNT_RUNS = 21
"""Timed runs of each command for the unread-count comparison (after 2 warm-ups)."""
COLD_RUNS = 3
"""Cold starts (empty cache, live server) measured."""
AFTER_PAINT = 1.0
"""Seconds after a cold start's first paint in which its requests are counted."""
CONVERSATIONS = "/api/v1/conversations"
XDG = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (the window title among them)
    r"|\x1b[ -/]*[0-~]"
)


@dataclass(frozen=True)
class Run:
    header_s: float
    """Until the header's title showed."""
    first_paint_s: float
    """Until the row text showed."""
    vmhwm_kib: int


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str]
    home: Path
    wait_for: str
    """Text on screen that means the first paint is done."""
    header: str
    """The title: Textual draws the header and footer a frame before the list's rows."""
    quit_keys: bytes
    runs: list[Run] = field(default_factory=list)


def compile_dminbox() -> None:
    """Up-to-date bytecode for every dminbox module, as an installed package has.

    Without it, a checkout run with PYTHONDONTWRITEBYTECODE (or with sources
    newer than their .pyc) compiles its modules again in every process, and
    every start-up measured here would pay for that.
    """
    compileall.compile_dir(str(Path(dminbox.__file__).parent), quiet=1)


# -- the fake server, held -------------------------------------------------------


@contextmanager
def held_server() -> Iterator[tuple[str, str]]:
    """(URL, id of `me`) of a fake server that is then stopped, so it never answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "dminbox.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        if not select.select([server.stdout], [], [], 30)[0]:
            raise RuntimeError("the fake server printed nothing in 30 s")
        url = server.stdout.readline().split()[-1]
        account_id = whoami(url)
        server.send_signal(signal.SIGSTOP)
        yield url, account_id
    finally:
        server.send_signal(signal.SIGCONT)  # a stopped process would not act on SIGTERM
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def whoami(url: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with no_proxy.open(request, timeout=10) as response:
        return str(json.load(response)["id"])


# -- the caches ------------------------------------------------------------------


def demo_rows() -> list[dict[str, Any]]:
    """The demo inbox's Conversation JSON, newest first, those with a last status."""
    rows = FakeMastodon.demo(now=NEWEST).conversation_rows()
    return [row for row in rows if isinstance(row.get("last_status"), dict)]


def first_row_text(base: list[dict[str, Any]]) -> str:
    """What the newest row shows first: its first participant's name."""
    account = base[0]["accounts"][0]
    name = account.get("display_name") or account["username"]
    if not (name.isascii() and name.isprintable()):
        raise RuntimeError(f"pick another marker than {name!r}")
    return name


@contextmanager
def redirected(env: dict[str, str]) -> Iterator[None]:
    """This process's XDG variables set as the child's, so `cache_path` finds the same files."""
    saved = {name: os.environ.get(name) for name in XDG}
    os.environ.update({name: env[name] for name in XDG})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_caches(
    root: Path, instance: str, account_id: str, sizes: list[int], base: list[dict[str, Any]]
) -> dict[int, tuple[dict[str, str], Path]]:
    """One home per size, its cache filled as a long-used dminbox would have left it.

    The caches grow one from the other (the 10,000 cache is copied, then 90,000
    older rows are added), so the newest rows are the same in every one.
    """
    homes: dict[int, tuple[dict[str, str], Path]] = {}
    previous: Path | None = None
    built = 0
    for size in sorted(sizes):
        home = root / f"cache-{size}"
        env = environment(home)
        with redirected(env):
            path = cache_path(instance, account_id)
            if previous is not None:
                path.parent.mkdir(parents=True, mode=0o700)
                shutil.copyfile(previous, path)
            cache = Cache.open(path, limit=CACHE_LIMIT)
            try:
                for start in range(built, size, BATCH):
                    cache.put_conversations(cloned_rows(base, start, min(BATCH, size - start)))
                if size:
                    cache.set_paging(
                        PagingState(
                            next_url=f"{instance}/api/v1/conversations?max_id={size - 1}",
                            prev_url=f"{instance}/api/v1/conversations?min_id={size}",
                            started=True,
                        )
                    )
                if cache.count() != size:
                    raise RuntimeError(f"the cache holds {cache.count()} rows, not {size}")
            finally:
                cache.close()
            remember_account(instance, TOKEN, account_id)
        homes[size] = (env, path)
        previous, built = path, size
    return homes


def environment(home: Path) -> dict[str, str]:
    """terminal_bytes's child environment (XDG folders under `home`), no proxy settings."""
    env = child_env(str(home), "truecolor")
    return {name: value for name, value in env.items() if "proxy" not in name.lower()}


# -- one run in a pseudo-terminal -------------------------------------------------


def chunk(fd: int, timeout: float) -> bytes | None:
    """What the program wrote within `timeout` (b"" if nothing); None once it has ended."""
    if not select.select([fd], [], [], timeout)[0]:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the pty reports EIO when the program is gone
        return None


def vmhwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


def measure(case: Case) -> Run:
    started = time.monotonic()
    terminal = Terminal(case.argv, case.env, str(case.home))
    try:
        header_s, first_paint_s = wait_for_paint(terminal, case, started)
        terminal.read_until_quiet(SETTLE, first_wait=SETTLE)
        memory = vmhwm_kib(terminal.pid)
        quit_gently(terminal, case.quit_keys)
    finally:
        terminal.kill()
    return Run(header_s, first_paint_s, memory)


def wait_for_paint(terminal: Terminal, case: Case, started: float) -> tuple[float, float]:
    """(header, first paint) in seconds since `started`, read off the program's output."""
    output = b""
    header_s = first_paint_s = None
    while first_paint_s is None:
        left = started + PAINT_TIMEOUT - time.monotonic()
        data = chunk(terminal.fd, max(0.0, left)) if left > 0 else None
        if not data:
            if data is None:
                tail = _ESCAPE.sub("", output.decode(errors="replace"))[-400:]
                raise RuntimeError(f"{case.name}: {case.wait_for!r} never showed: {tail!r}")
            continue
        now = time.monotonic() - started
        output += data
        screen = _ESCAPE.sub("", output.decode(errors="ignore"))
        if header_s is None and case.header in screen:
            header_s = now
        if case.wait_for in screen:
            first_paint_s = now
    return header_s or first_paint_s, first_paint_s


def quit_gently(terminal: Terminal, keys: bytes) -> None:
    """Presses the quit key and waits up to QUIT_WAIT for the end; `kill` does the rest."""
    terminal.send(keys)
    deadline = time.monotonic() + QUIT_WAIT
    while time.monotonic() < deadline:
        if chunk(terminal.fd, 0.05) is None or os.waitpid(terminal.pid, os.WNOHANG) != (0, 0):
            return


# -- a cold start against a live server, every request timed --------------------------


@contextmanager
def live_server() -> Iterator[tuple[str, FakeMastodon]]:
    """(URL, server) of the demo inbox, served on a loopback port by a thread of this process.

    The server keeps every request it gets in `requests`, stamped with the wall clock.
    """
    fake = FakeMastodon.demo(now=NEWEST)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            holder["server"] = loop.run_until_complete(serve(fake, port=0))
        except BaseException as error:
            holder["error"] = error
            raise
        finally:
            started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="live fake server", daemon=True)
    thread.start()
    if not started.wait(30) or "server" not in holder:
        raise RuntimeError(f"the live fake server did not start: {holder.get('error')!r}")
    try:
        yield holder["server"].url, fake
    finally:
        asyncio.run_coroutine_threadsafe(holder["server"].close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@dataclass(frozen=True)
class ColdRun:
    header_s: float
    first_paint_s: float
    """Until the newest conversation (from the server: the cache is empty) showed."""
    requests: list[tuple[float, str]]
    """(seconds since the fork, `METHOD path?query`) of every request the run sent."""

    def conversations(self, begin: float, end: float) -> int:
        """GET /api/v1/conversations requests received in [begin, end) seconds."""
        return sum(
            1
            for when, what in self.requests
            if begin <= when < end and what.split("?")[0] == f"GET {CONVERSATIONS}"
        )

    @property
    def before_paint(self) -> int:
        return self.conversations(float("-inf"), self.first_paint_s)

    @property
    def after_paint(self) -> int:
        return self.conversations(self.first_paint_s, self.first_paint_s + AFTER_PAINT)


def measure_cold(url: str, fake: FakeMastodon, home: Path, marker: str) -> ColdRun:
    """dminbox with nothing on disk: it asks the server who it is, then for the inbox."""
    home.mkdir()
    case = Case(
        "dminbox, cold start",
        [sys.executable, "-m", "dminbox", "--instance", url, "--token", TOKEN],
        environment(home),
        home,
        wait_for=marker,
        header="dminbox",
        quit_keys=b"q",
    )
    seen = len(fake.requests)
    started_wall, started = time.time(), time.monotonic()
    terminal = Terminal(case.argv, case.env, str(case.home))
    try:
        header_s, first_paint_s = wait_for_paint(terminal, case, started)
        terminal.read_for(AFTER_PAINT + 0.2)
        quit_gently(terminal, case.quit_keys)
    finally:
        terminal.kill()
    requests = []
    for request in list(fake.requests[seen:]):
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        what = f"{request.method} {request.path}" + (f"?{query}" if query else "")
        requests.append((request.received_at.timestamp() - started_wall, what))
    return ColdRun(header_s, first_paint_s, requests)


# -- `unread-count --offline` against a bare interpreter ------------------------------


@dataclass
class Command:
    name: str
    argv: list[str]
    env: dict[str, str]
    seconds: list[float] = field(default_factory=list)
    outputs: set[str] = field(default_factory=set)


def count_commands(
    root: Path, instance: str, account_id: str, env: dict[str, str]
) -> list[Command]:
    """The baseline, then `dminbox unread-count --offline` by stored account and by token.

    `env` is the home of the cache counted; the stored account gets a config folder of
    its own (accounts.json), the token variant finds the account in `last-account`.
    """
    script = Path(sys.executable).with_name("dminbox")
    dminbox = [sys.executable, str(script)] if script.exists() else [sys.executable, "-m"]
    if not script.exists():
        dminbox.append("dminbox")
    stored_env = {**env, "XDG_CONFIG_HOME": str(root / "count-stored-config")}
    with redirected(stored_env):
        host = instance.split("://", 1)[1].rsplit(":", 1)[0]
        save_account(f"me@{host}", instance, account_id, TOKEN)
    token_env = {**env, "DMINBOX_INSTANCE": instance, "DMINBOX_TOKEN": TOKEN}
    return [
        Command('python -c "import sqlite3"', [sys.executable, "-c", "import sqlite3"], env),
        Command(
            "unread-count --offline, stored account",
            [*dminbox, "unread-count", "--offline"],
            stored_env,
        ),
        Command(
            "unread-count --offline, DMINBOX_INSTANCE/TOKEN",
            [*dminbox, "unread-count", "--offline"],
            token_env,
        ),
    ]


def time_commands(commands: list[Command], home: Path, runs: int) -> None:
    """Runs the commands in turn, 2 warm-ups then `runs` timed rounds; fails on an error."""
    for round_ in range(runs + 2):
        for command in commands:
            begun = time.perf_counter()
            done = subprocess.run(
                command.argv,
                env=command.env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            elapsed = time.perf_counter() - begun
            if done.returncode != 0:
                raise RuntimeError(f"{command.name}: exit {done.returncode}: {done.stderr[-400:]}")
            command.outputs.add(done.stdout.strip())
            if round_ >= 2:
                command.seconds.append(elapsed)


# -- the cache reads behind the first screen, in this process ------------------------


def time_cache_reads(path: Path, repeats: int = 5) -> dict[str, float]:
    """Median seconds of opening the cache and of each read the inbox makes before its first
    paint, plus two it does not make (marked *): counting every row, counting the unread."""
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        begun = time.perf_counter()
        cache = Cache.open(path, limit=CACHE_LIMIT)
        samples.setdefault("Cache.open", []).append(time.perf_counter() - begun)
        try:
            reads: dict[str, Callable[[], object]] = {
                f"conversations({FIRST_SCREEN})": partial(cache.conversations, limit=FIRST_SCREEN),
                "paging()": cache.paging,
                "queued()": cache.queued,
                "unread_count() *": cache.unread_count,
                "count() *": cache.count,
            }
            for name, read in reads.items():
                begun = time.perf_counter()
                read()
                samples.setdefault(name, []).append(time.perf_counter() - begun)
        finally:
            cache.close()
    return {name: statistics.median(values) for name, values in samples.items()}


# -- the report --------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def report(cases: list[Case], reads: dict[int, dict[str, float]], sizes: list[int]) -> None:
    print(
        f"\nStart-up in a {COLUMNS}x{LINES} pty, TERM=xterm-256color; "
        f"median of {len(cases[0].runs)} runs per case (min..max)\n"
    )
    headers = ["case", "first paint ms", "header drawn ms", "VmHWM MiB"]
    lines = []
    for case in cases:
        paints = [r.first_paint_s for r in case.runs]
        mibs = [r.vmhwm_kib / 1024 for r in case.runs]
        lines.append(
            [
                case.name,
                f"{ms(statistics.median(paints))} ({ms(min(paints))}..{ms(max(paints))})",
                ms(statistics.median(r.header_s for r in case.runs)),
                f"{statistics.median(mibs):.1f} ({min(mibs):.1f}..{max(mibs):.1f})",
            ]
        )
    table(headers, lines)
    print("\nEvery run, first paint ms:")
    for case in cases:
        print(f"  {case.name}: {' '.join(ms(r.first_paint_s) for r in case.runs)}")

    print("\nThe cache reads behind the first screen, in this process (median ms of 5):")
    names = list(next(iter(reads.values())))
    print("  " + "".ljust(22) + "".join(f"{size:>12,}" for size in sizes))
    for name in names:
        print("  " + name.ljust(22) + "".join(f"{reads[s][name] * 1000:>12.2f}" for s in sizes))
    print("  * not read at start-up: the title counts the unread rows it has loaded")

    by_size = {size: case for size, case in zip(sizes, cases[1:], strict=True)}
    counted = sorted(size for size in sizes if size)
    if len(counted) < 2:
        return
    small, big = by_size[counted[-2]], by_size[counted[-1]]
    ratio = paint(big) / paint(small)
    verdict = "HOLDS" if ratio <= SAME_COST else "FAILS"
    print(
        f"\nClaim: first paint with {counted[-1]:,} cached costs about the same as with "
        f"{counted[-2]:,} (within {SAME_COST - 1:.0%}): {verdict} "
        f"(ratio {ratio:.2f}: {ms(paint(big))} ms vs {ms(paint(small))} ms)"
    )
    print(
        f"Peak memory, {counted[-1]:,} against {counted[-2]:,}: ratio "
        f"{memory(big) / memory(small):.2f} ({memory(big):.1f} MiB vs {memory(small):.1f} MiB)"
    )
    bare = cases[0]
    print(
        f"dminbox at {counted[-1]:,} over the bare Textual app: "
        f"+{ms(paint(big) - paint(bare))} ms, +{memory(big) - memory(bare):.1f} MiB"
    )


def paint(case: Case) -> float:
    return statistics.median(run.first_paint_s for run in case.runs)


def memory(case: Case) -> float:
    """Median VmHWM in MiB."""
    return statistics.median(run.vmhwm_kib for run in case.runs) / 1024


def table(headers: list[str], lines: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [headers, *lines]) for i in range(len(headers))]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print("-|-".join("-" * w for w in widths))
    for row in lines:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def report_cold(runs: list[ColdRun]) -> None:
    print(
        f"\nCold start (fresh home, live demo server), {len(runs)} runs: every request, "
        "ms since the fork (| marks the first paint)"
    )
    for number, run in enumerate(runs, 1):
        print(
            f"  run {number}: header {ms(run.header_s)} ms, "
            f"first paint {ms(run.first_paint_s)} ms; "
            f"{CONVERSATIONS}: {run.before_paint} before the paint, "
            f"{run.after_paint} in the {AFTER_PAINT:.0f} s after"
        )
        painted = False
        for when, what in run.requests:
            if not painted and when >= run.first_paint_s:
                print(f"    {ms(run.first_paint_s):>6} | first paint")
                painted = True
            print(f"    {ms(when):>6}   {what}")
        if not painted:
            print(f"    {ms(run.first_paint_s):>6} | first paint")


def report_commands(commands: list[Command]) -> None:
    base = commands[0]
    print(
        f"\nOne command, a fresh process each time: median wall ms of {len(base.seconds)} runs "
        "(min..max), taken in turns"
    )
    lines = []
    for command in commands:
        lines.append(
            [
                command.name,
                f"{ms(statistics.median(command.seconds))} "
                f"({ms(min(command.seconds))}..{ms(max(command.seconds))})",
                f"{statistics.median(command.seconds) / statistics.median(base.seconds):.2f}",
                ", ".join(sorted(command.outputs)) or "-",
            ]
        )
    table(["command", "wall ms", "ratio", "printed"], lines)


def report_claims(
    cases: list[Case], sizes: list[int], cold: list[ColdRun], commands: list[Command]
) -> None:
    """The start-up claims of issue #7, each judged against its baseline of this run."""
    bare = cases[0]
    by_size = {size: case for size, case in zip(sizes, cases[1:], strict=True)}
    rows: list[list[str]] = []

    def claim(text: str, ratio: float, limit: float, figures: str) -> None:
        verdict = "HOLDS" if ratio <= limit else "FAILS"
        rows.append([text, f"{ratio:.2f} (<= {limit})", verdict, figures])

    for size in (10_000, 100_000):
        if size in by_size:
            case = by_size[size]
            claim(
                f"first paint, {size:,} cached / bare app",
                paint(case) / paint(bare),
                WARM_PAINT,
                f"{ms(paint(case))} / {ms(paint(bare))} ms",
            )
    if 0 in by_size:
        case = by_size[0]
        claim(
            "empty-cache frame / bare app",
            paint(case) / paint(bare),
            EMPTY_FRAME,
            f"{ms(paint(case))} / {ms(paint(bare))} ms",
        )
    base = commands[0]
    for command in commands[1:]:
        mine, theirs = statistics.median(command.seconds), statistics.median(base.seconds)
        claim(
            f"{command.name.removeprefix('unread-count --offline, ')}: unread-count "
            "--offline / python -c 'import sqlite3'",
            mine / theirs,
            QUICK_COUNT,
            f"{ms(mine)} / {ms(theirs)} ms",
        )
    if MEMORY_SIZE in by_size:
        case = by_size[MEMORY_SIZE]
        claim(
            f"VmHWM, {MEMORY_SIZE:,} cached / bare app",
            memory(case) / memory(bare),
            PEAK_MEMORY,
            f"{memory(case):.1f} / {memory(bare):.1f} MiB",
        )
    if cold:
        before = sorted(run.before_paint for run in cold)
        after = sorted(run.after_paint for run in cold)
        verdict = "HOLDS" if before == [1] * len(cold) else "FAILS"
        rows.append(
            [
                f"cold start: {CONVERSATIONS} requests before the first paint",
                f"{'/'.join(map(str, before))} (== 1)",
                verdict,
                f"{'/'.join(map(str, after))} in the {AFTER_PAINT:.0f} s after it",
            ]
        )
    print("\nIssue #7, start-up, each against its baseline of this run:")
    table(["claim", "ratio (limit)", "verdict", "figures"], rows)


def make_cases(
    root: Path, instance: str, homes: dict[int, tuple[dict[str, str], Path]], marker: str
) -> list[Case]:
    """The bare app first, then dminbox on each cache."""
    bare_home = root / "bare"
    bare_home.mkdir()
    cases = [
        Case(
            "bare Textual app, 40 rows",
            [sys.executable, str(BENCH / "bare_app.py")],
            environment(bare_home),
            bare_home,
            wait_for=bare_app.FIRST_ROW,
            header=bare_app.TITLE,
            quit_keys=b"\x11",  # ctrl+q
        )
    ]
    dminbox = [sys.executable, "-m", "dminbox", "--instance", instance, "--token", TOKEN]
    for size, (env, _) in homes.items():
        cases.append(
            Case(
                f"dminbox, {size:,} cached" if size else "dminbox, empty cache",
                [*dminbox, "--cache-limit", str(CACHE_LIMIT)],
                env,
                Path(env["XDG_CACHE_HOME"]).parent,
                wait_for=marker if size else "dminbox",
                header="dminbox",
                quit_keys=b"q",
            )
        )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="cached conversations per case, comma-separated (default 0,10000,100000)",
    )
    args = parser.parse_args()
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    started = time.monotonic()
    compile_dminbox()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="dminbox-startup-") as root,
        held_server() as (url, account_id),
    ):
        instance = normalise_instance(url)
        base = demo_rows()
        marker = first_row_text(base)
        print(f"fake server {instance} stopped (SIGSTOP); me = {account_id}", flush=True)
        building = time.monotonic()
        homes = build_caches(Path(root), instance, account_id, sizes, base)
        print(
            f"caches built in {time.monotonic() - building:.0f} s: "
            + ", ".join(
                f"{n:,} rows {p.stat().st_size / 2**20:.0f} MiB" for n, (_, p) in homes.items()
            ),
            flush=True,
        )
        reads = {size: time_cache_reads(path) for size, (_, path) in homes.items()}

        cases = make_cases(Path(root), instance, homes, marker)
        for case in cases:
            print(f"warm-up: {case.name}", flush=True)
            measure(case)
        for round_ in range(1, args.runs + 1):
            print(f"round {round_} of {args.runs}", flush=True)
            for case in cases:
                case.runs.append(measure(case))

        counted = MEMORY_SIZE if MEMORY_SIZE in homes else max(homes)
        print(f"unread-count --offline at {counted:,} cached, {COUNT_RUNS} rounds", flush=True)
        env, _ = homes[counted]
        commands = count_commands(Path(root), instance, account_id, env)
        time_commands(commands, Path(root), COUNT_RUNS)

        cold: list[ColdRun] = []
        with live_server() as (live_url, fake):
            print(f"cold starts against the live demo server {live_url}", flush=True)
            for number in range(COLD_RUNS):
                cold.append(measure_cold(live_url, fake, Path(root) / f"cold-{number}", marker))
    report(cases, reads, sizes)
    report_commands(commands)
    report_cold(cold)
    report_claims(cases, sizes, cold, commands)
    print(
        f"\nRun time {time.monotonic() - started:.0f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    main()
