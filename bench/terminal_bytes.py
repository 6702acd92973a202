"""Bytes written to a 120x40 terminal: `dminbox --demo` against a stock OptionList, over a pty.

    .venv/bin/python bench/terminal_bytes.py [--colors truecolor|256]

Each program runs in its own pseudo-terminal (120x40, TERM=xterm-256color,
COLORTERM=truecolor by default or unset with `--colors 256`, XDG folders in a
temporary directory). This script plays a terminal that never answers
Textual's queries, so Textual uses no synchronized-output markers. It counts
every byte the program writes:

- after start-up, once the output has been quiet for 1.5 s: 3 s of idle;
- per cursor move: a key, then everything written until 0.5 s of quiet,
  20 times, all within the rows on screen (dminbox gets `j`, the OptionList
  its own down arrow);
- the jump to the last loaded row (`G` / End), which repaints the list and,
  by the near-end rule both follow, appends the next pages (120 -> 160 -> 183
  rows in the demo); then the same jump again, when nothing is left to load.

Prints both programs side by side and whether the claims hold; asserts
nothing. The children are killed (by pid) however the script ends.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ansi import describe

COLUMNS, LINES = 120, 40
START_QUIET = 1.5
QUIET = 0.5
IDLE_SECONDS = 3.0
MOVES = 20
MOVE_LIMIT = 1024
"""The claim: a one-row cursor move writes under 1 KB."""
BURST_GAP = 0.005
BENCH = Path(__file__).resolve().parent


@dataclass
class Capture:
    """What a program wrote, in bursts: reads under 5 ms apart join one burst (about a frame)."""

    bursts: list[bytes] = field(default_factory=list)
    _last: float = float("-inf")

    def add(self, chunk: bytes) -> None:
        now = time.monotonic()
        if self.bursts and now - self._last < BURST_GAP:
            self.bursts[-1] += chunk
        else:
            self.bursts.append(chunk)
        self._last = now

    @property
    def data(self) -> bytes:
        return b"".join(self.bursts)

    def __len__(self) -> int:
        return sum(map(len, self.bursts))


class Terminal:
    """A program on a pseudo-terminal of a fixed size, and everything it writes."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become the program
            try:
                size = struct.pack("HHHH", LINES, COLUMNS, 0, 0)
                fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, size)
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd

    def read_for(self, seconds: float) -> Capture:
        """Everything written during `seconds`."""
        capture = Capture()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if chunk := self._read(left):
                capture.add(chunk)
        return capture

    def read_until_quiet(self, quiet: float, first_wait: float = 5.0) -> Capture:
        """Everything written until nothing came for `quiet` seconds (waits for a first byte)."""
        capture = Capture()
        chunk = self._read(first_wait)
        while chunk:
            capture.add(chunk)
            chunk = self._read(quiet)
        return capture

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.fd, 65536)
        except OSError:  # the program ended: the pty reports EIO
            time.sleep(timeout)
            return b""

    def kill(self) -> None:
        """Ends the program (SIGTERM, then SIGKILL after 2 s) and closes the pty."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self._ended():
                break
            os.kill(self.pid, sig)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and not self._ended():
                self._read(0.05)  # keep draining: a program blocked on a write may not die
        os.close(self.fd)

    def _ended(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) != (0, 0)
        except ChildProcessError:
            return True


@contextmanager
def running(argv: list[str], env: dict[str, str], cwd: str) -> Iterator[Terminal]:
    terminal = Terminal(argv, env, cwd)
    try:
        yield terminal
    finally:
        terminal.kill()


@dataclass
class Figures:
    startup: Capture = field(default_factory=Capture)
    idle: Capture = field(default_factory=Capture)
    moves: list[Capture] = field(default_factory=list)
    jump: Capture = field(default_factory=Capture)
    jump_again: Capture = field(default_factory=Capture)


def measure(argv: list[str], env: dict[str, str], cwd: str, down: bytes, last: bytes) -> Figures:
    figures = Figures()
    with running(argv, env, cwd) as terminal:
        figures.startup = terminal.read_until_quiet(START_QUIET, first_wait=30)
        figures.idle = terminal.read_for(IDLE_SECONDS)
        for _ in range(MOVES):
            terminal.send(down)
            figures.moves.append(terminal.read_until_quiet(QUIET))
        terminal.send(last)
        figures.jump = terminal.read_until_quiet(QUIET)
        terminal.send(last)
        figures.jump_again = terminal.read_until_quiet(QUIET)
    return figures


def child_env(home: str, colors: str) -> dict[str, str]:
    """The environment a user's shell would give: no Textual settings, a UTF-8 locale."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TEXTUAL", "DMINBOX", "XDG_"))
        and name not in ("COLORTERM", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")
    }
    env |= {"TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if colors == "truecolor":
        env["COLORTERM"] = "truecolor"
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[name] = str(Path(home) / name.lower())
    return env


def report(results: dict[str, Figures], colors: str) -> None:
    names = list(results)
    color_note = "COLORTERM=truecolor" if colors == "truecolor" else "COLORTERM unset (256 colors)"
    print(f"\nBytes written to a {COLUMNS}x{LINES} terminal, TERM=xterm-256color, {color_note}\n")
    rows = [
        ("start-up, until 1.5 s quiet", lambda f: len(f.startup)),
        (f"idle, {IDLE_SECONDS:.0f} s", lambda f: len(f.idle)),
        (f"cursor move, median of {MOVES}", lambda f: statistics.median(map(len, f.moves))),
        (f"cursor move, max of {MOVES}", lambda f: max(map(len, f.moves))),
        ("jump to last + pages appended", lambda f: len(f.jump)),
        ("the jump again (nothing to load)", lambda f: len(f.jump_again)),
    ]
    widths = [32, *(max(16, len(n)) for n in names)]
    print(" | ".join(h.ljust(w) for h, w in zip(["", *names], widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for label, cell in rows:
        cells = [label, *(f"{cell(results[n]):,.0f} B" for n in names)]
        print(" | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))

    print("\nWhat was painted, burst by burst (screen rows and columns counted from 1):")
    for name in names:
        figures = results[name]
        print(f"  {name}")
        shown = [
            ("one cursor move (the 10th)", figures.moves[9]),
            ("jump + pages", figures.jump),
            ("the jump again", figures.jump_again),
        ]
        for label, capture in shown:
            print(f"    {label}: {len(capture.bursts)} burst(s)")
            for burst in capture.bursts:
                print(f"      {len(burst):7,} B  {describe(burst.decode(errors='replace'))}")

    mine = results[names[0]]
    worst = max(len(m) for m in mine.moves)
    move_ok = worst < MOVE_LIMIT
    print(
        f"\nClaim: a cursor move writes under 1 KB: {'HOLDS' if move_ok else 'FAILS'}"
        f" (dminbox max {worst:,} B over {MOVES} moves)"
    )
    print(
        "Claim: an idle app writes nothing: "
        + ("HOLDS" if not mine.idle else f"FAILS ({len(mine.idle):,} B in {IDLE_SECONDS:.0f} s)")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--colors", choices=("truecolor", "256"), default="truecolor")
    args = parser.parse_args()
    started = time.monotonic()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    programs = {
        "dminbox --demo": ([sys.executable, "-m", "dminbox", "--demo"], b"j", b"G"),
        "stock OptionList": (
            [sys.executable, str(BENCH / "baseline_optionlist.py")],
            b"\x1b[B",  # down
            b"\x1b[F",  # end
        ),
    }
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="dminbox-bench-") as home:
        env = child_env(home, args.colors)
        for name, (argv, down, last) in programs.items():
            print(f"measuring {name}…", flush=True)
            results[name] = measure(argv, env, home, down, last)
    report(results, args.colors)
    print(
        f"Run time {time.monotonic() - started:.0f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    main()
