"""The key bindings as a contract: every binding's id and default keys, and key strings checked.

The ids are what the config file's `[keys]` section names (`list.down = "n"`);
they stay stable from release to release. The UI gives each `Binding` the same
`id` and default keys (a test holds the two together) and applies the user's
map with Textual's keymap (`App.set_keymap`). The standard library only: the
config file is checked (`dminbox config check`) without loading Textual, so
the key names Textual knows are written out here, and a test holds them to
Textual's.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "BINDINGS",
    "PAIRED",
    "BadKey",
    "BindingSpec",
    "check_keys",
    "clash",
    "default_keys",
    "effective_keys",
    "key_to_name",
    "typed_key",
    "written",
]


@dataclass(frozen=True)
class BindingSpec:
    """One key binding of the app, as the config file knows it."""

    id: str
    """`<where>.<what>`: `list.down`, `inbox.reply`, `composer.send`."""
    keys: str
    """The default keys, Textual's way: `j,down`."""
    what: str
    """What it does, for the default config file."""

    @property
    def scope(self) -> str:
        return self.id.split(".", 1)[0]


def _specs(scope: str, *rows: tuple[str, str, str]) -> tuple[BindingSpec, ...]:
    return tuple(BindingSpec(f"{scope}.{name}", keys, what) for name, keys, what in rows)


BINDINGS: tuple[BindingSpec, ...] = (
    *_specs(
        "list",
        ("down", "j,down", "next conversation"),
        ("up", "k,up", "previous conversation"),
        ("first", "g,home", "first conversation"),
        ("last", "G,end", "last loaded conversation (retries a failed page)"),
        ("page_down", "pagedown,ctrl+f", "a screen down"),
        ("page_up", "pageup,ctrl+b", "a screen up"),
        ("open", "enter", "open the conversation"),
    ),
    *_specs(
        "thread",
        ("down", "j,down", "scroll down"),
        ("up", "k,up", "scroll up"),
        ("top", "g,home", "first message"),
        ("bottom", "G,end", "last message"),
        ("page_down", "space,pagedown", "a screen down"),
        ("page_up", "b,pageup", "a screen up"),
        ("warnings", "c", "show or hide content warnings"),
        ("links", "o", "the thread's links and media: copy one, open it with $BROWSER"),
    ),
    *_specs(
        "inbox",
        ("switch_pane", "tab", "switch between the list and the thread"),
        ("back", "escape", "back to the list"),
        ("mark_read", "m", "mark read"),
        ("remove", "d,delete", "remove the conversation (undo with u)"),
        ("undo", "u", "undo the last removal"),
        ("next_unread", "n", "next unread conversation"),
        ("previous_unread", "N", "previous unread conversation"),
        ("mark_unread", "U", "mark unread"),
        ("reply", "r", "reply"),
        ("new_message", "C", "write a new direct message"),
        ("links", "o", "in the list: the links of the thread shown beside it"),
        ("refresh", "ctrl+r", "fetch newer conversations; retry now"),
        ("find", "slash", "find: filter the list as you type"),
        ("clear_find", "escape", "clear a filter kept with enter"),
        ("help", "question_mark", "help"),
    ),
    *_specs(
        "find",
        ("cancel", "escape", "clear the filter"),
        ("down", "down", "next match"),
        ("up", "up", "previous match"),
    ),
    *_specs(
        "composer",
        ("send", "ctrl+s", "send the message"),
        ("editor", "ctrl+o", "write the text in $VISUAL or $EDITOR"),
        ("close", "escape", "close the composer (the draft is kept)"),
        ("next_field", "tab", "next field"),
        ("previous_field", "shift+tab", "previous field"),
    ),
    *_specs(
        "app",
        ("accounts", "a", "accounts: switch, or log in to another"),
        ("quit", "q", "quit"),
        ("interrupt", "ctrl+c", "quit, from anywhere"),
        ("commands", "ctrl+p", "the command palette"),
    ),
    *_specs("help", ("close", "escape,q,question_mark", "close the help")),
    *_specs(
        "links",
        ("close", "escape", "close the links"),
        ("down", "j", "next link"),
        ("up", "k", "previous link"),
        *((f"go_{n}", str(n), f"go to link [{n}]") for n in range(1, 10)),
    ),
    *_specs("confirm", ("yes", "y", "yes"), ("no", "n,escape", "no")),
    *_specs(
        "accounts",
        ("cancel", "escape", "back to the inbox"),
        ("login", "l", "log in to another account"),
    ),
    *_specs(
        "login",
        ("cancel", "escape", "cancel the login"),
        ("copy_url", "ctrl+y", "copy the address (OSC 52)"),
    ),
    *_specs(
        "refused",
        ("login", "l", "log in again"),
        ("keep_reading", "escape", "keep reading the cached inbox"),
    ),
)
"""Every binding in the order the help lists them. Ids are a contract: never rename one."""

_BY_ID = {spec.id: spec for spec in BINDINGS}

PAIRED: dict[str, str] = {
    "list.down": "list.up",
    "list.first": "list.last",
    "thread.down": "thread.up",
    "thread.top": "thread.bottom",
}
"""Bindings the footer shows as one pair (`j/k Move`): the shown one, and its partner."""

_TOGETHER: tuple[frozenset[str], ...] = (
    frozenset({"list", "inbox", "app"}),
    frozenset({"thread", "inbox", "app"}),
    frozenset({"composer", "inbox", "app"}),
    frozenset({"find", "inbox", "app"}),
    frozenset({"help"}),
    frozenset({"links"}),
    frozenset({"confirm"}),
    frozenset({"accounts"}),
    frozenset({"login"}),
    frozenset({"refused"}),
)
"""Scopes whose keys are live at the same time (a widget, its screen, the app); a modal
screen's keys are alone."""

_TYPED_IN = frozenset({"composer", "find", "login"})
"""Scopes whose focus is a text field: a printable key there is typed, never a binding."""

MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""In the order Textual writes them (sorted): `ctrl+shift+up`."""

_SPECIAL = frozenset(
    {
        "escape",
        "enter",
        "tab",
        "space",
        "backspace",
        "delete",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
        *(f"f{n}" for n in range(1, 25)),
    }
)
"""Keys with a name of their own in Textual (`textual.keys.Keys`), modifiers aside."""

_ALIASES = {
    "esc": "escape",
    "return": "enter",
    "del": "delete",
    "ins": "insert",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "↑": "up",
    "↓": "down",
    "←": "left",
    "→": "right",
    "⏎": "enter",
}
"""What the footer shows (or people write) for a key, and the key's name."""

_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
"""As `textual.keys.KEY_NAME_REPLACEMENTS`."""


_RESERVED = {"ctrl+q": "is Textual's own key to quit, taken before any binding"}


class BadKey(ValueError):
    """A key string that names no key, or one that can never arrive; the text says why."""


def key_to_name(character: str) -> str:
    """Textual's name for the key that types `character`: `?` is `question_mark`, `a` is `a`
    (as `textual.keys._character_to_key`)."""
    if character.isalnum():
        return character
    if character == "\t":
        return "tab"
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return _NAME_REPLACEMENTS.get(name, name)


_CHARACTER_NAMES = frozenset(key_to_name(chr(code)) for code in range(33, 127))
"""`exclamation_mark`, `slash`, `comma`, …: the printable ASCII characters by name."""


def _is_printable(name: str) -> bool:
    return len(name) == 1 or name in _CHARACTER_NAMES


def _one_key(text: str) -> str:
    """One key (`ctrl+shift+up`, `?`, `question_mark`) in Textual's form, or BadKey."""
    if not text:
        raise BadKey("an empty key")
    if text == "+":
        return "plus"
    *modifiers, key = text.split("+")
    key = _ALIASES.get(key.lower(), key)
    if not key:
        raise BadKey(f'"{text}": a key name is missing after "+" (the key + is "plus")')
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            known = ", ".join(MODIFIERS)
            raise BadKey(f'"{text}": {modifier!r} is not a modifier ({known})')
    if len(set(modifiers)) != len(modifiers):
        raise BadKey(f'"{text}" names a modifier twice')
    if len(key) == 1:
        if not key.isprintable() or key.isspace():
            raise BadKey(f'"{text}": not a key you can type; use "space", "tab", …')
        if modifiers == ["shift"] and key.isalpha():
            raise BadKey(f'"{text}" never arrives: write "{key.upper()}" for a capital')
        name = key_to_name(key)
    else:
        name = key.lower() if key.lower() in _SPECIAL else key
        if name not in _SPECIAL and name not in _CHARACTER_NAMES:
            raise BadKey(f'"{text}": {key!r} is not a key Textual knows')
    key = "+".join([*sorted(modifiers), name])
    if key in _RESERVED:
        raise BadKey(f'"{text}" {_RESERVED[key]}')
    return key


def check_keys(text: str) -> str:
    """The keys of one binding, `"j,down"`, in the form Textual matches (`question_mark` for
    `?`, modifiers sorted); a BadKey saying what is wrong."""
    if not text.strip():
        raise BadKey('expected at least one key, like "j" or "ctrl+n,down"')
    keys: list[str] = []
    for part in text.split(","):
        key = _one_key(part.strip())
        if key not in keys:
            keys.append(key)
    return ",".join(keys)


_CHARACTERS = {key_to_name(chr(code)): chr(code) for code in range(33, 127)} | {"space": "space"}
_CHARACTERS.pop("comma")  # the separator: a comma key can only be written "comma"
_CHARACTERS.pop("plus")  # "ctrl++" would not read well


def written(keys: str) -> str:
    """Keys as people write them: `question_mark` as `?` (`check_keys` takes either)."""
    return ",".join(_CHARACTERS.get(key, key) for key in keys.split(","))


def default_keys(binding_id: str) -> str | None:
    spec = _BY_ID.get(binding_id)
    return None if spec is None else spec.keys


def effective_keys(keys: dict[str, str]) -> dict[str, list[str]]:
    """Every binding's keys once the user's map (checked keys) is applied."""
    return {spec.id: (keys.get(spec.id) or check_keys(spec.keys)).split(",") for spec in BINDINGS}


def typed_key(binding_id: str, keys: str) -> str | None:
    """A key that a text field would swallow, when `binding_id` lives beside one."""
    if binding_id.split(".", 1)[0] not in _TYPED_IN:
        return None
    return next((key for key in keys.split(",") if _is_printable(key)), None)


def clash(keys: dict[str, str]) -> tuple[str, str, str] | None:
    """The first key the user gave a binding that another binding, live at the same time,
    also has: (binding id, key, the other's id); None when there is none. Clashes the
    defaults have by design (escape in the composer and in the inbox) do not count."""
    final = effective_keys(keys)
    defaults = effective_keys({})
    for binding_id in keys:
        scope = binding_id.split(".", 1)[0]
        for key in final[binding_id]:
            for other, other_keys in final.items():
                if other == binding_id or key not in other_keys:
                    continue
                together = any({scope, other.split(".", 1)[0]} <= group for group in _TOGETHER)
                by_design = key in defaults[binding_id] and key in defaults[other]
                if together and not by_design:
                    return binding_id, key, other
    return None
