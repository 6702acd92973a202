"""Where dminbox keeps its files: platformdirs paths, so XDG_* variables redirect them.

Nothing is created on import; callers ask for a folder and get it made, 0700.
Also here, because `dminbox unread-count --offline` (`dminbox.quick`) must
find the same files as the full program without loading it: where an
account's cache lives, and the `last-account` file that tells which account
a bare token belongs to.

This module imports only the standard library. On Linux, in the usual cases
(an absolute XDG_* variable, else an absolute HOME), it gives the folder
platformdirs gives without importing platformdirs, which costs that quick
command more than a third of its time; anywhere else it asks platformdirs.
A test holds the two to the same answers.
"""

from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path

APP_NAME = "dminbox"


def private_dir(path: Path) -> Path:
    """Makes `path` (and missing parents) and leaves it 0700: DMs and tokens live there."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def config_dir() -> Path:
    return _user_dir("config", "XDG_CONFIG_HOME", ".config")


def cache_dir() -> Path:
    return _user_dir("cache", "XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    return _user_dir("state", "XDG_STATE_HOME", ".local/state")


def _user_dir(kind: str, variable: str, under_home: str) -> Path:
    """`platformdirs.user_<kind>_dir("dminbox")`, as a Path.

    On Linux (not Android) platformdirs takes an absolute `variable` (a relative
    one is ignored), else `~/<under_home>`: with an absolute HOME that is computed
    here. Other systems, and a HOME that is unset or relative, go to platformdirs.
    """
    if sys.platform == "linux" and not _maybe_android():
        value = os.environ.get(variable, "")
        if posixpath.isabs(value):
            return Path(value, APP_NAME)
        home = os.environ.get("HOME", "")
        if posixpath.isabs(home):
            return Path(home, under_home, APP_NAME)
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME))


def _maybe_android() -> bool:
    """Any sign of Android, where platformdirs may choose other folders: it decides then."""
    return hasattr(sys, "getandroidapilevel") or "ANDROID_DATA" in os.environ


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in text) or "_"


def cache_path(instance: str, account_id: str) -> Path:
    """Where the cache of one account lives: `<cache dir>/<host>/<account id>.sqlite3`."""
    host = instance.split("://", 1)[-1]
    return cache_dir() / _safe_name(host) / f"{_safe_name(account_id)}.sqlite3"


def last_account_file(instance: str) -> Path:
    """Maps token fingerprints to account ids on this instance, for an offline start
    with a bare --token: one `<fingerprint> <account id>` a line (see `known_account`)."""
    return cache_path(instance, "x").parent / "last-account"


def token_fingerprint(token: str) -> str:
    """Tells tokens apart without keeping them: a one-way hash, never the token."""
    try:
        # The SHA-256 hashlib itself falls back on, without loading OpenSSL: 2 ms that
        # `unread-count --offline` cannot spare. The same digest.
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - Python 3.12 renamed it (_sha2); some builds lack it
        from hashlib import sha256
    return sha256(("dminbox:" + token).encode("utf-8")).hexdigest()[:32]


def _remembered(instance: str) -> list[str]:
    try:
        return last_account_file(instance).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def known_account(instance: str, token: str) -> str | None:
    """The account a token was last seen to belong to on this instance, if any.

    Keyed by the token's fingerprint, so another token for the same host never
    opens this account's cache (nor sends its queued actions).
    """
    wanted = token_fingerprint(token)
    for line in _remembered(instance):
        fingerprint, _, account_id = line.partition(" ")
        if fingerprint == wanted and account_id.strip():
            return account_id.strip()
    return None


def is_remembered(instance: str, token: str, account_id: str) -> bool:
    """True when `last-account` already holds exactly this token's line for this account,
    so noting it again (`dminbox.session.remember_account`) would change nothing."""
    return f"{token_fingerprint(token)} {account_id}" in _remembered(instance)


def config_file() -> Path:
    """The user's config file (`dminbox.user_config` reads it; dminbox never writes it,
    except `dminbox config init`)."""
    return config_dir() / "config.toml"


def theme_file() -> Path:
    """The theme last chosen in the command palette: one line, its name."""
    return state_dir() / "theme"


def log_file() -> Path:
    """The log, for tracebacks that must never reach the screen (made private on first use)."""
    return private_dir(state_dir()) / "dminbox.log"
