"""The config file: what it sets, every mistake in one line (file:line: key: why), what wins
over it, and `dminbox config path|init|check`."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dminbox import paths, user_config
from dminbox.cli import main
from dminbox.config import DEFAULT_CACHE_LIMIT, Reading, settings_from_args
from dminbox.errors import ConfigError
from dminbox.keymap import BINDINGS, check_keys, key_to_name
from dminbox.session import open_engine
from dminbox.user_config import UserConfig, default_text, load, parse


def write(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(text: str) -> str:
    path = write(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(str(path))


def test_the_core_of_the_config_never_imports_textual() -> None:
    code = (
        "import sys, dminbox.user_config, dminbox.keymap, dminbox.config\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_no_file_is_the_defaults() -> None:
    assert load() == UserConfig()
    assert paths.config_file() == paths.config_dir() / "config.toml"


def test_what_a_file_sets() -> None:
    path = write(
        """
theme = "nord"

[reading]
preview_delay = 0.4
mark_read = "after-preview"
mark_read_after = 2
undo_seconds = 10

[cache]
limit = 300

[alerts]
bell = true
notify = false

[keys]
list.down = "e,down"
"list.up" = "i"
inbox.help = "?,f1"
inbox.mark_read = "shift+ctrl+x"
"""
    )
    config = load()
    assert config.path == path
    assert config.theme == "nord"
    assert config.reading == Reading(
        preview_delay=0.4, mark_read_on_open=True, mark_read_after_preview=2.0, undo_seconds=10.0
    )
    assert (config.cache_limit, config.bell, config.notify) == (300, True, False)
    assert config.keys == {
        "list.down": "e,down",
        "list.up": "i",
        "inbox.help": "question_mark,f1",
        "inbox.mark_read": "ctrl+shift+x",
    }


@pytest.mark.parametrize(
    ("mark_read", "on_open", "after"),
    [("on-open", True, None), ("after-preview", True, 3.0), ("never", False, None)],
)
def test_mark_read(mark_read, on_open, after) -> None:
    write(f'[reading]\nmark_read = "{mark_read}"\n')
    reading = load().reading
    assert (reading.mark_read_on_open, reading.mark_read_after_preview) == (on_open, after)


def test_keys_may_be_written_as_dotted_keys_quoted_keys_or_tables() -> None:
    forms = [
        '[keys]\nlist.down = "e"\n',
        '[keys]\n"list.down" = "e"\n',
        '[keys]\nlist = { down = "e" }\n',
        '[keys.list]\ndown = "e"\n',
        'keys.list.down = "e"\n',
    ]
    for text in forms:
        write(text)
        assert load().keys == {"list.down": "e"}, text


# The line, the key, and why: each mistake as the user reads it.
MISTAKES = [
    (
        '# dminbox\n\ntheme = "nord"\n\n[reading]\nmark_read = "never"\npreview_delay = "fast"\n',
        ':7: reading.preview_delay: expected a number of seconds from 0 to 5, got "fast"',
    ),
    (
        "[reading]\npreview_delay = 6\n",
        ":2: reading.preview_delay: expected a number of seconds from 0 to 5, got 6",
    ),
    (
        "[reading]\npreview_delay = -0.5\n",
        ":2: reading.preview_delay: expected a number of seconds from 0 to 5, got -0.5",
    ),
    (
        "[reading]\npreview_delay = true\n",
        ":2: reading.preview_delay: expected a number of seconds from 0 to 5, got true",
    ),
    (
        "[reading]\nundo_seconds = nan\n",
        ":2: reading.undo_seconds: expected a number of seconds from 0 to 60, got nan",
    ),
    (
        "[reading]\nmark_read_after = 61\n",
        ":2: reading.mark_read_after: expected a number of seconds from 0 to 60, got 61",
    ),
    (
        '[reading]\nmark_read = "sometimes"\n',
        ':2: reading.mark_read: expected "on-open", "after-preview" or "never", got "sometimes"',
    ),
    (
        "[reading]\npreview = 1\n",
        ":2: reading.preview: unknown key (did you mean preview_delay? "
        "[reading] has preview_delay, mark_read, mark_read_after, undo_seconds)",
    ),
    (
        '[reading]\ntheme = "nord"\n',
        ":2: reading.theme: theme belongs at the top of the file, before any [table]",
    ),
    ("reading = 3\n", ":1: reading: expected a table ([reading]), got 3"),
    ("[cache]\nlimit = 0\n", ":2: cache.limit: expected a whole number of 1 or more, got 0"),
    ("[cache]\nlimit = 1.5\n", ":2: cache.limit: expected a whole number of 1 or more, got 1.5"),
    ('[alerts]\nbell = "yes"\n', ':2: alerts.bell: expected true or false, got "yes"'),
    ("[alerts]\n\n\nnotify = 1\n", ":4: alerts.notify: expected true or false, got 1"),
    (
        "[colours]\nx = 1\n",
        ":1: colours: unknown key (the file has theme, [reading], [cache], [alerts], [keys])",
    ),
    (
        'thme = "nord"\n',
        ":1: thme: unknown key (did you mean theme? the file has theme, "
        "[reading], [cache], [alerts], [keys])",
    ),
    ('theme = "neon"\n', ":1: theme: expected one of Textual's themes (ansi-dark, "),
    ('[keys]\nlist.dwn = "e"\n', ":2: keys.list.dwn: no such binding; did you mean list.down?"),
    (
        '[keys]\nfrobnicate = "e"\n',
        ":2: keys.frobnicate: no such binding; `dminbox config init` lists them",
    ),
    (
        "[keys]\nlist.down = 3\n",
        ':2: keys.list.down: expected keys like "j" or "ctrl+n,down", got 3',
    ),
    (
        '[keys]\nlist.down = ""\n',
        ':2: keys.list.down: expected at least one key, like "j" or "ctrl+n,down"',
    ),
    (
        '[keys]\nlist.down = "ctrl+shft+x"\n',
        ":2: keys.list.down: \"ctrl+shft+x\": 'shft' is not "
        "a modifier (alt, ctrl, hyper, meta, shift, super)",
    ),
    (
        '[keys]\nlist.down = "pgdown"\n',
        ":2: keys.list.down: \"pgdown\": 'pgdown' is not a key Textual knows",
    ),
    (
        '[keys]\nlist.down = "shift+e"\n',
        ':2: keys.list.down: "shift+e" never arrives: write "E" for a capital',
    ),
    (
        '[keys]\nlist.down = "ctrl+q"\n',
        ':2: keys.list.down: "ctrl+q" is Textual\'s own key to quit, taken before any binding',
    ),
    (
        '[keys]\nlist.down = "m"\n',
        ':2: keys.list.down: "m" is also the key of inbox.mark_read; give that one another key too',
    ),
    (
        '[keys]\ncomposer.send = "s"\n',
        ':2: keys.composer.send: "s" would be typed into the text field; use ctrl+…, alt+…',
    ),
    (
        '[keys]\nlist = { up = "k", down = "x,m" }\n',
        ':2: keys.list.down: "m" is also the key of inbox.mark_read; give that one another key too',
    ),
    (
        "[reading]\npreview_delay 3\n",
        ":2: not valid TOML: expected '=' after a key in a key/value pair (column 15)",
    ),
    (
        "[reading]\nundo_seconds = 1\nundo_seconds = 2\n",
        ":3: not valid TOML: cannot overwrite a value (column 17)",
    ),
    ('theme = "nord', ":1: not valid TOML: "),
]


@pytest.mark.parametrize(("text", "expected"), MISTAKES)
def test_every_mistake_is_one_line_with_the_file_the_line_and_the_key(text, expected) -> None:
    assert error_of(text).startswith(expected)


def test_the_path_is_shown_from_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    write("[reading]\n\npreview_delay = 'fast'\n")
    with pytest.raises(ConfigError) as caught:
        load()
    assert str(caught.value) == (
        "~/.config/dminbox/config.toml:3: reading.preview_delay: expected a number of seconds "
        'from 0 to 5, got "fast"'
    )


def test_a_file_that_is_not_utf8_or_cannot_be_read() -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"# ok\n# \xff\n")
    with pytest.raises(ConfigError, match=r"config\.toml:2: not UTF-8 text$"):
        load()
    path.unlink()
    path.mkdir()
    with pytest.raises(ConfigError, match=r"config\.toml: cannot read it \(Is a directory\)$"):
        load()


def test_a_key_is_found_in_its_own_table_not_in_another() -> None:
    text = '[alerts]\nbell = true\n\n[keys]\n# bell = 3\nbell = "x"\n'
    assert error_of(text).startswith(":6: keys.bell: no such binding")


def test_the_default_file_changes_nothing_even_with_every_line_uncommented() -> None:
    text = default_text()
    assert parse(text, Path("config.toml")) == UserConfig(path=Path("config.toml"))
    uncommented = re.sub(r"(?m)^# ([\w.]+ = .*)$", r"\1", text)
    assert uncommented.count("\n# ") < text.count("\n# ") - len(BINDINGS)
    config = parse(uncommented, Path("config.toml"))
    assert config.theme == user_config.DEFAULT_THEME
    assert config.reading == Reading()
    assert (config.cache_limit, config.bell, config.notify) == (DEFAULT_CACHE_LIMIT, False, False)
    assert config.keys == {b.id: check_keys(b.keys) for b in BINDINGS}


def test_the_default_file_names_every_binding_and_setting() -> None:
    text = default_text()
    for binding in BINDINGS:
        assert f"# {binding.id} = " in text
    for setting in ("theme", "preview_delay", "mark_read", "mark_read_after", "undo_seconds"):
        assert f"# {setting} = " in text
    for table in ("[reading]", "[cache]", "[alerts]", "[keys]"):
        assert table in text


def test_the_theme_names_are_textuals() -> None:
    from textual.theme import BUILTIN_THEMES

    assert set(user_config.THEMES) == set(BUILTIN_THEMES)
    assert user_config.DEFAULT_THEME in BUILTIN_THEMES


def test_key_names_are_textuals() -> None:
    from textual.keys import _character_to_key

    for character in [chr(code) for code in range(33, 127)] + ["é", "ß", "§"]:
        assert key_to_name(character) == _character_to_key(character), character


@pytest.mark.parametrize(
    ("written", "keys"),
    [
        ("?", "question_mark"),
        ("question_mark", "question_mark"),
        ("j, Down ,j", "j,down"),
        ("shift+ctrl+up", "ctrl+shift+up"),
        ("alt+x", "alt+x"),
        ("esc,Enter,PgDn,↓", "escape,enter,pagedown,down"),
        ("F5", "f5"),
        ("comma,/", "comma,slash"),
        ("+", "plus"),
        ("G", "G"),
    ],
)
def test_keys_are_read_as_textual_matches_them(written, keys) -> None:
    assert check_keys(written) == keys


# -- what wins over the file -------------------------------------------------------------


def args(**given) -> argparse.Namespace:
    base = {"demo": True, "no_cache": False, "cache_limit": None, "bell": False, "notify": False}
    return argparse.Namespace(**(base | given))


def test_the_file_fills_the_settings() -> None:
    write(
        'theme = "nord"\n[reading]\nundo_seconds = 9\n[cache]\nlimit = 77\n'
        '[alerts]\nbell = true\nnotify = true\n[keys]\ninbox.reply = "R"\n'
    )
    settings = settings_from_args(args())
    assert settings.theme == "nord"
    assert settings.reading.undo_seconds == 9.0
    assert (settings.cache_limit, settings.bell, settings.notify) == (77, True, True)
    assert settings.keys == {"inbox.reply": "R"}


def test_defaults_without_a_file() -> None:
    settings = settings_from_args(args())
    assert (settings.cache_limit, settings.bell, settings.notify) == (5000, False, False)
    assert (settings.theme, settings.keys, settings.reading) == (None, {}, Reading())


def test_the_command_line_and_the_environment_win_over_the_file(monkeypatch) -> None:
    write("[cache]\nlimit = 77\n[alerts]\nbell = true\nnotify = false\n")
    assert settings_from_args(args(cache_limit=12)).cache_limit == 12
    monkeypatch.setenv("DMINBOX_CACHE_LIMIT", "34")
    assert settings_from_args(args()).cache_limit == 34
    assert settings_from_args(args(cache_limit=12)).cache_limit == 12
    assert settings_from_args(args(notify=True)).notify is True
    monkeypatch.setenv("DMINBOX_BELL", "0")
    assert settings_from_args(args()).bell is False, "the environment said no"
    monkeypatch.setenv("DMINBOX_BELL", "")
    assert settings_from_args(args()).bell is True


def test_the_parsed_command_line_and_the_environment_win(monkeypatch) -> None:
    from dminbox.arguments import build_parser

    write("[cache]\nlimit = 77\n[alerts]\nbell = true\n")
    monkeypatch.setenv("DMINBOX_BELL", "no")
    parsed = build_parser().parse_args(["--demo", "--notify", "--cache-limit", "9"])
    settings = settings_from_args(parsed)
    assert (settings.cache_limit, settings.bell, settings.notify) == (9, False, True)


def test_undo_seconds_reach_the_engine() -> None:
    write("[reading]\nundo_seconds = 1.5\n")
    engine = open_engine(settings_from_args(args()), cache=None)
    assert engine.undo_seconds == 1.5


# -- dminbox config path|init|check ---------------------------------------------------------


def test_config_path(capsys) -> None:
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out == f"{paths.config_file()}\n"
    assert not paths.config_file().exists()


def test_config_init_writes_the_default_and_refuses_to_overwrite(capsys) -> None:
    path = paths.config_file()
    assert main(["config", "init"]) == 0
    assert path.read_text(encoding="utf-8") == default_text()
    assert capsys.readouterr().out.startswith("wrote ")
    path.write_text('theme = "nord"\n', encoding="utf-8")
    assert main(["config", "init"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists (--force replaces it)" in err
    assert path.read_text(encoding="utf-8") == 'theme = "nord"\n'
    assert main(["config", "init", "--force"]) == 0
    assert path.read_text(encoding="utf-8") == default_text()


def test_config_check(capsys) -> None:
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    main(["config", "init"])
    capsys.readouterr()
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out == f"ok: {user_config.shown_path(paths.config_file())}\n"
    write('[alerts]\nbell = "loud"\n')
    assert main(["config", "check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f'dminbox: {paths.config_file()}:2: alerts.bell: expected true or false, got "loud"\n'
    )


@pytest.mark.parametrize("command", [["--demo"], ["--demo", "list", "--offline"]])
def test_a_bad_file_stops_the_start_with_its_line(capsys, command) -> None:
    write('[keys]\nlist.down = "ctrl+nope"\n')
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"dminbox: {paths.config_file()}:2: keys.list.down: ")


# -- the theme chosen in the palette ---------------------------------------------------------


def test_the_chosen_theme_is_remembered_in_the_state_folder() -> None:
    assert user_config.remembered_theme() is None
    user_config.remember_theme("nord")
    assert user_config.remembered_theme() == "nord"
    assert paths.theme_file().parent == paths.state_dir()
    assert not paths.config_file().exists(), "the config file is never written"
    paths.theme_file().write_text("not-a-theme\n", encoding="utf-8")
    assert user_config.remembered_theme() is None


# -- the README is the schema's documentation ----------------------------------------------

README = Path(__file__).parent.parent / "README.md"


def test_the_readmes_example_is_a_valid_config_file() -> None:
    section = README.read_text(encoding="utf-8").split("## Config file", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = parse(example, Path("config.toml"))
    assert config.theme == "nord"
    assert config.keys["inbox.mark_read"] == "x"


def test_the_readme_lists_every_binding_id() -> None:
    text = README.read_text(encoding="utf-8")
    for binding in BINDINGS:
        assert f"`{binding.id}` = " in text, binding.id
