"""The errors the Mastodon client raises, each with a one-line message for people.

ApiError
├── NetworkError          the server could not be reached, or the connection broke
├── AuthenticationError   401: the token is missing, invalid or revoked
├── MissingScopeError     403: the token lacks the scope for this action
├── NotFoundError         404: the record is not yours, or is gone
├── ValidationError       422: the server refused the request's content
├── RateLimitedError      429: too many requests; `reset_at` tells when to retry
└── ServerError           5xx, or a response that is not what the API promises
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "ApiError",
    "AuthenticationError",
    "MissingScopeError",
    "NetworkError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "ValidationError",
]


class ApiError(Exception):
    """Base of every client error. `str(error)` is one line fit for the screen."""

    status_code: int | None = None

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class NetworkError(ApiError):
    """The server could not be reached, timed out, or dropped the connection."""


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

    def __init__(self, message: str, *, reset_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class ServerError(ApiError):
    """A 5xx answer, a proxy's error page, or a body that is not valid API data."""
