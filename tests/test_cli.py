"""The command line: a contract for scripts. Bad input is one line on stderr and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dminbox.checks import normalise_instance
from dminbox.cli import main
from dminbox.config import settings_from
from dminbox.errors import ConfigError


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://mastodon.social", "https://mastodon.social"),
        ("https://Mastodon.Social/", "https://mastodon.social"),
        ("mastodon.social", "https://mastodon.social"),
        ("https://social.example:8443", "https://social.example:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("http://[::1]:4000", "http://[::1]:4000"),
    ],
)
def test_instance_urls_are_normalised(typed: str, origin: str) -> None:
    assert normalise_instance(typed) == origin


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("http://mastodon.social", "clear text"),
        ("http://192.168.1.5", "clear text"),
        ("ftp://mastodon.social", "http(s)"),
        ("https://", "no host"),
        ("https://mastodon.social/@alice", "path"),
        ("https://user:pw@mastodon.social", "without user"),
        ("", "empty"),
        ("https://host:99999", "not a valid"),
    ],
)
def test_bad_instance_urls_are_refused_with_a_reason(typed: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        normalise_instance(typed)
    assert words in str(raised.value)


def test_a_token_with_control_characters_is_refused() -> None:
    with pytest.raises(ConfigError):
        settings_from("https://a.example", "abc\x1b[2J")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DMINBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "dminbox", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["--instance", "http://mastodon.social", "--token", "t"],
        ["--instance", "https://mastodon.social"],
        [],
    ],
    ids=["unknown-flag", "http", "no-token", "no-account"],
)
def test_bad_arguments_print_one_line_and_exit_2(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dminbox: ")
    assert "Traceback" not in result.stderr


def test_no_account_mentions_the_demo() -> None:
    assert "--demo" in _run().stderr


def test_the_environment_supplies_instance_and_token(monkeypatch, tmp_path) -> None:
    """DMINBOX_INSTANCE is read: a bad one is refused just like the flag."""
    result = _run(env={"DMINBOX_INSTANCE": "http://evil.example", "DMINBOX_TOKEN": "t"})
    assert result.returncode == 2
    assert "clear text" in result.stderr


def test_version_flag() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("dminbox ")


def test_main_returns_2_without_raising(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--nope"])
    assert raised.value.code == 2


def test_an_unexpected_error_in_a_command_is_one_line_not_a_traceback(monkeypatch, capsys) -> None:
    from dminbox import cli, scripts

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(scripts, "list_inbox", broken)
    code = cli.main(["--demo", "list"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == ("dminbox: unexpected error: RuntimeError: a bug (details in the log)")
