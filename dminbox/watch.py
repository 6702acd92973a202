"""`dminbox watch`: the inbox's changes as they happen, one JSON line each, for scripts.

    {"event": "conversation", "conversation": {...}}   new, or changed: as the API gives it
    {"event": "read", "id": "..."}                      only its read state changed, to read
    {"event": "delete", "status_id": "..."}             a status was deleted

With `--unread-count`, the number of unread conversations instead: once at the
start, then each time it changes. Each line is ASCII JSON (what a stranger
wrote stays inert in a terminal), written and flushed as it comes.

It is the app's engine with its live stream (`dminbox.engine.live`): the same
reconnects with backoff, the same gap filled from page 1's `prev` link after
each one, the same polling where no stream can be had; `Live.on_event` hands
over each conversation as the server sent it. A conversation heard again
unchanged (a gap filled twice) is not printed twice. It runs until SIGINT or
SIGTERM (exit 0, quietly) or until nobody reads stdout any more (exit 0); a
refused token is one line on stderr and exit 1. The engine's warnings (polling
instead of the stream, say) are one line each on stderr; a server out of reach
is tried again quietly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import stat
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from dminbox.engine import Engine, Notice, TokenRefused
from dminbox.engine.reconcile import last_id
from dminbox.session import open_engine
from dminbox.text import one_line

if TYPE_CHECKING:
    from dminbox.config import Settings
    from dminbox.engine import Change
    from dminbox.streaming import StreamEvent

__all__ = ["Watcher", "watch"]

EXIT_FAILED = 1


def watch(settings: Settings, *, unread_count: bool = False, transport: Any = None) -> int:
    """Prints the inbox's changes until interrupted; see the module's docstring."""
    try:
        engine = open_engine(settings, transport=transport)
        return asyncio.run(run(engine, sys.stdout, unread_count=unread_count))
    except KeyboardInterrupt:  # before the signal handlers were in place
        return 0


async def run(engine: Engine, out: IO[str], *, unread_count: bool = False) -> int:
    """Watches `engine` (not started yet) and writes to `out` until told to stop; closes
    the engine. Returns the exit code."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    def finish(code: int) -> None:
        if not done.done():
            done.set_result(code)

    watcher = Watcher(engine, out, finish, unread_count=unread_count)
    handled = []
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, finish, 0)
            handled.append(number)
    reader_gone = _notice_reader_gone(loop, out, watcher.closed)
    try:
        await engine.start()
        engine.connect()
        await engine.idle()  # caught up: page 1 read (or the failure known)
        if not done.done():
            watcher.started()
        return await done
    finally:
        for number in handled:
            loop.remove_signal_handler(number)
        if reader_gone is not None:
            loop.remove_reader(reader_gone)
        await engine.close()


class Watcher:
    """Turns the engine's news into lines on `out`, and says when to stop (`finish`)."""

    def __init__(
        self,
        engine: Engine,
        out: IO[str],
        finish: Callable[[int], None],
        *,
        unread_count: bool = False,
    ) -> None:
        self.engine = engine
        self.out = out
        self.finish = finish
        self.unread_count = unread_count
        self.known: dict[str, tuple[str | None, bool]] = {}
        """Each conversation seen: (its last status, unread), to print changes only."""
        self._count: int | None = None
        self._closed = False
        engine.observe(self.changed)
        if not unread_count:
            engine.live.on_event.append(self.heard)

    def started(self) -> None:
        """The engine caught up: what it holds is what later lines are changes to."""
        for conversation in self.engine.inbox:
            self.known.setdefault(conversation.id, (last_id(conversation), conversation.unread))
        if self.unread_count:
            self._say_count()

    # -- what the engine says ------------------------------------------------------

    def changed(self, change: Change) -> None:
        if isinstance(change, TokenRefused):
            self._error(change.reason)
            self.finish(EXIT_FAILED)
        elif isinstance(change, Notice) and change.severity != "information":
            self._error(change.text)
        if self.unread_count and self._count is not None:
            self._say_count()

    def heard(self, event: StreamEvent) -> None:
        if event.kind == "delete" and event.status_id is not None:
            self._line({"event": "delete", "status_id": event.status_id})
            return
        raw = event.conversation
        if event.kind != "conversation" or raw is None:
            return
        conversation_id = str(raw.get("id"))
        status = raw.get("last_status")
        now = (
            str(status["id"]) if isinstance(status, dict) and "id" in status else None,
            raw.get("unread") is True,
        )
        before = self.known.get(conversation_id)
        self.known[conversation_id] = now
        if before == now:
            return  # heard again (a gap filled after the stream told it)
        if before is not None and before[0] == now[0] and before[1] and not now[1]:
            self._line({"event": "read", "id": conversation_id})
        else:
            self._line({"event": "conversation", "conversation": raw})

    # -- output ----------------------------------------------------------------------

    def _say_count(self) -> None:
        count = self.engine.unread_count
        if count != self._count:
            self._count = count
            self._write(str(count))

    def _line(self, data: dict[str, Any]) -> None:
        # ASCII escapes: control and bidi characters a stranger wrote stay inert.
        self._write(json.dumps(data, ensure_ascii=True, separators=(",", ":")))

    def _write(self, text: str) -> None:
        if self._closed:
            return
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):  # the reader went away (or closed stdout)
            self.closed()

    def closed(self) -> None:
        """Nobody reads any more: stop, and let nothing complain at exit."""
        if not self._closed:
            self._closed = True
            _silence(self.out)
        self.finish(0)

    @staticmethod
    def _error(text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            print(f"dminbox: {one_line(text)}", file=sys.stderr, flush=True)


def _silence(out: IO[str]) -> None:
    """What is left in `out` goes nowhere (Python would flush it at exit, and complain)."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


def _notice_reader_gone(
    loop: asyncio.AbstractEventLoop, out: IO[str], gone: Callable[[], None]
) -> int | None:
    """When `out` is a pipe, its reader going away is noticed at once, not at the next
    line (`dminbox watch | head -1` ends with `head`). Returns the descriptor watched."""
    try:
        descriptor = out.fileno()
        if not stat.S_ISFIFO(os.fstat(descriptor).st_mode) or not hasattr(select, "poll"):
            return None
    except (OSError, ValueError, AttributeError):
        return None

    def check() -> None:
        loop.remove_reader(descriptor)  # once: a pipe's writing end is never readable
        poll = select.poll()
        poll.register(descriptor, select.POLLOUT)
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0)):
            gone()

    try:
        loop.add_reader(descriptor, check)
    except (OSError, ValueError, NotImplementedError):
        return None
    return descriptor
