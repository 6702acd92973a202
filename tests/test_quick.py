"""`dminbox unread-count --offline` takes a quick path (dminbox.quick) that answers exactly as
the full command does, changes nothing on disk, and loads none of the heavy packages."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from dminbox import cli, paths, quick
from dminbox.accounts import save_account
from dminbox.fake import FakeMastodon
from dminbox.session import remember_account
from dminbox.store import Cache

from conftest import NOW

INSTANCE = "https://mastodon.example"
TOKEN = "the-token"
ME = "109000000000000001"
ACCT = "me@mastodon.example"
COUNT = ["unread-count", "--offline"]
HEAVY = ("pydantic", "httpx", "textual", "rich", "argparse", "logging")


def fill_cache(instance: str = INSTANCE, account_id: str = ME, *, hide: int = 1) -> int:
    """The demo inbox in this account's cache, `hide` unread rows removed (in their undo
    window); returns the number of unread conversations the cache then counts."""
    rows = FakeMastodon.demo(now=NOW).conversation_rows()
    cache = Cache.open(paths.cache_path(instance, account_id), limit=10_000)
    try:
        cache.put_conversations(rows)
        for row in [row for row in rows if row["unread"]][:hide]:
            cache.enqueue("remove", str(row["id"]), snapshot=cache.conversation(str(row["id"])))
        count = cache.unread_count()
    finally:
        cache.close()
    assert 0 < count < len(rows)
    return count


def full(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command with the quick path turned off."""
    with monkeypatch.context() as patch:
        patch.setattr(quick, "unread_count", lambda words: None)
        code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def quick_answer(argv: list[str], capsys) -> tuple[int | None, str]:
    code = quick.unread_count(argv)
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def files() -> dict[str, bytes]:
    """Every file dminbox keeps, with its contents (SQLite's -wal and -shm aside)."""
    found = {}
    for root in (paths.config_dir(), paths.cache_dir(), paths.state_dir()):
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_file() and not path.name.endswith(("-wal", "-shm")):
                found[str(path)] = path.read_bytes()
    return found


def same_answer(argv: list[str], monkeypatch, capsys) -> str:
    """Runs the full command, then the quick path: the same output, and no file touched."""
    code, out, err = full(argv, monkeypatch, capsys)
    assert (code, err) == (0, "")
    before = files()
    assert quick_answer(argv, capsys) == (0, out)
    assert files() == before
    return out.strip()


# -- the same answer -----------------------------------------------------------------


def test_a_stored_account(monkeypatch, capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    expected = fill_cache()
    assert same_answer(COUNT, monkeypatch, capsys) == str(expected)


def test_a_stored_account_named(monkeypatch, capsys) -> None:
    save_account("other@elsewhere.example", "https://elsewhere.example", "7", "other-token")
    save_account(ACCT, INSTANCE, ME, TOKEN)  # the default, the last used
    expected = fill_cache()
    for named in (["--account", ACCT], [f"--account={ACCT}"], ["--account", "me"]):
        assert same_answer([*COUNT, *named], monkeypatch, capsys) == str(expected)
        assert same_answer([*named, *COUNT], monkeypatch, capsys) == str(expected)
    monkeypatch.setenv("DMINBOX_ACCOUNT", ACCT)
    assert same_answer(COUNT, monkeypatch, capsys) == str(expected)


def test_instance_and_token(monkeypatch, capsys) -> None:
    remember_account(INSTANCE, TOKEN, ME)
    expected = fill_cache()
    argv = ["--instance", "mastodon.example/", "--token", f" {TOKEN} ", *COUNT]
    assert same_answer(argv, monkeypatch, capsys) == str(expected)
    assert same_answer([*COUNT, f"--instance={INSTANCE}", f"--token={TOKEN}"], monkeypatch, capsys)
    monkeypatch.setenv("DMINBOX_INSTANCE", INSTANCE)
    monkeypatch.setenv("DMINBOX_TOKEN", TOKEN)
    assert same_answer(COUNT, monkeypatch, capsys) == str(expected)


def test_no_cache_yet_is_zero(monkeypatch, capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    assert same_answer(COUNT, monkeypatch, capsys) == "0"
    # A token never seen on this instance: its account, so its cache, is unknown.
    argv = ["--instance", INSTANCE, "--token", "a-token-never-seen", *COUNT]
    assert same_answer(argv, monkeypatch, capsys) == "0"


def test_no_cache_option_is_zero(monkeypatch, capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    fill_cache()
    assert same_answer(["--no-cache", *COUNT], monkeypatch, capsys) == "0"
    argv = [*COUNT, "--no-cache", "--token", TOKEN, "--instance", INSTANCE]
    assert same_answer(argv, monkeypatch, capsys) == "0"


def test_the_first_run_notes_the_token_then_the_quick_path_answers(monkeypatch, capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    expected = fill_cache()
    assert not paths.is_remembered(INSTANCE, TOKEN, ME)
    assert quick_answer(COUNT, capsys) == (None, "")  # the full path must write last-account
    assert full(COUNT, monkeypatch, capsys) == (0, f"{expected}\n", "")
    assert paths.is_remembered(INSTANCE, TOKEN, ME)
    assert quick_answer(COUNT, capsys) == (0, f"{expected}\n")


def test_main_takes_the_quick_path(capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    expected = fill_cache()
    assert cli.main(COUNT) == 0
    assert capsys.readouterr().out == f"{expected}\n"


# -- what it leaves to the full command ----------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["unread-count"],  # it refreshes first: the network
        ["--offline", "unread-count"],  # not an option of dminbox itself: an error
        ["unread-count", "--off"],  # an abbreviation: argparse's rule
        ["unread-count", "--offline", "--offline"],
        ["unread-count", "--offline", "--account"],
        ["unread-count", "--offline", "--account", "--no-cache"],
        ["unread-count", "--offline", "--account="],
        ["unread-count", "--offline", "--account", "a", "--account", "b"],
        ["unread-count", "--offline", "--cache-limit", "10"],
        ["unread-count", "--offline", "--demo"],
        ["unread-count", "--offline", "extra"],
        ["list", "unread-count", "--offline"],
        ["--help", "unread-count", "--offline"],
    ],
)
def test_other_command_lines_go_the_full_way(argv, capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    fill_cache()
    assert quick_answer(argv, capsys) == (None, "")


def test_what_the_full_command_would_refuse_goes_the_full_way(monkeypatch, capsys) -> None:
    assert quick_answer(COUNT, capsys) == (None, "")  # no account: a message, exit 2
    assert full(COUNT, monkeypatch, capsys)[0] == 2
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    fill_cache()
    refused = [
        [*COUNT, "--account", "nobody@nowhere.example"],
        [*COUNT, "--instance", "http://mastodon.example", "--token", TOKEN],  # plain http
        [*COUNT, "--instance", INSTANCE, "--token", "two words"],
        [*COUNT, "--instance", INSTANCE],
        [*COUNT, "--token", TOKEN],
    ]
    for argv in refused:
        assert quick_answer(argv, capsys) == (None, "")
        assert full(argv, monkeypatch, capsys)[0] == 2
    monkeypatch.setenv("DMINBOX_CACHE_LIMIT", "many")
    assert quick_answer(COUNT, capsys) == (None, "")
    assert full(COUNT, monkeypatch, capsys)[0] == 2


def test_what_the_full_command_would_write_goes_the_full_way(monkeypatch, capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    save_account("other@elsewhere.example", "https://elsewhere.example", "7", "other-token")
    remember_account(INSTANCE, TOKEN, ME)
    expected = fill_cache()
    # Naming an account that is not the default makes it the default.
    assert quick_answer([*COUNT, "--account", ACCT], capsys) == (None, "")
    assert full([*COUNT, "--account", ACCT], monkeypatch, capsys) == (0, f"{expected}\n", "")
    assert json.loads(paths.config_dir().joinpath("accounts.json").read_text())["last_used"] == ACCT
    assert quick_answer([*COUNT, "--account", ACCT], capsys) == (0, f"{expected}\n")
    # A cache file someone made readable by others is made private again.
    path = paths.cache_path(INSTANCE, ME)
    path.chmod(0o644)
    assert quick_answer(COUNT, capsys) == (None, "")
    assert full(COUNT, monkeypatch, capsys) == (0, f"{expected}\n", "")
    assert path.stat().st_mode & 0o777 == 0o600
    assert quick_answer(COUNT, capsys) == (0, f"{expected}\n")


def test_a_token_command_goes_the_full_way(capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    store = paths.config_dir() / "accounts.json"
    data = json.loads(store.read_text())
    data["accounts"][0].pop("token")
    data["accounts"][0]["token_command"] = ["echo", TOKEN]
    store.write_text(json.dumps(data))
    remember_account(INSTANCE, TOKEN, ME)
    fill_cache()
    assert quick_answer(COUNT, capsys) == (None, "")


def test_a_cache_it_does_not_know_goes_the_full_way(capsys) -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    path = paths.cache_path(INSTANCE, ME)
    for folder in (path.parent, path.parent.parent):
        folder.chmod(0o700)
    path.write_bytes(b"not a database, not even close" * 100)
    path.chmod(0o600)
    assert quick_answer(COUNT, capsys) == (None, "")  # the full path moves it aside
    path.unlink()
    foreign = sqlite3.connect(path)
    foreign.execute("CREATE TABLE conversations (unread INTEGER, hidden INTEGER)")
    foreign.close()
    path.chmod(0o600)
    assert quick_answer(COUNT, capsys) == (None, "")
    fill_cache(hide=0)  # opening it as the full path does moves it aside, makes a new one
    assert quick_answer(COUNT, capsys)[0] == 0


def test_the_cache_schema_is_one_the_quick_path_counts() -> None:
    from dminbox.store import SCHEMA_VERSION

    assert SCHEMA_VERSION in quick.COUNTED_SCHEMAS, "check quick.UNREAD still counts this schema"


# -- what it loads -------------------------------------------------------------------


def test_the_quick_path_loads_nothing_heavy() -> None:
    save_account(ACCT, INSTANCE, ME, TOKEN)
    remember_account(INSTANCE, TOKEN, ME)
    expected = fill_cache()
    code = (
        "import sys\n"
        "from dminbox.cli import main\n"
        f"code = main({COUNT!r})\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(','.join(heavy), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}\n"
    assert result.stderr.strip() == ""
