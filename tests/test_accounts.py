"""The account store: one private file, atomic writes, picking accounts, token_command."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys

import pytest

from dminbox import accounts
from dminbox.accounts import AppRegistration, StoredAccount
from dminbox.cli import build_parser, main
from dminbox.config import settings_from_args
from dminbox.errors import ConfigError

SOCIAL = "https://mastodon.social"
OTHER = "https://other.example"


def store_two() -> None:
    accounts.save_account("me@mastodon.social", SOCIAL, "101", "token-one", "read:statuses")
    accounts.save_account("me@other.example", OTHER, "202", "token-two")


def write_raw(data: object) -> None:
    path = accounts.accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def entry(acct: str, instance: str, **fields: object) -> dict:
    return {"acct": acct, "instance": instance, "account_id": "7", **fields}


# Reading and picking


def test_nothing_stored():
    assert accounts.resolve_account(None) is None
    assert accounts.list_accounts() == []
    assert not accounts.accounts_file().exists()  # reading creates nothing
    with pytest.raises(ConfigError, match="no account 'me@mastodon.social'"):
        accounts.resolve_account("me@mastodon.social")


def test_the_default_is_the_last_used_and_naming_an_account_uses_it():
    store_two()
    assert accounts.resolve_account(None) == StoredAccount(
        "me@other.example", OTHER, "202", "token-two"
    )
    picked = accounts.resolve_account("@ME@Mastodon.Social")
    assert picked == StoredAccount(
        "me@mastodon.social", SOCIAL, "101", "token-one", "read:statuses"
    )
    assert "token-one" not in repr(picked)
    assert accounts.resolve_account(None).acct == "me@mastodon.social"
    accounts.mark_used("me@other.example")
    assert accounts.default_account().acct == "me@other.example"


def test_a_bare_user_name_works_when_it_is_unique():
    store_two()
    accounts.save_account("alice@other.example", OTHER, "303", "token-three")
    assert accounts.resolve_account("alice").acct == "alice@other.example"
    with pytest.raises(ConfigError, match="could be me@mastodon.social, me@other.example"):
        accounts.resolve_account("me")
    with pytest.raises(ConfigError) as caught:
        accounts.resolve_account("bob@nowhere.example")
    message = str(caught.value)
    assert "\n" not in message and "known: me@mastodon.social" in message


def test_settings_come_from_the_stored_account():
    store_two()
    settings = settings_from_args(build_parser().parse_args(["--account", "me@mastodon.social"]))
    assert (settings.instance, settings.token, settings.account_id, settings.acct) == (
        SOCIAL,
        "token-one",
        "101",
        "me@mastodon.social",
    )
    assert settings_from_args(build_parser().parse_args([])).acct == "me@mastodon.social"


def test_a_last_used_that_is_gone_falls_back_to_the_newest():
    write_raw(
        {
            "version": 1,
            "last_used": "ghost@nowhere.example",
            "accounts": [
                entry("a@x.example", "x.example", token="t1"),
                entry("b@y.example", "https://y.example/", token="t2"),
            ],
        }
    )
    chosen = accounts.resolve_account(None)
    assert (chosen.acct, chosen.instance) == ("b@y.example", "https://y.example")


# Writing


def test_every_write_makes_the_file_0600_and_the_folder_0700():
    path = accounts.accounts_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1}')
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    accounts.save_account("me@mastodon.social", SOCIAL, "101", "token-one")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    os.chmod(path, 0o666)
    accounts.mark_used("me@mastodon.social")  # no change: nothing to write
    accounts.save_app_registration(AppRegistration(SOCIAL, "id", "secret", "read"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_write_leaves_the_old_file_whole(monkeypatch):
    store_two()
    before = accounts.accounts_file().read_text()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        accounts.save_account("new@x.example", "https://x.example", "9", "t")
    assert accounts.accounts_file().read_text() == before
    assert [p.name for p in accounts.accounts_file().parent.iterdir() if ".tmp" in p.name] == []


def test_remove_moves_the_default_and_unknown_keys_survive():
    store_two()
    data = json.loads(accounts.accounts_file().read_text())
    data["accounts"][0]["note"] = "kept"
    data["future"] = {"x": 1}
    write_raw(data)
    assert accounts.remove_account("ME@other.example") is True
    assert accounts.remove_account("me@other.example") is False
    data = json.loads(accounts.accounts_file().read_text())
    assert data["last_used"] == "me@mastodon.social"
    assert data["accounts"][0]["note"] == "kept" and data["future"] == {"x": 1}
    assert accounts.remove_account("me@mastodon.social") is True
    assert accounts.resolve_account(None) is None


def test_app_registrations_are_kept_per_instance():
    accounts.save_app_registration(AppRegistration(SOCIAL, "id1", "secret1", "read:statuses"))
    accounts.save_app_registration(AppRegistration(OTHER, "id2", "secret2", "read:statuses"))
    assert accounts.app_registration(SOCIAL) == AppRegistration(
        SOCIAL, "id1", "secret1", "read:statuses"
    )
    accounts.forget_app_registration(SOCIAL)
    assert accounts.app_registration(SOCIAL) is None
    assert accounts.app_registration(OTHER).client_id == "id2"
    assert "secret2" not in repr(accounts.app_registration(OTHER))


def test_replacing_an_account_returns_the_old_entry():
    accounts.save_account("me@mastodon.social", SOCIAL, "101", "token-one")
    replaced = accounts.save_account("Me@mastodon.social", SOCIAL, "101", "token-new")
    assert replaced is not None and replaced.token == "token-one"
    [row] = json.loads(accounts.accounts_file().read_text())["accounts"]
    assert row["token"] == "token-new"


# A damaged file


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not JSON"),
        ("", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"accounts": []}', "no version number"),
        ('{"version": 99}', "newer dminbox"),
        ('{"version": 1, "accounts": {}}', "accounts is not a list"),
        ('{"version": 1, "accounts": [{"acct": "me@x.example"}]}', "has no instance"),
        (
            json.dumps({"version": 1, "accounts": [entry("me@x.example", "x.example")]}),
            "needs either token or token_command",
        ),
        (
            json.dumps(
                {"version": 1, "accounts": [entry("me@x.example", "x.example", token="a b")]}
            ),
            "spaces or control characters",
        ),
        (
            json.dumps(
                {"version": 1, "accounts": [entry("me@x.example", "http://x.example", token="t")]}
            ),
            "refusing plain http",
        ),
        ('{"version": 1, "apps": {"https://x.example": {"client_id": "a"}}}', "client_secret"),
    ],
)
def test_a_damaged_file_is_one_line_naming_it(content, reason):
    write_raw(content)
    with pytest.raises(ConfigError) as caught:
        accounts.resolve_account(None)
    message = str(caught.value)
    assert "\n" not in message and reason in message
    assert str(accounts.accounts_file()) in message
    with pytest.raises(ConfigError):
        accounts.save_account("me@x.example", "https://x.example", "1", "t")
    assert accounts.accounts_file().read_text() == content  # never overwritten


def test_a_damaged_file_through_the_command_line_is_exit_2(capsys):
    write_raw("{oops")
    assert main(["accounts"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "accounts.json is damaged" in err
    assert main(["--account", "me@x.example", "list"]) == 2
    assert "accounts.json is damaged" in capsys.readouterr().err


# token_command


def command_account(command: object) -> None:
    write_raw(
        {
            "version": 1,
            "accounts": [entry("me@x.example", "https://x.example", token_command=command)],
        }
    )


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_token_command_as_a_list_and_as_a_string():
    command_account(python("print('  from-' + 'manager  ')"))
    assert accounts.resolve_account(None).token == "from-manager"
    command_account(shlex.join(python("print('other-' + 'secret')")))
    assert accounts.resolve_account("me@x.example").token == "other-secret"
    # Using it wrote no token into the file.
    assert "other-secret" not in accounts.accounts_file().read_text()


def test_a_string_token_command_runs_without_a_shell(tmp_path):
    marker = tmp_path / "ran"
    command_account(f"{shlex.quote(sys.executable)} -c 'print(1)' ; touch {marker}")
    assert accounts.resolve_account(None).token == "1"  # ";" and "touch" are python's argv
    assert not marker.exists()


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (python("import sys; sys.exit(3)"), "failed (exit status 3)"),
        (["/nonexistent/pass-manager", "show"], "no such program"),
        (python("pass"), "printed nothing"),
        (python("print('two words-secret')"), "printed more than a token"),
        ("unclosed 'quote", "cannot be read"),
    ],
)
def test_a_failing_token_command_is_one_line(command, reason):
    command_account(command)
    with pytest.raises(ConfigError) as caught:
        accounts.resolve_account(None)
    message = str(caught.value)
    assert reason in message and "\n" not in message
    assert "words-secret" not in message and message.startswith("the token_command of me@x.example")


def test_a_failing_token_command_stops_the_app_with_exit_2(capsys):
    command_account(python("import sys; sys.exit(1)"))
    assert main([]) == 2
    assert capsys.readouterr().err == (
        "dminbox: the token_command of me@x.example failed (exit status 1)\n"
    )


# The accounts command and no account at all


def test_accounts_lists_one_line_each_with_a_star_on_the_default(capsys):
    store_two()
    accounts.save_account("alice@mastodon.social", SOCIAL, "303", "token-three")
    accounts.mark_used("me@other.example")
    assert main(["accounts"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        "me@mastodon.social     https://mastodon.social",
        "me@other.example       https://other.example  *",
        "alice@mastodon.social  https://mastodon.social",
    ]
    assert "token" not in out


def test_accounts_with_none_stored_says_how_to_log_in(capsys):
    assert main(["accounts"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "dminbox login INSTANCE" in err and "--demo" in err


def test_dminbox_without_an_account_exits_2_with_one_line(tmp_path):
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("DMINBOX_", "XDG_"))
    }
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[name] = str(tmp_path / "sub" / name.lower())
    result = subprocess.run(
        [sys.executable, "-m", "dminbox"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "login" in line and "--demo" in line
    assert not (tmp_path / "sub").exists() or not list((tmp_path / "sub").rglob("accounts.json"))
