"""The command palette (ctrl+p): every action with its key, the accounts, the themes.

One provider, so the list opens in a fixed order: the actions, then the other
accounts, then the themes. The actions come from the active bindings of the
screen the palette opened on, so they are the ones that apply there, with the
user's keys; the accounts come from the accounts file (read off the UI's
loop); the themes are Textual's. Every line enters as `Content`, never markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from dminbox.keymap import BINDINGS
from dminbox.text import one_line
from dminbox.ui.keys import keys_of

Entry = tuple[str, str, Callable[[], Any]]
"""What a line says, the keys shown beside it ("" for none), and what choosing it does."""

PALETTE_ACTION = "command_palette"
_ORDER = {spec.id: index for index, spec in enumerate(BINDINGS)}


class DmInboxCommands(Provider):
    """The actions where the palette opened, the other accounts, the themes."""

    entries: list[Entry]

    async def startup(self) -> None:
        self.entries = [*self._actions(), *await self._accounts(), *self._themes()]

    async def discover(self) -> Hits:
        for text, keys, command in self.entries:
            yield DiscoveryHit(_shown(Content(text), keys), command, text=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, keys, command in self.entries:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, _shown(matcher.highlight(text), keys), command, text=text)

    def _actions(self) -> list[Entry]:
        """One line per action, with every key of it (the user's), as the help writes them."""
        found: dict[tuple[int, str], tuple[Any, str, dict[str, Binding]]] = {}
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.id is None or not enabled or binding.action == PALETTE_ACTION:
                continue
            _, text, ids = found.setdefault(
                (id(node), binding.action),
                (node, tooltip or binding.tooltip or binding.description, {}),
            )
            ids.setdefault(binding.id, binding)
        entries: list[tuple[int, Entry]] = []
        for (_, action), (node, text, ids) in found.items():
            order = sorted(ids, key=lambda i: _ORDER.get(i, len(_ORDER)))
            keys = [
                self.app.get_key_display(Binding(key, ""))
                for binding_id in order
                for key in keys_of(self.app, _declared(node, ids[binding_id]))
            ]
            run = partial(self.app.run_action, action, node)
            entries.append((_ORDER.get(order[0], len(_ORDER)), (text, " ".join(keys), run)))
        return [entry for _, entry in sorted(entries, key=lambda item: item[0])]

    async def _accounts(self) -> list[Entry]:
        from dminbox.accounts import list_accounts
        from dminbox.errors import ConfigError

        switch = getattr(self.app, "switch_to_acct", None)
        if switch is None:
            return []
        try:
            accounts = await asyncio.to_thread(list_accounts)
        except (ConfigError, OSError):
            return []  # the accounts screen (a) says what is wrong with the file
        current = getattr(self.app, "account_label", "")
        return [
            (f"Account: {one_line(entry.acct, 80)}", "", partial(switch, entry.acct))
            for entry in accounts
            if entry.acct != current
        ]

    def _themes(self) -> list[Entry]:
        choose = getattr(self.app, "choose_theme", None)
        if choose is None:
            return []
        return [
            (f"Theme: {name}", "(now)" if name == self.app.theme else "", partial(choose, name))
            for name in sorted(self.app.available_themes)
        ]


def _declared(node: Any, active: Binding) -> Binding:
    """The binding as its widget declares it (`j,down`): an active one holds one key."""
    for binding in getattr(node, "BINDINGS", ()):
        if isinstance(binding, Binding) and binding.id == active.id:
            return binding
    return active


def _shown(text: Content, keys: str) -> Content:
    return Content.assemble(text, ("  " + keys, "$text-muted")) if keys else text


PROVIDERS: set[Any] = {DmInboxCommands}
"""The app's `COMMANDS`: Textual's own (quit, screenshot, …) are left out, the keys do those."""
