"""The errors the Mastodon client and the login raise, each with a one-line message for people.

`transient` says whether the same request may succeed later by itself (T) or
whether retrying cannot help until something changes (-):

ApiError                  - any other refusal (400, 405, ... and other 4xx)
├── NetworkError          T the server could not be reached, timed out, or dropped the connection
├── AuthenticationError   - 401: the token is missing, invalid or revoked
├── MissingScopeError     - 403: the token lacks the scope for this action
├── NotFoundError         - 404 and 410: the record is not yours, or is gone
├── ValidationError       - 422: the server refused the request's content
├── RateLimitedError      T 429: too many requests; `reset_at` tells when to retry
├── ServerError           T 5xx, a proxy's error page, a body that is not JSON, an answer
│                           too large or too slow (a redirect is one too, not transient)
└── LoginError            - logging in or out failed; wraps (and copies `transient` of)
    │                       the error above when the network or server caused it
    └── RegistrationRejected  the server no longer knows the stored app registration

The texts come from one place, dminbox/http.py, so a failure reads the same
in the inbox and in the login.

CacheError                the file is not a dminbox cache we can use
└── CacheBusy             another process held the cache file longer than we wait

ConfigError (a ValueError) a setting, an argument or the accounts file is wrong
└── NoAccountError        no account was given and none is stored
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "ApiError",
    "AuthenticationError",
    "CacheBusy",
    "CacheError",
    "ConfigError",
    "LoginError",
    "MissingScopeError",
    "NetworkError",
    "NoAccountError",
    "NotFoundError",
    "RateLimitedError",
    "RegistrationRejected",
    "ServerError",
    "ValidationError",
]


class ApiError(Exception):
    """Base of every client error. `str(error)` is one line fit for the screen."""

    status_code: int | None = None
    transient: bool = False
    """True when the same request may succeed later without anything changing."""

    def __init__(
        self, message: str, *, status_code: int | None = None, transient: bool | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if transient is not None:
            self.transient = transient

    def __str__(self) -> str:
        return self.message


class NetworkError(ApiError):
    """The server could not be reached, timed out, or dropped the connection."""

    transient = True


class AuthenticationError(ApiError):
    status_code = 401


class MissingScopeError(ApiError):
    status_code = 403


class NotFoundError(ApiError):
    status_code = 404


class ValidationError(ApiError):
    status_code = 422


class RateLimitedError(ApiError):
    status_code = 429
    transient = True

    def __init__(self, message: str, *, reset_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at
        """When the limit lifts (an aware datetime), or None when the server did not say."""


class ServerError(ApiError):
    """A 5xx answer, a proxy's error page, or a body that is not valid API data."""

    transient = True


class LoginError(ApiError):
    """Logging in or out failed; `str(error)` is one line for the user.

    When the network or the server caused it, the cause is chained
    (`__cause__`) and its `transient` and `status_code` are copied.
    """


class RegistrationRejected(LoginError):
    """The server no longer knows the stored app registration (`invalid_client`)."""


class CacheError(Exception):
    """The file is not a dminbox cache we can use."""


class CacheBusy(CacheError):
    """Another process held the file for longer than we wait."""


class ConfigError(ValueError):
    """A setting is wrong; the message is one line for the user."""


class NoAccountError(ConfigError):
    """No account was given and none is stored."""
