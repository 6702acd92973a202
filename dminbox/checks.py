"""Checks on what people type: an instance URL, a token, the cache limit.

Each check returns the value dminbox uses or raises `ConfigError` with a
one-line message. The standard library only: `dminbox.config`, the accounts
file and `dminbox unread-count --offline` (`dminbox.quick`) share these, so
the quick path accepts and refuses exactly what the full one does.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from dminbox.errors import ConfigError

__all__ = [
    "DEFAULT_CACHE_LIMIT",
    "cache_limit_from_env",
    "checked_token",
    "is_token",
    "normalise_instance",
]

DEFAULT_CACHE_LIMIT = 5000
"""Conversations kept in the cache unless told otherwise; the oldest go first."""


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


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_token(text: str) -> bool:
    """True when `text` could be a token: printable ASCII without spaces, not empty."""
    return (
        bool(text) and text.isascii() and all(ch.isprintable() and not ch.isspace() for ch in text)
    )


def checked_token(token: str | None) -> str:
    """The token given with --instance (or DMINBOX_TOKEN), stripped; a ConfigError if it
    is missing or holds what a token never has (a paste gone wrong)."""
    if not token or not token.strip():
        raise ConfigError("--instance needs --token TOKEN (or DMINBOX_TOKEN)")
    token = token.strip()
    if not is_token(token):
        raise ConfigError("the token holds spaces or characters a token never has; copy it again")
    return token


def cache_limit_from_env() -> int:
    """DMINBOX_CACHE_LIMIT, or the default when it is unset or blank."""
    raw = os.environ.get("DMINBOX_CACHE_LIMIT", "").strip()
    if not raw:
        return DEFAULT_CACHE_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"DMINBOX_CACHE_LIMIT={raw!r} is not a whole number of 1 or more")
    return int(raw)
