"""dminbox.paths gives the folders platformdirs gives, though it imports platformdirs only
when it must (so `dminbox unread-count --offline` need not load it)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from dminbox import paths

FOLDERS = [
    (paths.config_dir, platformdirs.user_config_dir, "XDG_CONFIG_HOME"),
    (paths.cache_dir, platformdirs.user_cache_dir, "XDG_CACHE_HOME"),
    (paths.state_dir, platformdirs.user_state_dir, "XDG_STATE_HOME"),
]


@pytest.mark.parametrize("xdg", [None, "", "/tmp/xdg folder", "/tmp/xdg/", "relative/xdg"])
@pytest.mark.parametrize("home", [None, "", "/home/someone", "/home/someone/", "/", "rel/home"])
def test_the_folders_are_platformdirs_folders(monkeypatch, xdg, home) -> None:
    for mine, theirs, variable in FOLDERS:
        with monkeypatch.context() as patch:
            for name, value in ((variable, xdg), ("HOME", home)):
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            try:
                expected = Path(theirs(paths.APP_NAME))
            except RuntimeError:  # no home platformdirs can find: nor can dminbox
                continue
            assert mine() == expected, (variable, xdg, home)


def test_the_usual_case_does_not_import_platformdirs(tmp_path) -> None:
    code = (
        "import sys\n"
        "from dminbox import paths\n"
        "paths.cache_path('https://a.example', '1'); paths.config_dir(); paths.state_dir()\n"
        "print('platformdirs' in sys.modules)\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    expected = "True" if sys.platform != "linux" else "False"
    assert result.stdout.strip() == expected


def test_a_cache_path_is_one_folder_per_host_one_file_per_account() -> None:
    path = paths.cache_path("https://mastodon.example:8443", "../109/x")
    assert path == paths.cache_dir() / "mastodon.example_8443" / ".._109_x.sqlite3"
    assert paths.last_account_file("https://mastodon.example:8443") == path.parent / "last-account"


def test_the_token_fingerprint_is_sha256_and_keeps_no_token() -> None:
    fingerprint = paths.token_fingerprint("secret")
    assert fingerprint == hashlib.sha256(b"dminbox:secret").hexdigest()[:32]
    assert "secret" not in fingerprint
