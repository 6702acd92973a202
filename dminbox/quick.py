"""`dminbox unread-count --offline` in a few milliseconds, for a status line that asks often.

It reads the count straight from the account's cache file, loading only the
standard library, platformdirs and dminbox's small modules (no argparse,
logging, pydantic, httpx or Textual). It answers only the plain cases, the
ones in which the full command would print the same number and change
nothing on disk. For anything else (an option it does not know, a setting
the full command would refuse, an account whose token comes from a command,
a file it would fix or a cache it does not know) `unread_count` prints
nothing and returns None, and `dminbox.cli.main` takes the full path, which
gives the usual answer, message and exit code.

It picks the account as the full command does, from the same code:

- `--instance/--token` (or DMINBOX_INSTANCE/DMINBOX_TOKEN), unless an
  account is named: the account this token was last seen to be
  (`last-account`, `dminbox.paths.known_account`); none means no cache, 0;
- else the account named by `--account` (or DMINBOX_ACCOUNT), or the default
  one, from accounts.json (`dminbox.account_file`).

`--no-cache` prints 0, as the full command does: it keeps nothing on disk,
so it has no cache to count.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sqlite3
from pathlib import Path

from dminbox import paths
from dminbox.account_file import accounts_file, default_row, find_row, load
from dminbox.checks import cache_limit_from_env, checked_token, normalise_instance
from dminbox.errors import ConfigError

__all__ = ["COMMAND", "unread_count"]

COMMAND = "unread-count"
APPLICATION_ID = 0x444D4942
"""The cache file's SQLite application_id ("DMIB"), as `dminbox.store` writes it."""
COUNTED_SCHEMAS = frozenset({2, 3, 4, 5})
"""Cache schema versions whose `conversations.unread` and `.hidden` mean what the count
below needs. A file of another version goes the full way (which may migrate it)."""
UNREAD = "SELECT count(*) FROM conversations WHERE unread = 1 AND hidden = 0"
"""The query behind `Cache.unread_count`: conversations unread and not being removed."""
BUSY_TIMEOUT = 10.0
"""Seconds to wait for another dminbox's write, as the cache itself does."""
_VALUES = ("--account", "--instance", "--token")
"""The options that take a value; given before or after the command."""


class Defer(enum.Enum):
    """What the steps below return when the case is for the full command."""

    FULL_PATH = "the full command answers"


FULL_PATH = Defer.FULL_PATH


def unread_count(argv: list[str]) -> int | None:
    """Prints the number of unread cached conversations and returns 0 (the exit code);
    None, having printed nothing, when the full command must answer."""
    options = _parse(argv)
    if options is None:
        return None
    try:
        path = _cache_file(options)
        count = FULL_PATH if path is FULL_PATH else _count(path)
    except (ConfigError, OSError, sqlite3.Error, ValueError):
        return None  # the full command says what is wrong, in its own words
    if count is FULL_PATH:
        return None
    print(count)
    return 0


def _parse(argv: list[str]) -> dict[str, str] | None:
    """The options of `[account options] unread-count --offline [account options]`, where
    the account options are those in _VALUES and --no-cache, each given once; None for
    anything else (so argparse's own rules, abbreviations and errors, stay argparse's)."""
    options: dict[str, str] = {}
    seen_command = False
    words = iter(argv)
    for word in words:
        name, equals, value = word.partition("=")
        if word == COMMAND and not seen_command:
            seen_command = True
        elif word in ("--no-cache", "--offline") and word not in options:
            if word == "--offline" and not seen_command:
                return None  # an option of the command, not of dminbox
            options[word] = ""
        elif name in _VALUES and name not in options:
            if not equals:
                value = next(words, "")
            if not value or value.startswith("-"):
                return None
            options[name] = value
        else:
            return None
    if not seen_command or "--offline" not in options:
        return None
    return options


def _cache_file(options: dict[str, str]) -> Path | None | Defer:
    """The account's cache file; None when there is to be none (the count is then 0);
    FULL_PATH when the full command must answer."""
    cache_limit_from_env()  # the full command refuses a bad DMINBOX_CACHE_LIMIT first
    account = options.get("--account", os.environ.get("DMINBOX_ACCOUNT"))
    instance = options.get("--instance", os.environ.get("DMINBOX_INSTANCE"))
    token = options.get("--token", os.environ.get("DMINBOX_TOKEN"))
    use_cache = "--no-cache" not in options
    if (instance or token) and not account:
        if not instance:
            return FULL_PATH  # the full command says what is missing
        instance, token = normalise_instance(instance), checked_token(token)
        if not use_cache:
            return None
        account_id = paths.known_account(instance, token)
        if account_id is None:
            return None
    else:
        data = load(accounts_file())
        row = find_row(data, account) if account and account.strip() else default_row(data)
        if row is None or "token" not in row:
            return FULL_PATH  # no account (a message), or a token_command to run
        if account and account.strip() and data.get("last_used") != row["acct"]:
            return FULL_PATH  # naming an account makes it the default: a write
        if not use_cache:
            return None
        instance, token, account_id = row["instance"], row["token"], row["account_id"]
    if not paths.is_remembered(instance, token, account_id):
        return FULL_PATH  # the full command notes whose token this is: a write
    return paths.cache_path(instance, account_id)


def _count(path: Path | None) -> int | Defer:
    """The unread count in the cache file at `path` (0 when there is none), or FULL_PATH."""
    if path is None or not path.exists():
        return 0
    if not _private(path):
        return FULL_PATH  # the full command makes them private again
    db = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT)
    try:
        (app_id,) = db.execute("PRAGMA application_id").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if app_id != APPLICATION_ID or version not in COUNTED_SCHEMAS:
            return FULL_PATH
        (count,) = db.execute(UNREAD).fetchone()
        return int(count)
    finally:
        db.close()


def _private(path: Path) -> bool:
    """True when the file, its companions and the two folders above it are the owner's
    alone, as opening the cache leaves them (0600 files, 0700 folders)."""
    modes = [path.stat().st_mode, path.parent.stat().st_mode, path.parent.parent.stat().st_mode]
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            modes.append(os.stat(f"{path}{suffix}").st_mode)
    return not any(mode & 0o077 for mode in modes)
