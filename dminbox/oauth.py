"""Logging in with OAuth's out-of-band flow, which works over ssh: plain async functions on httpx.

    target = parse_instance("@me@mastodon.social")
    async with http_client() as http:
        app = await register_app(http, target)
        print(authorize_url(target, app))          # the user opens it anywhere
        grant = await exchange_code(http, target, app, input())
        account = await verify_credentials(http, target, grant.access_token)

Every failure is a `LoginError` (dminbox/errors.py) whose text is one line
for the user; a typed instance that cannot be an instance is a `ConfigError`
(bad argument). The requests go through dminbox/http.py, as the API client's
do: a network failure, a 429 or a 5xx reads exactly as it does in the inbox.
No message ever holds a token, a code or a client secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import quote, urlencode, urlsplit

import httpx

from dminbox.accounts import AppRegistration
from dminbox.checks import normalise_instance
from dminbox.errors import ApiError, ConfigError, LoginError, RegistrationRejected
from dminbox.http import READ_TIMEOUT, Reply, build_client, error_for, fetch, server_said
from dminbox.models import Account

__all__ = [
    "CLIENT_NAME",
    "OOB",
    "SCOPES",
    "Target",
    "TokenGrant",
    "authorize_url",
    "check_registration",
    "exchange_code",
    "http_client",
    "parse_instance",
    "register_app",
    "revoke_token",
    "verify_credentials",
]

OOB = "urn:ietf:wg:oauth:2.0:oob"
"""The redirect that makes the server show the code instead of redirecting."""
SCOPES = "read:statuses read:accounts write:conversations write:statuses"
"""Least privilege: read DMs and who you are, mark read/remove, and send."""
CLIENT_NAME = "dminbox"
USERNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
HOST = re.compile(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]")
CHECK_CODE = "dminbox-registration-check"


@dataclass(frozen=True)
class Target:
    """Where to log in: the server's origin, and the user if one was typed."""

    instance: str
    """`https://host[:port]`."""
    username: str | None = None

    @property
    def host(self) -> str:
        return self.instance.split("://", 1)[1]


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    scopes: str


def parse_instance(text: str) -> Target:
    """`mastodon.social`, `https://mastodon.social/`, `@me@mastodon.social` or a profile URL.

    Raises ConfigError (one line) for what cannot name a server.
    """
    value = text.strip()
    username = None
    if "://" not in value and "@" in value:
        username, _, value = value.lstrip("@").rpartition("@")
        if not username:
            raise ConfigError(f"{text!r} has no host after the @: use @you@your.instance")
    elif "://" in value:
        # A profile URL (https://host/@me) names both the server and the user.
        parts = urlsplit(value)
        match = re.fullmatch(r"/@([^/@]+)/?", parts.path)
        if match and not (parts.query or parts.fragment):
            username = match.group(1)
            value = f"{parts.scheme}://{parts.netloc}"
    if username is not None and not USERNAME.fullmatch(username):
        raise ConfigError(f"{username!r} is not a user name (in {text!r})")
    instance = normalise_instance(_ascii_host(value))
    host = urlsplit(instance).hostname or ""
    if not HOST.fullmatch(host if ":" not in host else f"[{host}]"):
        raise ConfigError(f"{text!r} does not hold a valid host name")
    return Target(instance, username)


def _ascii_host(value: str) -> str:
    """The text with an international host name in its ASCII (punycode) form."""
    if value.isascii():
        return value
    scheme, sep, rest = value.rpartition("://")
    host, slash, path = rest.partition("/")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ConfigError(f"{value!r} does not hold a valid host name") from None
    return f"{scheme}{sep}{host}{slash}{path}"


def http_client(
    transport: httpx.AsyncBaseTransport | None = None, *, timeout: float = READ_TIMEOUT
) -> httpx.AsyncClient:
    """The one client a login or logout runs on (built by dminbox/http.py): no redirects."""
    return build_client(transport=transport, timeout=timeout)


# -- the steps -------------------------------------------------------------------------


async def register_app(
    http: httpx.AsyncClient, target: Target, *, scopes: str = SCOPES
) -> AppRegistration:
    """POST /api/v1/apps for the out-of-band redirect and the narrow scopes."""
    response = await _send(
        http,
        "POST",
        target,
        "/api/v1/apps",
        data={"client_name": CLIENT_NAME, "redirect_uris": OOB, "scopes": scopes},
    )
    if response.status_code == 200:
        body = _json_object(response, target)
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if _is_secret(client_id) and _is_secret(secret):
            return AppRegistration(target.instance, client_id, secret, scopes)
        raise _not_mastodon(target)
    said = server_said(response)
    if response.status_code in (400, 403, 422) and said:
        raise LoginError(f"{target.host} refused to register dminbox: {said}")
    raise _unexpected(response, target)


async def check_registration(http: httpx.AsyncClient, target: Target, app: AppRegistration) -> bool:
    """False when the server no longer knows a stored registration.

    Trading a code that cannot exist is harmless and tells the two apart:
    an unknown client is `invalid_client`, a known one `invalid_grant`.
    (Mastodon before 4.3 deleted apps that had no token left.)
    """
    response = await _trade_code(http, target, app, CHECK_CODE)
    return _oauth_error(response) != "invalid_client"


async def _trade_code(
    http: httpx.AsyncClient, target: Target, app: AppRegistration, code: str, **extra: str
) -> Reply:
    """POST /oauth/token with an authorization code (the one request both steps make)."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": OOB,
        **extra,
    }
    return await _send(http, "POST", target, "/oauth/token", data=data)


def authorize_url(target: Target, app: AppRegistration, *, force_login: bool = False) -> str:
    """The page where the user allows dminbox; it then shows the code to paste back.

    `force_login` makes the server ask who is logging in, for a second
    account on the same instance.
    """
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": OOB,
        "scope": app.scopes,
    }
    if force_login:
        params["force_login"] = "true"
    return f"{target.instance}/oauth/authorize?{urlencode(params, quote_via=quote)}"


async def exchange_code(
    http: httpx.AsyncClient, target: Target, app: AppRegistration, code: str
) -> TokenGrant:
    """POST /oauth/token: the pasted code for an access token."""
    code = code.strip()
    if not code:
        raise LoginError("no code was given: run dminbox login again")
    if not _is_secret(code):
        raise LoginError(
            "that does not look like the code (it holds spaces or control characters): "
            "run dminbox login again"
        )
    response = await _trade_code(http, target, app, code, scope=app.scopes)
    if response.status_code == 200:
        body = _json_object(response, target)
        token = body.get("access_token")
        if not _is_secret(token):
            raise LoginError(f"{target.host} answered the login without a usable token")
        scope = body.get("scope")
        return TokenGrant(token, scope.strip() if isinstance(scope, str) else app.scopes)
    error = _oauth_error(response)
    if error == "invalid_grant":
        raise LoginError("the code was not accepted (wrong or expired): run dminbox login again")
    if error == "invalid_client":
        raise RegistrationRejected(
            f"{target.host} no longer knows dminbox's app registration: run dminbox login again"
        )
    if error == "invalid_scope":
        raise LoginError(f"{target.host} refused the permissions dminbox asks for ({app.scopes})")
    raise _unexpected(response, target)


async def verify_credentials(http: httpx.AsyncClient, target: Target, token: str) -> Account:
    """Who the token belongs to; the user name is checked, since it becomes a file key."""
    response = await _send(
        http,
        "GET",
        target,
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code in (401, 403):
        said = server_said(response) or f"HTTP {response.status_code}"
        raise LoginError(f"{target.host} refused the new token ({said}): run dminbox login again")
    if response.status_code != 200:
        raise _unexpected(response, target)
    try:
        account = Account.model_validate(_json_object(response, target))
    except ValueError:  # pydantic's ValidationError is one
        raise _not_mastodon(target) from None
    username = account.username or account.acct.partition("@")[0]
    if not USERNAME.fullmatch(username) or not _is_secret(account.id):
        raise LoginError(f"{target.host} described the account in a way dminbox cannot use")
    return account.model_copy(update={"username": username})


async def revoke_token(
    http: httpx.AsyncClient, target: Target, app: AppRegistration | None, token: str
) -> None:
    """POST /oauth/revoke. Revoking a token the server does not know is not an error."""
    data = {"token": token}
    if app is not None:
        data.update(client_id=app.client_id, client_secret=app.client_secret)
    response = await _send(http, "POST", target, "/oauth/revoke", data=data)
    if response.status_code == 200:
        return
    said = server_said(response)
    if response.status_code in (400, 401, 403) and said:
        raise LoginError(f"{target.host} would not revoke the token: {said}")
    raise _unexpected(response, target)


# -- plumbing --------------------------------------------------------------------------


async def _send(
    http: httpx.AsyncClient, method: str, target: Target, path: str, **kwargs: Any
) -> Reply:
    try:
        return await fetch(http, method, target.instance + path, **kwargs)
    except ApiError as error:
        raise _login_error(error) from error


def _login_error(error: ApiError) -> LoginError:
    """The same text as the inbox would show, as the error the login's callers expect."""
    return LoginError(error.message, status_code=error.status_code, transient=error.transient)


def _is_secret(value: object) -> TypeGuard[str]:
    """A token-like string: non-empty, printable, no spaces."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 4096
        and all(ch.isprintable() and not ch.isspace() for ch in value)
    )


def _json_object(response: Reply, target: Target) -> dict:
    content_type = response.headers.get("content-type", "").lower()
    if "json" not in content_type:
        raise _not_mastodon(target)
    try:
        body = response.json()
    except ValueError:
        raise _not_mastodon(target) from None
    if not isinstance(body, dict):
        raise _not_mastodon(target)
    return body


def _oauth_error(response: Reply) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _not_mastodon(target: Target) -> LoginError:
    return LoginError(f"{target.host} does not look like a Mastodon server")


def _unexpected(response: Reply, target: Target) -> LoginError:
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        other = urlsplit(location).netloc if location else ""
        if other and other.lower() != target.host:
            safe = "".join(ch for ch in other if ch.isprintable() and not ch.isspace())[:100]
            return LoginError(f"{target.host} sends dminbox to {safe}: try `dminbox login {safe}`")
        return _not_mastodon(target)
    if status == 429 or status >= 500:
        cause = error_for(response)
        login_error = _login_error(cause)
        login_error.__cause__ = cause
        return login_error
    said = server_said(response)
    if said and status not in (404, 405, 410):
        return LoginError(f"{target.host} refused (HTTP {status}): {said}")
    return _not_mastodon(target)
