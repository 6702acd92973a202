"""Where each account's cache file lives, how it is kept private, and how it goes away.

One SQLite file per account: `<cache dir>/<host>/<account id>.sqlite3`, with
its `-wal` and `-shm` companions. The folders are 0700 and the files 0600.
Where they are is `dminbox.paths`' (`cache_path`, `last_account_file`, shared
with `dminbox unread-count --offline`); this module re-exports both.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from dminbox.paths import cache_path, last_account_file

__all__ = ["cache_path", "delete_account_cache", "last_account_file"]

_COMPANIONS = ("", "-wal", "-shm")
"""The suffixes of the files SQLite keeps beside a WAL database."""


def delete_account_cache(instance: str, account_id: str) -> bool:
    """Deletes one account's cache files; True if there was anything to delete."""
    path = cache_path(instance, account_id)
    removed = False
    for suffix in (*_COMPANIONS, "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
            removed = True
    pointer = last_account_file(instance)
    with contextlib.suppress(OSError):
        lines = pointer.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.partition(" ")[2].strip() != account_id]
        if kept != lines:
            pointer.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    return removed


def private_folder(path: Path) -> None:
    """The account's folder and the cache root above it, both 0700."""
    from dminbox.paths import private_dir

    private_dir(path)
    with contextlib.suppress(OSError):
        if path.parent.name:
            os.chmod(path.parent, 0o700)


def create_private(path: Path) -> None:
    """Makes sure the database file exists and is 0600 before SQLite opens it.

    SQLite gives the `-wal`, `-shm` and `-journal` files it creates the mode of
    the database file, so no process-wide umask has to change (another thread
    may be creating files of its own at that moment).
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def private_files(path: Path) -> None:
    """0600 for the database and its companions (older versions may have left 0644)."""
    for suffix in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", 0o600)


def move_aside(path: Path) -> Path:
    """Renames a damaged file (and its companions) out of the way; returns the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
    for suffix in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{target}{suffix}")
    return target
