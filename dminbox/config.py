"""Settings from the command line and the environment, checked once into a frozen model."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field


class ConfigError(ValueError):
    """A setting is wrong; the message is one line for the user."""


class NoAccountError(ConfigError):
    """No account was given and none is stored."""


DEFAULT_CACHE_LIMIT = 5000
"""Conversations kept in the cache unless told otherwise; the oldest go first."""
DEMO_INSTANCE = "https://demo.dminbox.invalid"


class Settings(BaseModel):
    """What the app and the script commands run with."""

    model_config = ConfigDict(frozen=True)

    instance: str
    """The server's origin, `https://host[:port]`."""
    token: str = Field(repr=False)
    demo: bool = False
    account_id: str | None = None
    """The token owner's id when known (a stored account); else learnt from the server."""
    acct: str | None = None
    """`user@host` of a stored account."""
    use_cache: bool = True
    cache_limit: int = DEFAULT_CACHE_LIMIT

    @property
    def host(self) -> str:
        return self.instance.split("://", 1)[1]

    @property
    def label(self) -> str:
        if self.demo:
            return "demo"
        return self.acct or self.host


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_instance(value: str) -> str:
    """`https://host[:port]` from what the user typed, or a ConfigError saying why not.

    A bare host means https. Plain http is allowed only to a loopback address,
    since the token would otherwise cross the network in clear text.
    """
    text = value.strip()
    if not text:
        raise ConfigError("the instance URL is empty")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"{value!r} is not a valid instance URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"{value!r} is not an http(s) URL; use https://your.instance")
    if not host or " " in host:
        raise ConfigError(f"{value!r} has no host name; use https://your.instance")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{value!r} should be just https://host, without user, query or #")
    if parts.path not in ("", "/"):
        raise ConfigError(f"{value!r} has a path; give just the server, e.g. https://{host}")
    if scheme == "http" and not _is_loopback(host):
        raise ConfigError(
            f"refusing plain http to {host}: the token would travel in clear text; use https://"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc.lower()}"


def settings_from(instance: str | None, token: str | None) -> Settings:
    """Settings for a real server, or a ConfigError naming what is missing or wrong."""
    if not instance and not token:
        raise ConfigError(
            "no account given: pass --instance URL --token TOKEN "
            "(or set DMINBOX_INSTANCE and DMINBOX_TOKEN), or try --demo"
        )
    if not instance:
        raise ConfigError("--token needs --instance URL (or DMINBOX_INSTANCE)")
    if not token or not token.strip():
        raise ConfigError("--instance needs --token TOKEN (or DMINBOX_TOKEN)")
    token = token.strip()
    if not token.isascii() or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise ConfigError("the token holds spaces or characters a token never has; copy it again")
    return Settings(instance=normalise_instance(instance), token=token)


def settings_from_args(args: object) -> Settings:
    """Settings from parsed arguments: --demo, --instance/--token, or a stored account."""
    cache = {
        "use_cache": not getattr(args, "no_cache", False),
        "cache_limit": getattr(args, "cache_limit", None) or _cache_limit_from_env(),
    }
    if getattr(args, "demo", False):
        return Settings(instance=DEMO_INSTANCE, token="demo-token", demo=True, **cache)
    instance, token = getattr(args, "instance", None), getattr(args, "token", None)
    if (instance or token) and not getattr(args, "account", None):
        return settings_from(instance, token).model_copy(update=cache)
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
        **cache,
    )


def _cache_limit_from_env() -> int:
    import os

    raw = os.environ.get("DMINBOX_CACHE_LIMIT", "").strip()
    if not raw:
        return DEFAULT_CACHE_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"DMINBOX_CACHE_LIMIT={raw!r} is not a whole number of 1 or more")
    return int(raw)
