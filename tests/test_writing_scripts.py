"""`dminbox reply` and `dminbox send`, run through `dminbox.cli.main` against the fake server
(its transport handed in where `--demo` would hand in its own), and once as real processes
against the fake on a loopback port."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from dminbox import cli, paths
from dminbox.fake import FakeMastodon, Fault, serve
from dminbox.store import Cache

from conftest import NOW, list_requests

STATUSES = "/api/v1/statuses"
HOST = "fake.dminbox.invalid"


# -- the world, and running a command ----------------------------------------------


class World:
    """Me, alice and bob (local), carol (on example.org), and a few conversations."""

    def __init__(self, **options: Any) -> None:
        self.server = FakeMastodon(**options)
        server = self.server
        self.alice = server.add_account("alice", "Alice")
        self.bob = server.add_account("bob", "Bob")
        self.carol = server.add_account("carol", "Carol", "example.org")
        self.opening = server.post_status(
            self.alice, "dinner on friday?", mentions=[server.me, self.bob]
        )
        self.last = server.post_status(
            self.bob, "yes!", mentions=[server.me, self.alice], in_reply_to_id=self.opening["id"]
        )
        self.note = server.post_status(server.me, "a note to myself", mentions=[])
        self.secret = server.post_status(
            self.carol, "the surprise", mentions=[server.me], spoiler_text="party plans"
        )
        self.group = str(self.row_of(self.last)["id"])
        """The conversation of me, alice and bob."""

    def row_of(self, status: dict) -> dict:
        """My conversation whose last message is `status`."""
        return next(
            r for r in self.server.conversation_rows() if r["last_status"]["id"] == status["id"]
        )

    def posts(self) -> list[Any]:
        return [r for r in self.server.requests if r.method == "POST" and r.path == STATUSES]

    def mine(self, text: str) -> list[dict]:
        """The statuses on the server, by me, whose text contains `text`."""
        me = self.server.me["id"]
        return [
            self.server.status(s.id)
            for s in self.server.state.statuses.values()
            if s.account_id == me and text in s.text
        ]

    def outbox(self) -> list[Any]:
        """What the app's outbox holds for me (the cache on disk)."""
        path = paths.cache_path(self.server.base_url, self.server.me["id"])
        if not path.exists():
            return []
        cache = Cache.open(path)
        try:
            return cache.queued()
        finally:
            cache.close()


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def world(monkeypatch) -> World:
    """A world whose transport every command uses, as `--demo` hands in its own."""
    made = World()
    monkeypatch.setattr(cli, "_with_demo", lambda settings: (settings, made.server.transport()))
    return made


@pytest.fixture
def run(world: World, monkeypatch, capsys) -> Run:
    """Runs `dminbox ARGS` for my account on the fake; `stdin` is what is piped in."""

    def command(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        account = ["--instance", world.server.base_url, "--token", world.server.token]
        code = cli.main([*account, *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return command


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dminbox: ")
    return lines[0]


def mention_ids(status: dict) -> set[str]:
    return {m["id"] for m in status["mentions"]}


# -- reply -------------------------------------------------------------------------


def test_a_reply_mentions_every_participant_is_direct_and_answers_the_last(world, run) -> None:
    code, out, err = run("reply", world.group, stdin="sounds good\n")
    assert (code, err) == (0, "")
    status = world.server.status(out.strip())
    assert status["visibility"] == "direct"
    assert status["in_reply_to_id"] == world.last["id"]
    assert mention_ids(status) == {world.alice["id"], world.bob["id"]}
    assert world.server.state.statuses[status["id"]].text == "@alice @bob sounds good"
    # The same conversation, not a fork: it now ends with the reply.
    assert world.row_of(status)["id"] == world.group
    (post,) = world.posts()
    assert post.headers.get("idempotency-key")
    # The app shows it: the cache holds the conversation with the reply as its last message.
    code, listed, _ = run("list", "--offline", "--json")
    row = next(r for r in json.loads(listed) if r["id"] == world.group)
    assert row["last_status"]["id"] == status["id"]


def test_only_the_missing_mentions_are_put_in_front(world, run) -> None:
    code, out, err = run("reply", world.group, "--text", "@Bob see you there")
    assert (code, err) == (0, "")
    status = world.server.state.statuses[out.strip()]
    assert status.text == "@alice @Bob see you there"
    assert set(status.mention_ids) == {world.alice["id"], world.bob["id"]}


def test_a_reply_carries_the_content_warning_over_unless_told(world, run) -> None:
    secret = str(world.row_of(world.secret)["id"])
    code, out, _ = run("reply", secret, "--text", "I won't tell")
    assert code == 0
    assert world.server.status(out.strip())["spoiler_text"] == "party plans"
    code, out, _ = run("reply", secret, "--text", "ok", "--spoiler", "")
    assert code == 0
    assert world.server.status(out.strip())["spoiler_text"] == ""
    code, out, _ = run("reply", world.group, "--text", "ok", "--spoiler", "food")
    assert world.server.status(out.strip())["spoiler_text"] == "food"


def test_a_fork_is_refused_without_yes_and_sent_with_it(world, run) -> None:
    code, out, err = run("reply", world.group, "--text", "@carol@example.org join us?")
    assert code == 1 and out == ""
    line = one_line(err)
    assert "new conversation" in line and "@carol@example.org added" in line
    assert "--yes" in line
    assert world.posts() == []
    code, out, err = run("reply", world.group, "--yes", "--text", "@carol@example.org join us?")
    assert (code, err) == (0, "")
    status = world.server.status(out.strip())
    assert mention_ids(status) == {world.alice["id"], world.bob["id"], world.carol["id"]}
    assert world.row_of(status)["id"] != world.group  # the server started another one


def test_nobody_mentioned_is_refused_without_yes(world, run) -> None:
    note = str(world.row_of(world.note)["id"])
    code, out, err = run("reply", note, "--text", "remember the milk")
    assert code == 1 and out == ""
    assert "Nobody is mentioned" in one_line(err)
    assert world.posts() == []
    code, out, err = run("reply", note, "--yes", "--text", "remember the milk")
    assert (code, err) == (0, "")
    assert world.server.status(out.strip())["mentions"] == []


def test_an_unknown_conversation_is_one_line(world, run) -> None:
    code, out, err = run("reply", "no-such-id", "--text", "hello?")
    assert code == 1 and out == ""
    assert one_line(err) == f"dminbox: no conversation no-such-id is known to {HOST}"
    assert world.posts() == []


def test_a_conversation_not_in_the_cache_is_found_on_a_later_page(monkeypatch, capsys) -> None:
    server = FakeMastodon.demo(now=NOW)
    monkeypatch.setattr(cli, "_with_demo", lambda settings: (settings, server.transport()))
    monkeypatch.setattr(sys, "stdin", io.StringIO("an old thread"))
    oldest = server.conversation_rows()[-1]
    account = ["--instance", server.base_url, "--token", server.token]
    assert cli.main([*account, "reply", str(oldest["id"])]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    status = server.status(out.strip())
    assert status["in_reply_to_id"] == oldest["last_status"]["id"]
    assert len(list_requests(server)) > 2  # walked past page 1


def test_a_cached_conversation_is_not_looked_for_on_the_server(world, run) -> None:
    assert run("list")[0] == 0
    seen = len(world.server.requests)
    assert run("reply", world.group, "--text", "from the cache")[0] == 0
    during = world.server.requests[seen:]
    post = next(i for i, r in enumerate(during) if r.method == "POST")
    assert [r.path for r in during[:post] if r.path == "/api/v1/conversations"] == []
    # After the post, a quiet refresh brings page 1 into the cache for the app.
    assert [r.path for r in during[post:]][-1] == "/api/v1/conversations"


# -- send --------------------------------------------------------------------------


def test_send_mentions_every_to_account_it_lacks(world, run) -> None:
    code, out, err = run(
        "send", "--to", "@alice,carol@example.org", "--to", "bob", stdin="hi @alice, lunch?\n"
    )
    assert (code, err) == (0, "")
    status = world.server.state.statuses[out.strip()]
    assert status.text == "@carol@example.org @bob hi @alice, lunch?"
    assert status.in_reply_to_id is None and status.visibility == "direct"
    assert set(status.mention_ids) == {world.alice["id"], world.bob["id"], world.carol["id"]}


def test_send_refuses_an_account_nobody_has(world, run) -> None:
    code, out, err = run("send", "--to", "alice,nobody", "--text", "hi")
    assert code == 1 and out == ""
    assert one_line(err) == f"dminbox: no account @nobody is known to {HOST}"
    assert world.posts() == []


def test_send_to_nobody_is_refused_without_yes(world, run) -> None:
    code, _, err = run("send", "--to", ",", "--text", "hello")
    assert code == 1
    assert "Nobody is mentioned" in one_line(err)
    assert world.posts() == []


def test_json_prints_the_status_the_server_returned(world, run) -> None:
    code, out, err = run("send", "--to", "alice", "--json", "--text", "déjà vu ✨")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 1
    assert out.isascii()
    status = json.loads(out)
    assert status == world.server.status(status["id"])
    assert status["visibility"] == "direct"


def test_an_empty_text_is_refused_before_asking_the_server(world, run) -> None:
    code, _, err = run("send", "--to", "alice", stdin="  \n\n")
    assert code == 1
    assert one_line(err) == "dminbox: nothing to send: the text is empty"
    assert world.server.requests == []


def test_send_without_to_is_a_usage_error(world, run) -> None:
    with pytest.raises(SystemExit) as raised:
        run("send", "--text", "hi")
    assert raised.value.code == 2


def test_the_demo_takes_a_message(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("hi\n"))
    assert cli.main(["--demo", "send", "--to", "tomasz"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.strip().isdigit()


# -- the limit and the server's answers --------------------------------------------


def test_over_the_limit_is_refused_always(monkeypatch, capsys) -> None:
    small = World(max_characters=20)
    monkeypatch.setattr(cli, "_with_demo", lambda settings: (settings, small.server.transport()))
    account = ["--instance", small.server.base_url, "--token", small.server.token]
    text = "this is far too long for the limit"
    for yes in ([], ["--yes"]):
        code = cli.main([*account, "send", "--to", "alice", *yes, "--text", text])
        out, err = capsys.readouterr()
        assert code == 1 and out == ""
        assert one_line(err) == "dminbox: not sent: 21 characters over the limit of 20."
    assert small.posts() == []


def test_a_refusal_from_the_server_is_one_line_with_its_reason(world, run) -> None:
    world.server.faults.add(Fault(method="POST", path=STATUSES, status=422))
    code, out, err = run("reply", world.group, "--text", "refused")
    assert code == 1 and out == ""
    assert one_line(err) == "dminbox: not sent: Unprocessable Entity"
    assert len(world.posts()) == 1  # a permanent refusal is not tried again
    assert world.mine("refused") == []
    assert world.outbox() == []  # nothing left to be sent later


def test_a_reply_to_a_message_deleted_meanwhile_is_refused(world, run) -> None:
    assert run("list")[0] == 0  # cached: the reply goes to the message as cached
    world.server.delete_status(world.last["id"])
    code, _, err = run("reply", world.group, "--text", "too late")
    assert code == 1
    one_line(err)
    assert len(world.posts()) == 1
    assert world.outbox() == []


def test_a_dropped_answer_is_retried_with_the_same_key_and_posts_once(world, run) -> None:
    world.server.faults.add(Fault(method="POST", path=STATUSES, drop=True, times=1))
    code, out, err = run("reply", world.group, "--text", "only once")
    assert (code, err) == (0, "")
    first, second = world.posts()
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    (status,) = world.mine("only once")
    assert out.strip() == status["id"]


def test_a_server_that_keeps_failing_is_given_up_on_and_nothing_is_queued(world, run) -> None:
    world.server.faults.add(Fault(method="POST", path=STATUSES, status=503, times=None))
    code, out, err = run("send", "--to", "alice", "--text", "into the void")
    assert code == 1 and out == ""
    assert "not confirmed after 3 tries" in one_line(err)
    posts = world.posts()
    assert len(posts) == 3
    assert len({p.headers["idempotency-key"] for p in posts}) == 1
    assert world.mine("into the void") == []
    world.server.faults.clear()
    assert world.outbox() == []
    assert run("list")[0] == 0  # a later run has nothing of it to send
    assert world.mine("into the void") == []


# -- real processes, a real socket -------------------------------------------------


async def _dminbox(url: str, token: str, *args: str, stdin: str) -> tuple[int, str, str]:
    env = {**os.environ, "DMINBOX_INSTANCE": url, "DMINBOX_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dminbox",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_reply_and_send_as_processes_over_a_socket() -> None:
    world = World()
    server = world.server
    listener = await serve(server)
    try:
        group = world.group
        code, out, err = await _dminbox(
            listener.url, server.token, "reply", group, stdin="over the wire\n"
        )
        assert (code, err) == (0, "")
        status = server.status(out.strip())
        assert status["in_reply_to_id"] == world.last["id"]
        assert mention_ids(status) == {world.alice["id"], world.bob["id"]}

        code, out, err = await _dminbox(
            listener.url, server.token, "send", "--to", "carol@example.org", "--json", stdin="hey"
        )
        assert (code, err) == (0, "")
        sent = json.loads(out)
        assert server.state.statuses[sent["id"]].text == "@carol@example.org hey"

        code, out, err = await _dminbox(
            listener.url, server.token, "send", "--to", "nobody", stdin="hey"
        )
        assert code == 1 and out == ""
        assert one_line(err).startswith("dminbox: no account @nobody is known to 127.0.0.1:")
        assert len(world.posts()) == 2
    finally:
        await listener.close()
