"""Where dminbox keeps its files: platformdirs paths, so XDG_* variables redirect them.

Nothing is created on import; callers ask for a folder and get it made, 0700.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "dminbox"


def private_dir(path: Path) -> Path:
    """Makes `path` (and missing parents) and leaves it 0700: DMs and tokens live there."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME))


def log_file() -> Path:
    """The log, for tracebacks that must never reach the screen (made private on first use)."""
    return private_dir(state_dir()) / "dminbox.log"
