"""Reading `accounts.json`: the file checked, and the account a name (or no name) picks.

`dminbox.accounts` builds on this and does the writing; `dminbox unread-count
--offline` (`dminbox.quick`) reads through it too, so both pick the same
account. The standard library only (json), and nothing is written here.
"""

from __future__ import annotations

import json
from pathlib import Path

from dminbox.checks import is_token, normalise_instance
from dminbox.errors import ConfigError
from dminbox.paths import config_dir

TYPE_CHECKING = False  # typing itself costs `unread-count --offline` 2 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ACCOUNTS_FILE",
    "FORMAT_VERSION",
    "accounts_file",
    "default_row",
    "empty",
    "find_row",
    "load",
]

ACCOUNTS_FILE = "accounts.json"
FORMAT_VERSION = 1


def accounts_file() -> Path:
    return config_dir() / ACCOUNTS_FILE


def empty() -> dict[str, Any]:
    """The contents of a store with nothing in it."""
    return {"version": FORMAT_VERSION, "last_used": None, "apps": {}, "accounts": []}


def load(path: Path) -> dict[str, Any]:
    """The checked contents of the accounts file; an empty store when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return empty()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8"
        raise ConfigError(f"cannot read {path}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise _corrupt(path, f"not JSON: {error}") from None
    try:
        _check(data)
    except ValueError as error:
        raise _corrupt(path, str(error)) from None
    return data


def default_row(data: dict[str, Any]) -> dict[str, Any] | None:
    """The last used account; when that is unknown, the one added last; None if none."""
    rows = data["accounts"]
    if not rows:
        return None
    last = data.get("last_used") or ""
    for row in rows:
        if row["acct"].lower() == last.lower():
            return row
    return rows[-1]


def find_row(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The account called `name` (`user@host`, or a `user` only one account has), or a
    ConfigError naming the accounts there are."""
    wanted = name.strip().lstrip("@").lower()
    rows = data["accounts"]
    for row in rows:
        if row["acct"].lower() == wanted:
            return row
    if "@" not in wanted:
        same_user = [row for row in rows if row["acct"].lower().rpartition("@")[0] == wanted]
        if len(same_user) == 1:
            return same_user[0]
        if same_user:
            names = ", ".join(row["acct"] for row in same_user)
            raise ConfigError(f"{name!r} could be {names}: give user@host")
    known = ", ".join(row["acct"] for row in rows)
    hint = f"known: {known}" if known else "none is logged in"
    raise ConfigError(f"no account {name!r} ({hint}); log in with `dminbox login INSTANCE`")


def _corrupt(path: Path, reason: str) -> ConfigError:
    return ConfigError(
        f"{path} is damaged ({reason}); fix it, or delete it and run `dminbox login` again"
    )


def _check(data: Any) -> None:
    """Raises ValueError, with a short reason, unless `data` is a valid store."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError("no version number")
    if version > FORMAT_VERSION:
        raise ValueError(f"version {version} was written by a newer dminbox")
    if version < 1:
        raise ValueError(f"unknown version {version}")
    data.setdefault("apps", {})
    data.setdefault("accounts", [])
    data.setdefault("last_used", None)
    if not isinstance(data["last_used"], str | None):
        raise ValueError("last_used is not a string")
    apps = data["apps"]
    if not isinstance(apps, dict):
        raise ValueError("apps is not an object")
    for instance, app in apps.items():
        if not isinstance(app, dict):
            raise ValueError(f"the app for {instance} is not an object")
        for key in ("client_id", "client_secret"):
            _need_text(app, key, f"the app for {instance}")
        app.setdefault("scopes", "")
        if not isinstance(app["scopes"], str):
            raise ValueError(f"the app for {instance} has scopes that are not text")
    rows = data["accounts"]
    if not isinstance(rows, list):
        raise ValueError("accounts is not a list")
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        where = f"account {number}"
        if not isinstance(row, dict):
            raise ValueError(f"{where} is not an object")
        for key in ("acct", "instance", "account_id"):
            _need_text(row, key, where)
        acct = row["acct"]
        if "@" not in acct.strip("@") or not is_token(acct):
            raise ValueError(f"{where}: acct {acct!r} is not user@host")
        where = acct
        if acct.lower() in seen:
            raise ValueError(f"{acct} is listed twice")
        seen.add(acct.lower())
        try:
            row["instance"] = normalise_instance(row["instance"])
        except ConfigError as error:
            raise ValueError(f"{where}: {error}") from None
        has_token, has_command = "token" in row, "token_command" in row
        if has_token == has_command:
            raise ValueError(f"{where} needs either token or token_command")
        if has_token:
            _need_text(row, "token", where)
            if not is_token(row["token"]):
                raise ValueError(f"{where}: the token holds spaces or control characters")
        else:
            command = row["token_command"]
            valid = (isinstance(command, str) and command.strip()) or (
                isinstance(command, list)
                and command
                and all(isinstance(part, str) for part in command)
            )
            if not valid:
                raise ValueError(f"{where}: token_command is not a command")
        row.setdefault("scopes", "")
        if not isinstance(row["scopes"], str):
            raise ValueError(f"{where}: scopes is not text")


def _need_text(row: dict[str, Any], key: str, where: str) -> None:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} has no {key}")
