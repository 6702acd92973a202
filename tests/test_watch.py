"""`dminbox watch`: one JSON line per change, through the engine and as a process.

The engine tests drive `dminbox.watch.run` on the fake server in-process and
read what it writes; the process tests run `python -m dminbox watch` against
the fake on a loopback socket and read its stdout as messages are posted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dminbox.clock import ManualClock
from dminbox.engine import Engine
from dminbox.fake import FakeMastodon, serve
from dminbox.watch import run

from conftest import LIST, NOW, list_requests, make_engine

LINE_TIMEOUT = 2.0


def person(server: FakeMastodon, username: str) -> dict:
    record = server.state.find_account(username, None, local_only=False)
    assert record is not None, username
    return server.account(record.id)


def row(server: FakeMastodon, conversation_id: str) -> dict:
    return next(r for r in server.conversation_rows() if r["id"] == conversation_id)


class Out:
    """A stdout that keeps the lines written, and can be told its reader went away."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.broken = False
        self._news = asyncio.Event()
        self._buffer = ""

    def write(self, text: str) -> int:
        if self.broken:
            raise BrokenPipeError(32, "Broken pipe")
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        self.lines.extend(lines)
        self._news.set()
        return len(text)

    def flush(self) -> None:
        if self.broken:
            raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        raise OSError("no descriptor")

    async def line(self, number: int) -> str:
        """The `number`th line (from 0), once written."""
        async with asyncio.timeout(LINE_TIMEOUT):
            while len(self.lines) <= number:
                self._news.clear()
                await self._news.wait()
        return self.lines[number]

    async def json(self, number: int) -> Any:
        return json.loads(await self.line(number))


@asynccontextmanager
async def watching(
    server: FakeMastodon, *, unread_count: bool = False
) -> AsyncIterator[tuple[Engine, Out, asyncio.Task[int]]]:
    engine = make_engine(server, live=True)
    out = Out()
    task = asyncio.create_task(run(engine, out, unread_count=unread_count))  # type: ignore[arg-type]
    try:
        await server.stream.wait_for_connections(1, timeout=2.0)
        async with asyncio.timeout(2.0):
            while engine.live.state != "live":
                await asyncio.sleep(0.005)
        yield engine, out, task
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert engine._closed, "the engine is closed on the way out"


async def read_elsewhere(server: FakeMastodon, conversation_id: str) -> None:
    async with httpx.AsyncClient(transport=server.transport()) as other:
        answer = await other.post(
            f"{server.base_url}{LIST}/{conversation_id}/read",
            headers={"Authorization": f"Bearer {server.token}"},
        )
        assert answer.status_code == 200


# -- through the engine -----------------------------------------------------------------


async def test_a_new_message_a_read_and_a_delete_are_one_line_each() -> None:
    server = FakeMastodon.demo(now=NOW)
    async with watching(server) as (engine, out, _task):
        assert out.lines == [], "nothing at the start: only changes"
        alice = person(server, "alice")
        thread = next(r for r in server.conversation_rows() if r["accounts"] == [alice])
        status = server.post_status(
            alice,
            "lunch? \u202eevil",
            mentions=[server.me],
            in_reply_to_id=thread["last_status"]["id"],
        )
        line = await out.line(0)
        assert line.isascii(), "ASCII JSON: what a stranger wrote stays inert"
        first = json.loads(line)
        conversation_id = first["conversation"]["id"]
        assert first == {"event": "conversation", "conversation": row(server, conversation_id)}
        assert first["conversation"]["last_status"]["id"] == status["id"]
        await read_elsewhere(server, conversation_id)
        assert await out.json(1) == {"event": "read", "id": conversation_id}
        server.delete_status(status["id"])
        assert await out.json(2) == {"event": "delete", "status_id": status["id"]}
        moved_back = await out.json(3)  # the row's last message is an older one now
        assert moved_back["event"] == "conversation"
        assert moved_back["conversation"] == row(server, conversation_id)


async def test_marked_unread_again_is_a_changed_conversation() -> None:
    server = FakeMastodon.demo(now=NOW)
    async with watching(server) as (engine, out, _task):
        target = next(c for c in engine.inbox if not c.unread)
        async with httpx.AsyncClient(transport=server.transport()) as other:
            answer = await other.post(
                f"{server.base_url}{LIST}/{target.id}/unread",
                headers={"Authorization": f"Bearer {server.token}"},
            )
            assert answer.status_code == 200
        changed = await out.json(0)
        assert changed["event"] == "conversation"
        assert (changed["conversation"]["id"], changed["conversation"]["unread"]) == (
            target.id,
            True,
        )


async def test_a_drop_reconnects_and_what_came_meanwhile_is_printed_once() -> None:
    server = FakeMastodon.demo(now=NOW)
    async with watching(server) as (engine, out, _task):
        heard = server.post_status(person(server, "alice"), "before", mentions=[server.me])
        assert (await out.json(0))["conversation"]["last_status"]["id"] == heard["id"]
        server.stream.drop()
        async with asyncio.timeout(2.0):
            while engine.live.state != "connecting":
                await asyncio.sleep(0.005)
        missed = server.post_status(person(server, "tomasz"), "meanwhile", mentions=[server.me])
        before = len(list_requests(server))
        assert isinstance(engine.clock, ManualClock)
        engine.clock.advance(2.0)  # the first backoff
        await server.stream.wait_for_connections(2, timeout=2.0)
        filled = await out.json(1)
        assert filled["event"] == "conversation"
        assert filled["conversation"]["last_status"]["id"] == missed["id"]
        assert all("min_id=" in url for url in list_requests(server)[before:])
        again = server.post_status(person(server, "alice"), "after", mentions=[server.me])
        after = await out.json(2)
        assert after["conversation"]["last_status"]["id"] == again["id"], (
            "the row heard before the drop is not printed again by the gap fill"
        )
        assert len(out.lines) == 3


async def test_unread_count_prints_the_count_at_the_start_and_as_it_changes() -> None:
    server = FakeMastodon.demo(now=NOW)
    async with watching(server, unread_count=True) as (engine, out, _task):
        start = int(await out.line(0))
        assert start == engine.unread_count > 0
        target = next(c for c in engine.inbox if not c.unread)
        assert target.last_status is not None
        server.post_status(
            row(server, target.id)["accounts"][0],
            "hello again",
            mentions=[server.me],
            in_reply_to_id=target.last_status.id,
        )
        assert int(await out.line(1)) == start + 1
        await read_elsewhere(server, target.id)
        assert int(await out.line(2)) == start
        unread = next(c for c in engine.inbox if c.unread and c.id != target.id)
        assert unread.last_status is not None
        server.post_status(  # still unread: the same count, no line
            row(server, unread.id)["accounts"][0],
            "and another",
            mentions=[server.me],
            in_reply_to_id=unread.last_status.id,
        )
        await read_elsewhere(server, target.id)  # no change of the count: no line
        await read_elsewhere(server, unread.id)
        assert int(await out.line(3)) == start - 1
        assert len(out.lines) == 4, out.lines


async def test_the_reader_going_away_ends_it_with_0() -> None:
    server = FakeMastodon.demo(now=NOW)
    async with watching(server) as (engine, out, task):
        out.broken = True
        server.post_status(person(server, "alice"), "anyone?", mentions=[server.me])
        async with asyncio.timeout(2.0):
            assert await task == 0
        assert engine._closed


async def test_a_refused_token_is_one_line_and_exit_1(capsys) -> None:
    server = FakeMastodon.demo(now=NOW)
    engine = make_engine(server, live=True, token="not-a-token")
    out = Out()
    async with asyncio.timeout(2.0):
        code = await run(engine, out)  # type: ignore[arg-type]
    assert code == 1
    assert out.lines == []
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and errors[0].startswith("dminbox: "), errors


# -- as a process, over a socket -------------------------------------------------------


@dataclass
class Watch:
    """`dminbox watch` running, its stdout a pipe this test reads (and may close)."""

    child: asyncio.subprocess.Process
    stdout: asyncio.StreamReader
    pipe: asyncio.ReadTransport

    async def line(self, timeout: float = 10.0) -> str:
        async with asyncio.timeout(timeout):
            line = await self.stdout.readline()
        assert line.endswith(b"\n"), line
        return line.decode("ascii").rstrip("\n")

    async def ended(self) -> tuple[int, bytes]:
        """Its exit code and all it wrote on stderr."""
        assert self.child.stderr is not None
        async with asyncio.timeout(10.0):
            errors = await self.child.stderr.read()
            return await self.child.wait(), errors


@asynccontextmanager
async def process(server: FakeMastodon, *arguments: str) -> AsyncIterator[Watch]:
    listener = await serve(server)
    environment = {**os.environ, "DMINBOX_INSTANCE": listener.url, "DMINBOX_TOKEN": server.token}
    read_end, write_end = os.pipe()
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dminbox",
            "watch",
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
    finally:
        os.close(write_end)
    stdout = asyncio.StreamReader()
    pipe, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(stdout), os.fdopen(read_end, "rb", buffering=0)
    )
    try:
        yield Watch(child, stdout, pipe)
    finally:
        pipe.close()
        if child.returncode is None:
            child.kill()
            await child.wait()
        await listener.close()


@pytest.mark.parametrize(
    "how", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
)
async def test_the_command_prints_messages_as_they_are_posted(how: signal.Signals) -> None:
    server = FakeMastodon.demo(now=NOW)
    async with process(server) as watch:
        await server.stream.wait_for_connections(1, timeout=10.0)
        for text in ("one", "two"):
            status = server.post_status(person(server, "alice"), text, mentions=[server.me])
            event = json.loads(await watch.line())
            assert event["event"] == "conversation"
            assert event["conversation"]["last_status"]["id"] == status["id"]
        watch.child.send_signal(how)
        assert await watch.ended() == (0, b""), "quietly"


async def test_the_command_counts_unread_and_ends_when_stdout_closes() -> None:
    server = FakeMastodon.demo(now=NOW)
    unread = sum(1 for r in server.conversation_rows()[:40] if r["unread"])
    async with process(server, "--unread-count") as watch:
        assert await watch.line() == str(unread)
        await server.stream.wait_for_connections(1, timeout=10.0)
        server.post_status(server.add_account("zoe", "Zoë"), "hi!", mentions=[server.me])
        assert await watch.line() == str(unread + 1)
        watch.pipe.close()  # the reader goes away: noticed at once, with no line to write
        assert await watch.ended() == (0, b"")
