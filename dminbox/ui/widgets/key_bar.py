"""The footer: the keys that apply now, on one line, drawn as one piece of text.

Textual's Footer builds a widget for every key and rebuilds them all when
the keys change, which costs a few tens of milliseconds on the first frame.
This draws the same line from the screen's active bindings in one pass and
repaints only when what it says changes. A key that does not apply right now
(undo with nothing to undo) shows dimmed, as in Textual's Footer.
"""

from __future__ import annotations

from textual.binding import ActiveBinding, Binding
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

MOVEMENT = frozenset({"Move", "Ends"})
"""Keys every vim hand knows: the first to go when the line is wider than the terminal
(the help screen, `?`, lists them all)."""


class KeyBar(Widget):
    """`j/k Move  g/G Ends  ⏎ Open  m Read  d Del …` from the focused pane's bindings."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: tuple[tuple[str, str, bool], ...] = ()
        """(key, description, enabled) of each key shown, in order."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        shown: dict[str, tuple[Binding, bool]] = {}
        for _node, binding, enabled, _tooltip in _declared_order(screen):
            if binding.show and binding.action not in shown:
                shown[binding.action] = (binding, enabled)
        keys = tuple(
            (self.app.get_key_display(binding), binding.description, enabled)
            for binding, enabled in shown.values()
        )
        if keys != self._keys:
            self._keys = keys
            self.refresh()

    def on_resize(self) -> None:
        self.refresh()

    def _fitting(self) -> tuple[tuple[str, str, bool], ...]:
        """The keys that fit the width: the movement keys go first when not all do, then
        the last ones, but never the help key (the help screen lists them all)."""
        keys = self._keys
        if _width(keys) <= self.size.width:
            return keys
        keys = tuple(key for key in keys if key[1] not in MOVEMENT)
        kept = list(keys)
        while _width(tuple(kept)) > self.size.width and len(kept) > 1:
            for index in range(len(kept) - 1, -1, -1):
                if kept[index][1] != "Help":  # the help lists every key, remapped or not
                    del kept[index]
                    break
            else:
                break
        return tuple(kept)

    def render(self) -> Content:
        parts: list[str | tuple[str, str]] = []
        for display, text, enabled in self._fitting():
            if parts:
                parts.append(" ")
            dim = "" if enabled else " dim"
            parts.append((display, f"bold $footer-key-foreground{dim}"))
            parts.append((f" {text}", f"$footer-description-foreground{dim}"))
        return Content.assemble(*parts)


def _width(keys: tuple[tuple[str, str, bool], ...]) -> int:
    return sum(len(display) + len(text) + 2 for display, text, _ in keys) - 1


def _declared_order(screen: Screen[object]) -> list[ActiveBinding]:
    """The active bindings in the order their widgets declare them: a key the config file
    remaps keeps its place on the line (Textual puts remapped keys last)."""
    nodes: dict[object, list[str | None]] = {}

    def place(active: ActiveBinding) -> tuple[int, int]:
        declared = nodes.setdefault(
            active.node,
            [b.id for b in getattr(active.node, "BINDINGS", ()) if isinstance(b, Binding)],
        )
        found = active.binding.id
        index = declared.index(found) if found in declared else len(declared)
        return list(nodes).index(active.node), index

    return sorted(screen.active_bindings.values(), key=place)
