"""The user's keys and theme in the UI: what the footer, the help and the palette show.

The config file's `[keys]` reach Textual through `App.set_keymap`, which
rebinds every `Binding` by its id; the footer then reads the new keys from
the active bindings. What Textual does not do is done here: the help lists
bindings as declared (so it asks for the user's keys), and a pair the
footer shows as one (`j/k Move`) follows the user's keys for both halves.
"""

from __future__ import annotations

import os
from typing import Any

from textual.binding import Binding

from dminbox.keymap import PAIRED, default_keys
from dminbox.user_config import remembered_theme


def user_keys(app: Any) -> dict[str, str]:
    """binding id -> keys, from the config file (empty for an app that has none)."""
    keys = getattr(app, "user_keys", None)
    return keys if isinstance(keys, dict) else {}


def keys_of(app: Any, binding: Binding) -> list[str]:
    """Every key of a binding as declared, once the user's map applies: `["j", "down"]`."""
    mapped = user_keys(app).get(binding.id) if binding.id else None
    return [key.strip() for key in (mapped or binding.key).split(",")]


def pair_display(app: Any, binding: Binding) -> str | None:
    """`n/e` for a pair shown as one (`j/k`) when the user remapped either half; else None."""
    partner = PAIRED.get(binding.id or "")
    keys = user_keys(app)
    if partner is None or not ({binding.id, partner} & keys.keys()):
        return None

    def first(binding_id: str) -> str:
        key = (keys.get(binding_id) or default_keys(binding_id) or "").split(",")[0]
        return str(app.get_key_display(Binding(key, "")))

    return f"{first(binding.id or '')}/{first(partner)}"


def start_theme(configured: str | None) -> str | None:
    """The theme to start with: TEXTUAL_THEME (the environment wins, and Textual has applied
    it already: None), else the config file's, else the one last chosen in the palette."""
    if os.environ.get("TEXTUAL_THEME"):
        return None
    return configured or remembered_theme()
