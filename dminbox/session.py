"""Which account, which cache, which server: builds the sync engine for one account.

The engine (`dminbox.engine`) keeps the inbox true; this module only decides
what it runs on. Nothing here opens a file or a connection: the engine opens
the cache on its own thread and the HTTP client on first use, after the first
paint. The fake server is never imported here: `--demo` hands in its transport.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dminbox.clock import Clock
from dminbox.config import Settings
from dminbox.engine import Engine
from dminbox.errors import ApiError
from dminbox.paths import known_account, token_fingerprint

if TYPE_CHECKING:
    from dminbox.client import MastodonClient
    from dminbox.store import Cache

__all__ = ["EngineOpener", "account_cache_path", "open_engine"]

log = logging.getLogger(__name__)


def open_engine(
    settings: Settings,
    *,
    transport: Any = None,
    clock: Clock | None = None,
    cache: Path | None | bool = True,
) -> Engine:
    """The engine for these settings. `cache` True finds the account's cache, a path names
    one, None keeps it in memory only; `--demo` passes its fake server's transport."""
    if cache is True:
        cache = account_cache_path(settings, transport=transport, ask_server=True)
    path = cache if isinstance(cache, Path) else None
    limit = settings.cache_limit

    def open_store() -> Cache:
        from dminbox.store import Cache

        return Cache.open(path, limit=limit)

    def open_client() -> MastodonClient:
        from dminbox.client import MastodonClient

        return MastodonClient(settings.instance, settings.token, transport=transport)

    engine = Engine(
        open_store=open_store,
        open_client=open_client,
        instance=settings.instance,
        clock=clock,
        account_id=settings.account_id,
    )
    engine.undo_seconds = settings.reading.undo_seconds
    return engine


def account_cache_path(
    settings: Settings, *, transport: Any = None, ask_server: bool = False
) -> Path | None:
    """Where this account's cache is, or None when there is to be none (or it is unknown).

    The account id comes from a stored account, else from the account last used
    on this instance, else (with `ask_server`) from the server, once.
    """
    if settings.demo or not settings.use_cache:
        return None
    account_id = settings.account_id or known_account(settings.instance, settings.token)
    if account_id is None and ask_server:
        account_id = _verify(settings, transport)
    if account_id is None:
        return None
    remember_account(settings.instance, settings.token, account_id)
    from dminbox.store import cache_path

    return cache_path(settings.instance, account_id)


def remember_account(instance: str, token: str, account_id: str) -> None:
    """Notes whose token this is, for an offline start next time (file 0600)."""
    from dminbox.store import last_account_file

    path = last_account_file(instance)
    wanted = token_fingerprint(token)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        if f"{wanted} {account_id}" in lines:
            return
        kept = [line for line in lines if not line.startswith(wanted + " ") and " " in line]
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join([*kept[-15:], f"{wanted} {account_id}"]) + "\n")
    except OSError as error:
        log.warning("cannot remember the account: %s", error)


def _verify(settings: Settings, transport: Any) -> str | None:
    """Asks the server whose token this is, once, before the app starts."""
    import asyncio

    from dminbox.client import MastodonClient

    async def ask() -> str | None:
        async with MastodonClient(settings.instance, settings.token, transport=transport) as c:
            return (await c.verify_credentials()).id

    try:
        return asyncio.run(ask())
    except ApiError as error:
        log.warning("cannot verify the token: %s", error)
        return None


@dataclass
class EngineOpener:
    """Opens the engine of a stored account, so the app can switch without restarting."""

    settings: Settings
    """The options of this run (cache on or off, its limit); the account part is replaced."""
    transport: Any = None
    """For tests: the transport every new client uses."""

    clock: Clock | None = None
    """For tests: the clock every new engine runs on."""

    def open(self, stored: Any) -> Engine:
        from dminbox.accounts import mark_used

        with contextlib.suppress(OSError):
            mark_used(stored.acct)
        settings = dataclasses.replace(
            self.settings,
            instance=stored.instance,
            token=stored.token,
            account_id=stored.account_id,
            acct=stored.acct,
            demo=False,
        )
        try:
            return open_engine(settings, transport=self.transport, clock=self.clock)
        except (OSError, sqlite3.Error) as error:
            from dminbox.errors import ConfigError

            raise ConfigError(f"cannot open its cache ({error})") from error
