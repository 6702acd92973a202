"""Telling the user a new message came: a toast always; the bell and a terminal
notification if they asked for them (`--bell`, `--notify`).

A terminal notification is OSC 777 (`notify;title;body`: urxvt, foot, kitty,
wezterm, VTE terminals) and OSC 9 (iTerm2, Windows Terminal, ConEmu), which
travel over ssh as any output does. Inside tmux they are wrapped in tmux's
passthrough (it needs `set -g allow-passthrough on`). The sender's name and
text are untrusted: control characters go, and so does anything that could end
the sequence early.
"""

from __future__ import annotations

import os

from dminbox.text import one_line

__all__ = ["notification"]

_FIELD = 80
"""At most this many characters of a name or a preview."""


def _field(text: str) -> str:
    # one_line drops control characters (ESC and BEL with them); ";" separates fields.
    return one_line(text, _FIELD).replace(";", ",")


def notification(title: str, body: str, *, tmux: bool | None = None) -> str:
    """The escape sequences that raise a desktop notification from the terminal."""
    title, body = _field(title), _field(body)
    sequences = f"\x1b]777;notify;{title};{body}\x07\x1b]9;{title}: {body}\x07"
    if tmux if tmux is not None else bool(os.environ.get("TMUX")):
        # tmux passes on what is inside "ESC P tmux; ... ESC \", with every ESC doubled.
        return "".join(
            f"\x1bPtmux;{part.replace(chr(27), chr(27) * 2)}\x1b\\"
            for part in (
                f"\x1b]777;notify;{title};{body}\x07",
                f"\x1b]9;{title}: {body}\x07",
            )
        )
    return sequences
