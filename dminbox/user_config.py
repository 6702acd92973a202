"""The user's config file, `<config dir>/config.toml`: read, checked, never written by the app.

`load()` gives a `UserConfig`: what the file sets, checked, with everything
it leaves out at its default. A wrong value, an unknown key or a TOML syntax
error is a `ConfigError` of one line naming the file, the line and the key:

    ~/.config/dminbox/config.toml:7: reading.preview_delay: expected a number of
    seconds from 0 to 5, got "fast"

tomllib gives no line numbers for keys, so the line is found in the text:
the first line where the key is set inside its table. `dminbox config init`
writes `default_text()`, every setting commented out at its default.

Also here: the theme last chosen in the command palette, kept in a state file
(the config file is the user's; dminbox does not rewrite it).

The standard library only (no Textual): the command line checks the file
without starting the app. Textual's theme names are written out here for
that reason, and a test holds them to Textual's.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dminbox.checks import DEFAULT_CACHE_LIMIT
from dminbox.config import Reading
from dminbox.errors import ConfigError
from dminbox.keymap import (
    BINDINGS,
    BadKey,
    check_keys,
    clash,
    default_keys,
    typed_key,
    written,
)
from dminbox.paths import config_file, private_dir, state_dir, theme_file

if TYPE_CHECKING:
    import tomllib

__all__ = [
    "MARK_READ",
    "THEMES",
    "UserConfig",
    "default_text",
    "load",
    "parse",
    "remember_theme",
    "remembered_theme",
    "run_command",
    "shown_path",
    "write_default",
]

THEMES = (
    "ansi-dark",
    "ansi-light",
    "atom-one-dark",
    "atom-one-light",
    "catppuccin-frappe",
    "catppuccin-latte",
    "catppuccin-macchiato",
    "catppuccin-mocha",
    "dracula",
    "flexoki",
    "gruvbox",
    "monokai",
    "nord",
    "rose-pine",
    "rose-pine-dawn",
    "rose-pine-moon",
    "solarized-dark",
    "solarized-light",
    "textual-dark",
    "textual-light",
    "tokyo-night",
)
"""Textual's themes (`textual.theme.BUILTIN_THEMES`), which the command palette offers."""

DEFAULT_THEME = "textual-dark"
"""Textual's default, which dminbox keeps: it reads in 16 colours (a test checks)."""

MARK_READ = ("on-open", "after-preview", "never")
DEFAULT_MARK_READ_AFTER = 3.0
"""Seconds of preview before a conversation counts as read, with mark_read = "after-preview"."""

PREVIEW_DELAY_MAX = 5.0
SECONDS_MAX = 60.0


@dataclass(frozen=True)
class UserConfig:
    """What the config file sets; whatever it leaves out is the default (or None: unset)."""

    path: Path | None = None
    """The file read; None when there is none."""
    theme: str | None = None
    reading: Reading = field(default_factory=Reading)
    cache_limit: int | None = None
    bell: bool | None = None
    notify: bool | None = None
    keys: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, checked, in the form Textual matches (`question_mark`)."""


class _Bad(ValueError):
    """A value that does not fit its setting; the text says what was expected."""


# -- reading the file ------------------------------------------------------------------


def load(path: Path | None = None) -> UserConfig:
    """The config file (`paths.config_file()` unless given), or the defaults when it is not
    there; a one-line ConfigError when it cannot be read or is wrong."""
    path = path or config_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return UserConfig()
    except OSError as error:
        raise ConfigError(f"{shown_path(path)}: cannot read it ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(f"{shown_path(path)}:{line}: not UTF-8 text") from None
    return parse(text, path)


def parse(text: str, path: Path) -> UserConfig:
    """The settings in `text` (the contents of `path`, which the messages name)."""
    import tomllib  # only when there is a file: a start without one does not pay for it

    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(_syntax_error(path, text, error)) from None
    found = _Finder(text)

    def fail(key: str, reason: str) -> ConfigError:
        line = found.line(key)
        where = f"{shown_path(path)}:{line}" if line else shown_path(path)
        return ConfigError(f"{where}: {key}: {reason}")

    values: dict[str, Any] = {}
    for section, value in table.items():
        if section == "keys":
            values["keys"] = _keys(value, fail)
        elif section == "theme":
            values["theme"] = _run(_theme, value, "theme", fail)
        elif section in _SECTIONS:
            if not isinstance(value, dict):
                raise fail(section, f"expected a table ([{section}]), got {_shown(value)}")
            for name, item in value.items():
                key = f"{section}.{name}"
                check = _SECTIONS[section].get(name)
                if check is None and name in _TOP:
                    raise fail(key, f"{name} belongs at the top of the file, before any [table]")
                if check is None:
                    raise fail(key, _unknown(name, _SECTIONS[section], f"[{section}] has"))
                values[key] = _run(check, item, key, fail)
        else:
            raise fail(section, _unknown(section, _TOP, "the file has"))
    return UserConfig(
        path=path,
        theme=values.get("theme"),
        reading=_reading(values),
        cache_limit=values.get("cache.limit"),
        bell=values.get("alerts.bell"),
        notify=values.get("alerts.notify"),
        keys=values.get("keys", {}),
    )


def _run(check: Callable[[Any], Any], value: Any, key: str, fail: Any) -> Any:
    try:
        return check(value)
    except _Bad as error:
        raise fail(key, str(error)) from None


def _reading(values: dict[str, Any]) -> Reading:
    base = Reading()
    mark_read = values.get("reading.mark_read", "on-open")
    after = values.get("reading.mark_read_after", DEFAULT_MARK_READ_AFTER)
    return Reading(
        preview_delay=values.get("reading.preview_delay", base.preview_delay),
        mark_read_on_open=mark_read != "never",
        mark_read_after_preview=after if mark_read == "after-preview" else None,
        undo_seconds=values.get("reading.undo_seconds", base.undo_seconds),
    )


def _syntax_error(path: Path, text: str, error: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, `Invalid value (at line 3, column 9)`, as `path:3: …`."""
    message = str(error)
    at = re.search(r" \(at line (\d+), column (\d+)\)$", message)
    if at is not None:
        line, reason = at.group(1), f"{message[: at.start()]} (column {at.group(2)})"
    elif message.endswith(" (at end of document)"):
        line, reason = str(text.count("\n") + 1), message.removesuffix(" (at end of document)")
    else:
        line, reason = "", message
    where = f"{shown_path(path)}:{line}" if line else shown_path(path)
    return f"{where}: not valid TOML: {reason[:1].lower()}{reason[1:]}"


# -- what each setting takes ---------------------------------------------------------------


def _seconds(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not low <= value <= high:
            raise _Bad(
                f"expected a number of seconds from {_number(low)} to {_number(high)},"
                f" got {_shown(value)}"
            )
        return float(value)

    return check


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            quoted = [f'"{choice}"' for choice in choices]
            raise _Bad(f"expected {', '.join(quoted[:-1])} or {quoted[-1]}, got {_shown(value)}")
        return str(value)

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_shown(value)}")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Bad(f"expected a whole number of 1 or more, got {_shown(value)}")
    return value


def _theme(value: Any) -> str:
    if value not in THEMES:
        names = ", ".join(THEMES)
        raise _Bad(f"expected one of Textual's themes ({names}), got {_shown(value)}")
    return str(value)


_SECTIONS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "reading": {
        "preview_delay": _seconds(0, PREVIEW_DELAY_MAX),
        "mark_read": _choice(*MARK_READ),
        "mark_read_after": _seconds(0, SECONDS_MAX),
        "undo_seconds": _seconds(0, SECONDS_MAX),
    },
    "cache": {"limit": _whole},
    "alerts": {"bell": _boolean, "notify": _boolean},
}
_TOP = ["theme", *(f"[{name}]" for name in (*_SECTIONS, "keys"))]


def _keys(table: Any, fail: Callable[[str, str], ConfigError]) -> dict[str, str]:
    """`[keys]`: binding id -> keys. `list.down = "n"` is a dotted key in TOML (a table
    `list` holding `down`), `"list.down" = "n"` one key: both mean the binding list.down."""
    if not isinstance(table, dict):
        raise fail("keys", f"expected a table ([keys]), got {_shown(table)}")
    keys: dict[str, str] = {}
    for binding_id, value in _flatten(table):
        key = f"keys.{binding_id}"
        if default_keys(binding_id) is None:
            import difflib

            near = difflib.get_close_matches(binding_id, [b.id for b in BINDINGS], n=1)
            hint = f"; did you mean {near[0]}?" if near else "; `dminbox config init` lists them"
            raise fail(key, f"no such binding{hint}")
        if not isinstance(value, str):
            raise fail(key, f'expected keys like "j" or "ctrl+n,down", got {_shown(value)}')
        try:
            keys[binding_id] = check_keys(value)
        except BadKey as error:
            raise fail(key, str(error)) from None
        if (typed := typed_key(binding_id, keys[binding_id])) is not None:
            raise fail(key, f'"{typed}" would be typed into the text field; use ctrl+…, alt+…')
    if (found := clash(keys)) is not None:
        binding_id, taken, other = found
        raise fail(
            f"keys.{binding_id}",
            f'"{taken}" is also the key of {other}; give that one another key too',
        )
    return keys


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _unknown(name: str, known: Any, owner: str) -> str:
    import difflib

    names = list(known)
    near = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {near[0]}? " if near else ""
    return f"unknown key ({hint}{owner} {', '.join(names)})"


def _shown(value: Any) -> str:
    """A value as TOML writes it, cut short: `"fast"`, `true`, `3`, `a table`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + '…"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def shown_path(path: Path) -> str:
    """`~/.config/dminbox/config.toml`: the path as the user knows it."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


# -- finding a key's line ------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


class _Finder:
    """Finds the line that sets a key: the first where it is set inside its table (an
    inline table's line for a key inside it; a table's header for the table)."""

    def __init__(self, text: str) -> None:
        self._lines: list[tuple[int, str]] = []
        table: list[str] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if line.startswith("["):
                inner = line.lstrip("[")
                parts, _rest = _read_key(inner)
                if parts is not None:
                    table = parts
                    self._lines.append((number, ".".join(table)))
                continue
            parts, rest = _read_key(line)
            if parts is not None and rest.startswith("="):
                self._lines.append((number, ".".join([*table, *parts])))

    def line(self, key: str) -> int | None:
        best: tuple[int, int] | None = None
        for number, found in self._lines:
            if found == key:
                return number
            if key.startswith(found + ".") and (best is None or len(found) > best[1]):
                best = (number, len(found))
        return best[0] if best else None


def _read_key(text: str) -> tuple[list[str] | None, str]:
    """A TOML key at the start of `text` (`a."b.c".d`) as its parts, and what follows."""
    parts: list[str] = []
    rest = text
    while True:
        rest = rest.lstrip()
        if rest[:1] == '"':
            end = _closing_quote(rest)
            if end < 0:
                return None, text
            try:
                parts.append(json.loads(rest[: end + 1]))
            except ValueError:
                parts.append(rest[1:end])
            rest = rest[end + 1 :]
        elif rest[:1] == "'":
            end = rest.find("'", 1)
            if end < 0:
                return None, text
            parts.append(rest[1:end])
            rest = rest[end + 1 :]
        else:
            bare = _BARE.match(rest)
            if bare is None:
                return None, text
            parts.append(bare.group())
            rest = rest[bare.end() :]
        rest = rest.lstrip()
        if rest[:1] != ".":
            return parts, rest
        rest = rest[1:]


def _closing_quote(text: str) -> int:
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    return -1


# -- the default file ---------------------------------------------------------------------


def default_text() -> str:
    """The file `dminbox config init` writes: every setting, commented out at its default."""
    reading = Reading()
    lines = [
        "# dminbox's config file. Every setting is commented out at its default:",
        "# take away the '#' to change one. `dminbox config check` checks the file.",
        "# Command-line options and DMINBOX_* variables win over what is set here.",
        "",
        "# A Textual theme (ctrl+p, then 'theme', lists them; a theme chosen there is",
        "# remembered, but one set here wins at start).",
        f'# theme = "{DEFAULT_THEME}"',
        "",
        "[reading]",
        "# Seconds the cursor rests on a row before the thread pane shows it (0 to 5).",
        f"# preview_delay = {_number(reading.preview_delay)}",
        '# When a conversation counts as read: "on-open" (opening it), "after-preview"',
        '# (shown beside the list for mark_read_after seconds, or opened), "never" (m only).',
        '# mark_read = "on-open"',
        f"# mark_read_after = {_number(DEFAULT_MARK_READ_AFTER)}",
        "# Seconds a removal can be undone (u) before the server is told (0 to 60).",
        f"# undo_seconds = {_number(reading.undo_seconds)}",
        "",
        "[cache]",
        "# Conversations kept in the cache, the oldest go first (--cache-limit,",
        "# DMINBOX_CACHE_LIMIT).",
        f"# limit = {DEFAULT_CACHE_LIMIT}",
        "",
        "[alerts]",
        "# When a new message arrives by itself: ring the terminal bell (--bell,",
        "# DMINBOX_BELL), raise a terminal notification (--notify, DMINBOX_NOTIFY).",
        "# bell = false",
        "# notify = false",
        "",
        "[keys]",
        '# Any key binding, by its id: "key" or "key1,key2". The keys given replace the',
        '# binding\'s defaults. Keys are Textual\'s names: "j", "G", "?", "ctrl+n",',
        '# "alt+x", "enter", "escape", "tab", "space", "up", "pagedown", "f5".',
    ]
    width = max(len(f'# {b.id} = "{written(b.keys)}"') for b in BINDINGS)
    scope = ""
    for binding in BINDINGS:
        if binding.scope != scope:
            scope = binding.scope
            lines.append("")
        setting = f'# {binding.id} = "{written(binding.keys)}"'
        lines.append(f"{setting:<{width}}  # {binding.what}")
    return "\n".join(lines) + "\n"


def write_default(path: Path | None = None, *, force: bool = False) -> Path:
    """Writes `default_text()` to the config file; a ConfigError if there is one already
    (unless `force`) or it cannot be written."""
    path = path or config_file()
    if path.exists() and not force:
        raise ConfigError(f"{shown_path(path)} already exists (--force replaces it)")
    try:
        private_dir(path.parent)
        path.write_text(default_text(), encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{shown_path(path)}: cannot write it ({error.strerror})") from None
    return path


# -- dminbox config path|init|check ---------------------------------------------------------


def run_command(action: str, *, force: bool = False) -> int:
    """`dminbox config ACTION`: prints what it did, and gives the exit code (init refusing
    to replace a file: 1; a file that is wrong: 2)."""
    path = config_file()
    if action == "path":
        print(path)
        return 0
    if action == "init":
        try:
            write_default(path, force=force)
        except ConfigError as error:
            print(f"dminbox: {error}", file=sys.stderr)
            return 1
        print(f"wrote {shown_path(path)}")
        return 0
    try:
        config = load(path)
    except ConfigError as error:
        print(f"dminbox: {error}", file=sys.stderr)
        return 2
    note = "" if config.path else " (no file: the defaults apply)"
    print(f"ok: {shown_path(path)}{note}")
    return 0


# -- the theme chosen in the command palette ------------------------------------------------


def remembered_theme() -> str | None:
    """The theme last chosen in the command palette, if it is still one of Textual's."""
    try:
        name = theme_file().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if name in THEMES else None


def remember_theme(name: str) -> None:
    """Keeps the choice for the next start (a state file; the config file is not touched)."""
    path = theme_file()
    try:
        private_dir(state_dir())
        temporary = path.with_suffix(".tmp")
        temporary.write_text(name + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a theme not remembered is no reason to bother anyone
