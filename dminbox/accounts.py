"""The logged-in accounts and their tokens, in one private file under the config path.

`accounts.json` (0600, in a 0700 folder) is the only place a token is kept:

    {
      "version": 1,
      "last_used": "me@mastodon.social",
      "apps": {
        "https://mastodon.social": {"client_id": "...", "client_secret": "...", "scopes": "..."}
      },
      "accounts": [
        {"acct": "me@mastodon.social", "instance": "https://mastodon.social",
         "account_id": "109...", "token": "...", "scopes": "..."}
      ]
    }

An account may hold `token_command` instead of `token`: an argv list, or a
string split like a shell would (no shell runs it); its output is the token.
Every write goes to a temporary 0600 file in the same folder, then replaces
the old file in one step, under a lock, so a crash or a second dminbox never
leaves half a file. Unknown keys are kept, so newer fields survive older code.
Reading and checking the file is `dminbox.account_file`'s (shared with
`dminbox unread-count --offline`); this module adds tokens and writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dminbox.account_file import (
    ACCOUNTS_FILE,
    FORMAT_VERSION,
    accounts_file,
    default_row,
    find_row,
    load,
)
from dminbox.checks import is_token
from dminbox.errors import ConfigError

__all__ = [
    "ACCOUNTS_FILE",
    "FORMAT_VERSION",
    "AccountEntry",
    "AppRegistration",
    "StoredAccount",
    "accounts_file",
    "app_registration",
    "default_account",
    "find_account",
    "forget_app_registration",
    "list_accounts",
    "mark_used",
    "remove_account",
    "resolve_account",
    "save_account",
    "save_app_registration",
    "token_of",
]

TOKEN_COMMAND_TIMEOUT = 120
"""Seconds a token_command may take: long enough to unlock a password manager."""


@dataclass(frozen=True)
class StoredAccount:
    """One logged-in account, with its token already resolved."""

    acct: str
    """`user@host`, the name users type with --account."""
    instance: str
    """The server's origin, `https://host`."""
    account_id: str
    token: str = field(repr=False)
    scopes: str = ""
    """The scopes the server granted, space-separated ("" when unknown)."""


@dataclass(frozen=True)
class AccountEntry:
    """An account as the file holds it; the token is not fetched (see `token_of`)."""

    acct: str
    instance: str
    account_id: str
    token: str | None = field(default=None, repr=False)
    token_command: tuple[str, ...] | None = None
    scopes: str = ""

    @property
    def username(self) -> str:
        return self.acct.rpartition("@")[0]


@dataclass(frozen=True)
class AppRegistration:
    """dminbox's OAuth app on one instance, reused for every login there."""

    instance: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str


# -- reading -------------------------------------------------------------------------


def list_accounts() -> list[AccountEntry]:
    """Every stored account, in the order they were first added."""
    return [_entry(row) for row in load(accounts_file())["accounts"]]


def default_account() -> AccountEntry | None:
    """The last used account; when that is unknown, the one added last; None if none."""
    row = default_row(load(accounts_file()))
    return None if row is None else _entry(row)


def find_account(name: str | None) -> AccountEntry | None:
    """The account called `name`, or the default when `name` is None or empty.

    `name` is `user@host` (a leading `@` and letter case do not matter), or a
    bare `user` when only one stored account has that name. Returns None when
    no account is stored and none was named; an unknown name is a ConfigError.
    """
    data = load(accounts_file())
    if not name or not name.strip():
        row = default_row(data)
        return None if row is None else _entry(row)
    return _entry(find_row(data, name))


def app_registration(instance: str) -> AppRegistration | None:
    """The stored app registration for this instance origin, if any."""
    row = load(accounts_file())["apps"].get(instance)
    if row is None:
        return None
    return AppRegistration(instance, row["client_id"], row["client_secret"], row["scopes"])


def resolve_account(name: str | None) -> StoredAccount | None:
    """The account called `name` (user@host), or the last used one when `name` is None.

    Returns None when no account is stored; raises `dminbox.errors.ConfigError`
    (one line) when `name` is not a stored account or its token cannot be had.
    Naming an account makes it the last used, so it becomes the default.
    """
    entry = find_account(name)
    if entry is None:
        if name and name.strip():
            raise ConfigError(f"no account {name!r}: log in with `dminbox login INSTANCE`")
        return None
    token = token_of(entry)
    if name and name.strip():
        # Naming an account is using it; a read-only config folder must not stop the app.
        with contextlib.suppress(OSError):
            mark_used(entry.acct)
    return StoredAccount(entry.acct, entry.instance, entry.account_id, token, entry.scopes)


def token_of(entry: AccountEntry) -> str:
    """The entry's token, from the file or by running its token_command."""
    if entry.token is not None:
        return entry.token
    assert entry.token_command is not None
    return _run_token_command(entry.acct, entry.token_command)


# -- writing -------------------------------------------------------------------------


def save_account(
    acct: str, instance: str, account_id: str, token: str, scopes: str = ""
) -> AccountEntry | None:
    """Store (or replace) an account and make it the default; returns the entry it replaced."""
    row = {
        "acct": acct,
        "instance": instance,
        "account_id": account_id,
        "token": token,
        "scopes": scopes,
    }
    with _editing() as data:
        replaced = None
        for index, old in enumerate(data["accounts"]):
            if old["acct"].lower() == acct.lower():
                replaced = _entry(old)
                kept = {k: v for k, v in old.items() if k not in ("token", "token_command")}
                data["accounts"][index] = {**kept, **row}
                break
        else:
            data["accounts"].append(row)
        data["last_used"] = acct
    return replaced


def remove_account(acct: str) -> bool:
    """Forget an account; the default moves to the account added last. False if unknown."""
    with _editing() as data:
        rows = [row for row in data["accounts"] if row["acct"].lower() != acct.lower()]
        if len(rows) == len(data["accounts"]):
            return False
        data["accounts"] = rows
        last = data.get("last_used")
        if not isinstance(last, str) or last.lower() == acct.lower():
            data["last_used"] = rows[-1]["acct"] if rows else None
    return True


def mark_used(acct: str) -> None:
    """Make a stored account the default (the "last used"); unknown names are ignored."""
    data = load(accounts_file())
    if data.get("last_used") == acct or not any(r["acct"] == acct for r in data["accounts"]):
        return
    with _editing() as data:
        if any(row["acct"] == acct for row in data["accounts"]):
            data["last_used"] = acct


def save_app_registration(registration: AppRegistration) -> None:
    with _editing() as data:
        data["apps"][registration.instance] = {
            "client_id": registration.client_id,
            "client_secret": registration.client_secret,
            "scopes": registration.scopes,
        }


def forget_app_registration(instance: str) -> None:
    with _editing() as data:
        data["apps"].pop(instance, None)


# -- the file ------------------------------------------------------------------------


def _entry(row: dict[str, Any]) -> AccountEntry:
    command = row.get("token_command")
    argv: tuple[str, ...] | None = None
    if isinstance(command, list):
        argv = tuple(command)
    elif isinstance(command, str):
        try:
            argv = tuple(shlex.split(command))
        except ValueError as error:
            raise ConfigError(
                f"the token_command of {row['acct']} cannot be read ({error})"
            ) from None
    return AccountEntry(
        acct=row["acct"],
        instance=row["instance"],
        account_id=row["account_id"],
        token=row.get("token"),
        token_command=argv,
        scopes=row.get("scopes", ""),
    )


@contextlib.contextmanager
def _editing() -> Iterator[dict[str, Any]]:
    """Read, change and write the store, holding the lock throughout."""
    path = accounts_file()
    folder = _private_folder(path.parent)
    with _locked(folder):
        data = load(path)
        yield data
        _write(path, data)


def _private_folder(folder: Path) -> Path:
    from dminbox.paths import private_dir

    return private_dir(folder)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on `.accounts.lock` where fcntl exists (elsewhere: none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    descriptor = os.open(folder / ".accounts.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file in one step with a fresh 0600 copy."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".accounts-", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    os.chmod(path, 0o600)
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


# -- token_command -------------------------------------------------------------------


def _run_token_command(acct: str, argv: tuple[str, ...]) -> str:
    """Runs the command (no shell) and returns what it printed, stripped.

    Its stderr and stdin stay the terminal's, so a password manager can ask
    for a passphrase. What it prints is never repeated in a message.
    """
    where = f"the token_command of {acct}"
    if not argv:
        raise ConfigError(f"{where} is empty")
    try:
        finished = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            timeout=TOKEN_COMMAND_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{where} cannot run {argv[0]!r}: no such program") from None
    except PermissionError:
        raise ConfigError(f"{where} cannot run {argv[0]!r}: permission denied") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{where} did not finish within {TOKEN_COMMAND_TIMEOUT} seconds"
        ) from None
    except OSError as error:
        raise ConfigError(f"{where} cannot run {argv[0]!r}: {error.strerror}") from None
    if finished.returncode != 0:
        raise ConfigError(f"{where} failed (exit status {finished.returncode})")
    token = finished.stdout.decode("utf-8", "replace").strip()
    if not token:
        raise ConfigError(f"{where} printed nothing")
    if not is_token(token):
        raise ConfigError(
            f"{where} printed more than a token (spaces, several lines or control "
            "characters); make it print the token alone"
        )
    return token
