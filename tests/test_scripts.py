"""`dminbox list`, `unread-count` and `cache clear`, run as a script would: real processes,
the fake server on a loopback port."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def fake_port() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "dminbox.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        yield int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


def dminbox(*args: str, port: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if port is not None:
        env["DMINBOX_INSTANCE"] = f"http://127.0.0.1:{port}"
        env["DMINBOX_TOKEN"] = "demo-token"
    return subprocess.run(
        [sys.executable, "-m", "dminbox", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_list_prints_one_line_per_conversation_and_json(fake_port) -> None:
    plain = dminbox("list", "--limit", "50", port=fake_port)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert len(lines) == 50
    for line in lines:
        cells = line.split("\t")
        assert len(cells) == 5
        assert cells[1] in ("read", "unread")
    as_json = dminbox("list", "--json", "--unread", port=fake_port)
    rows = json.loads(as_json.stdout)
    assert rows and all(row["unread"] for row in rows)
    assert {"id", "unread", "accounts", "last_status"} <= set(rows[0])


def test_unread_count_from_the_server_then_from_the_cache(fake_port) -> None:
    online = dminbox("unread-count", port=fake_port)
    assert online.returncode == 0, online.stderr
    count = int(online.stdout.strip())
    assert count > 0
    offline = dminbox("unread-count", "--offline", port=fake_port)
    assert offline.stdout.strip() == str(count)
    listed = dminbox("list", "--offline", "--unread", port=fake_port)
    assert len(listed.stdout.splitlines()) == count


def test_unread_count_offline_with_no_cache_prints_zero(fake_port) -> None:
    result = dminbox("unread-count", "--offline", port=fake_port)
    assert result.returncode == 0
    assert result.stdout.strip() == "0"


def test_a_server_that_is_down_is_one_line(tmp_path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dminbox",
            "list",
            "--instance",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "127.0.0.1:9 refused the connection" in result.stderr


def test_cache_files_are_private_and_cache_clear_deletes_them(fake_port) -> None:
    assert dminbox("list", port=fake_port).returncode == 0
    root = Path(os.environ["XDG_CACHE_HOME"]) / "dminbox"
    files = [p for p in root.rglob("*.sqlite3*")]
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    for folder in {p.parent for p in files} | {root}:
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    cleared = dminbox("cache", "clear", port=fake_port)
    assert cleared.returncode == 0
    assert "Deleted" in cleared.stdout
    assert not list(root.rglob("*.sqlite3"))


def test_no_cache_keeps_nothing_on_disk(fake_port) -> None:
    assert dminbox("list", "--no-cache", port=fake_port).returncode == 0
    root = Path(os.environ["XDG_CACHE_HOME"])
    assert not list(root.rglob("*.sqlite3*"))


def test_unread_count_offline_is_quick(fake_port) -> None:
    """Fast enough for a tmux status line: no Textual, no network."""
    assert dminbox("list", port=fake_port).returncode == 0
    started = time.perf_counter()
    result = dminbox("unread-count", "--offline", port=fake_port)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    assert elapsed < 3.0, elapsed


def test_account_options_mean_the_same_before_and_after_the_command(fake_port) -> None:
    assert dminbox("--no-cache", "list", port=fake_port).returncode == 0
    assert not list(Path(os.environ["XDG_CACHE_HOME"]).rglob("*.sqlite3*"))
    demo = dminbox("--demo", "list", "--limit", "3")
    assert demo.returncode == 0, demo.stderr
    assert len(demo.stdout.splitlines()) == 3


def test_another_token_on_the_same_host_never_opens_this_cache(fake_port) -> None:
    assert dminbox("list", port=fake_port).returncode == 0
    env = {"DMINBOX_INSTANCE": f"http://127.0.0.1:{fake_port}", "DMINBOX_TOKEN": "other-token"}
    result = subprocess.run(
        [sys.executable, "-m", "dminbox", "unread-count", "--offline"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert result.stdout.strip() == "0", "the cache of demo-token's account stays closed"


def test_a_token_with_non_ascii_characters_is_refused() -> None:
    result = dminbox("list", "--instance", "https://a.example", "--token", "tökén")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_list_into_a_closed_pipe_is_quiet(fake_port) -> None:
    env = {
        **os.environ,
        "DMINBOX_INSTANCE": f"http://127.0.0.1:{fake_port}",
        "DMINBOX_TOKEN": "demo-token",
    }
    result = subprocess.run(
        f"{sys.executable} -m dminbox list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
