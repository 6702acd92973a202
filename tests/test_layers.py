"""The core never imports Textual: the UI depends on it, never the other way."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "dminbox.models",
    "dminbox.errors",
    "dminbox.engine",
    "dminbox.clock",
    "dminbox.http",
    "dminbox.page",
    "dminbox.client",
    "dminbox.inbox",
    "dminbox.text",
    "dminbox.config",
    "dminbox.paths",
    "dminbox.checks",
    "dminbox.account_file",
    "dminbox.quick",
    "dminbox.arguments",
    "dminbox.cli",
    "dminbox.fake",
    "dminbox.store",
    "dminbox.session",
    "dminbox.scripts",
    "dminbox.accounts",
    "dminbox.oauth",
    "dminbox.login_flow",
    "dminbox.account_commands",
]


def test_core_modules_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_importing_the_package_creates_no_files(tmp_path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "c"),
        "XDG_CACHE_HOME": str(tmp_path / "k"),
        "XDG_STATE_HOME": str(tmp_path / "s"),
        "PATH": "/usr/bin:/bin",
    }
    code = "".join(f"import {name}\n" for name in CORE) + "import dminbox.ui.app\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_ui_never_speaks_http_or_sql() -> None:
    from pathlib import Path

    ui = Path(__file__).parent.parent / "dminbox" / "ui"
    for path in ui.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("import httpx", "import sqlite3", "from httpx", "from sqlite3"):
            assert word not in text, f"{path.name} has {word!r}"


CORE_WITHOUT_THE_FAKE = [name for name in CORE if name not in ("dminbox.fake", "dminbox.cli")]


def test_the_core_never_imports_the_fake_server() -> None:
    """Only the command line builds `--demo`'s transport."""
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE_WITHOUT_THE_FAKE)
        + "print(','.join(sorted(m for m in sys.modules if m.startswith('dminbox.fake'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_first_paint_path_imports_neither_httpx_nor_pydantic() -> None:
    """The app, its engine and the cache load without the HTTP stack or the validator."""
    code = (
        "import sys\n"
        "import dminbox.cli, dminbox.session, dminbox.engine, dminbox.store, dminbox.ui.app\n"
        "print(','.join(sorted(m for m in ('httpx', 'pydantic') if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
