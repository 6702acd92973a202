"""Settings from the command line, the environment and the config file, checked once into a
frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dminbox.checks import (
    DEFAULT_CACHE_LIMIT,
    cache_limit_from_env,
    checked_token,
    normalise_instance,
)
from dminbox.errors import ConfigError, NoAccountError

if TYPE_CHECKING:
    from dminbox.user_config import UserConfig

__all__ = [
    "DEFAULT_CACHE_LIMIT",
    "DEMO_INSTANCE",
    "Reading",
    "Settings",
    "settings_from",
    "settings_from_args",
    "with_config",
]

DEMO_INSTANCE = "https://demo.dminbox.invalid"


@dataclass(frozen=True)
class Reading:
    """How the inbox behaves while reading: what the config file's reading options set."""

    preview_delay: float = 0.15
    """Seconds the cursor rests on a row before the thread pane previews it."""
    mark_read_on_open: bool = True
    """`enter` marks an unread conversation read."""
    mark_read_after_preview: float | None = None
    """Seconds of preview after which a conversation is marked read; None: never."""
    undo_seconds: float = 5.0
    """How long a removal can be undone before it is sent."""


@dataclass(frozen=True)
class Settings:
    """What the app and the script commands run with."""

    instance: str
    """The server's origin, `https://host[:port]`."""
    token: str = field(repr=False)
    demo: bool = False
    account_id: str | None = None
    """The token owner's id when known (a stored account); else learnt from the server."""
    acct: str | None = None
    """`user@host` of a stored account."""
    use_cache: bool = True
    cache_limit: int = DEFAULT_CACHE_LIMIT
    bell: bool = False
    """Ring the terminal bell when a new message arrives by itself."""
    notify: bool = False
    """Send a terminal notification (OSC 777 and OSC 9) when a new message arrives."""
    reading: Reading = field(default_factory=Reading)
    theme: str | None = None
    """A Textual theme's name; None: dminbox's default (it reads in 16 colours)."""
    keys: dict[str, str] = field(default_factory=dict)
    """The user's key bindings: binding id -> keys ("j,down"), from the config file."""

    @property
    def host(self) -> str:
        return self.instance.split("://", 1)[1]

    @property
    def label(self) -> str:
        if self.demo:
            return "demo"
        return self.acct or self.host


def settings_from(instance: str | None, token: str | None) -> Settings:
    """Settings for a real server, or a ConfigError naming what is missing or wrong."""
    if not instance and not token:
        raise ConfigError(
            "no account given: pass --instance URL --token TOKEN "
            "(or set DMINBOX_INSTANCE and DMINBOX_TOKEN), or try --demo"
        )
    if not instance:
        raise ConfigError("--token needs --instance URL (or DMINBOX_INSTANCE)")
    token = checked_token(token)
    return Settings(instance=normalise_instance(instance), token=token)


def settings_from_args(args: object, config: UserConfig | None = None) -> Settings:
    """Settings from parsed arguments: --demo, --instance/--token, or a stored account; the
    config file (read here unless given) fills what they and the environment leave unset."""
    if config is None:
        from dminbox.user_config import load

        config = load()
    return with_config(_account_settings(args), args, config)


def with_config(settings: Settings, args: object, config: UserConfig) -> Settings:
    """`settings` with the config file's values, where the command line and the environment
    say nothing: they win over the file, which wins over the defaults."""
    return replace(
        settings,
        cache_limit=_cache_limit(args, config),
        bell=_switch(args, "bell", "DMINBOX_BELL", config.bell),
        notify=_switch(args, "notify", "DMINBOX_NOTIFY", config.notify),
        reading=config.reading,
        theme=config.theme,
        keys=dict(config.keys),
    )


def _cache_limit(args: object, config: UserConfig) -> int:
    given = getattr(args, "cache_limit", None)
    if given:
        return int(given)
    if os.environ.get("DMINBOX_CACHE_LIMIT", "").strip():
        return cache_limit_from_env()
    return config.cache_limit or DEFAULT_CACHE_LIMIT


def _switch(args: object, name: str, variable: str, configured: bool | None) -> bool:
    """An on/off option: `--bell` (or DMINBOX_BELL, which is its default) when given, set
    either way; else the config file's; else off."""
    if getattr(args, name, False) or os.environ.get(variable, "").strip():
        return bool(getattr(args, name, False))
    return bool(configured)


def _account_settings(args: object) -> Settings:
    use_cache = not getattr(args, "no_cache", False)
    if getattr(args, "demo", False):
        return Settings(instance=DEMO_INSTANCE, token="demo-token", demo=True, use_cache=use_cache)
    instance, token = getattr(args, "instance", None), getattr(args, "token", None)
    if (instance or token) and not getattr(args, "account", None):
        return replace(settings_from(instance, token), use_cache=use_cache)
    from dminbox.accounts import resolve_account

    stored = resolve_account(getattr(args, "account", None))
    if stored is None:
        raise NoAccountError(
            "no account: log in with `dminbox login INSTANCE`, pass --instance and --token, "
            "or try `dminbox --demo`"
        )
    return Settings(
        instance=stored.instance,
        token=stored.token,
        account_id=stored.account_id,
        acct=stored.acct,
        use_cache=use_cache,
    )
