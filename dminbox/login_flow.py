"""The two halves of an out-of-band login, with no printing: shared by the CLI and the app.

`prepare` registers dminbox (or reuses the stored registration) and gives the
address the user opens on any device; `finish` takes the code the page shows,
gets and checks the token, and stores the account.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import httpx

from dminbox import accounts
from dminbox.accounts import AppRegistration, StoredAccount
from dminbox.errors import RegistrationRejected
from dminbox.oauth import (
    SCOPES,
    Target,
    authorize_url,
    check_registration,
    exchange_code,
    register_app,
    revoke_token,
    verify_credentials,
)

__all__ = ["LoginStarted", "finish", "prepare"]


@dataclass(frozen=True)
class LoginStarted:
    target: Target
    app: AppRegistration
    url: str
    """The address to open in a browser; its page shows the code."""


async def prepare(http: httpx.AsyncClient, target: Target) -> LoginStarted:
    """The app registration for this instance (stored or new), and the URL to open."""
    app = accounts.app_registration(target.instance)
    if app is not None and (
        app.scopes != SCOPES or not await check_registration(http, target, app)
    ):
        accounts.forget_app_registration(target.instance)
        app = None
    if app is None:
        app = await register_app(http, target)
        accounts.save_app_registration(app)
    known_here = any(entry.instance == target.instance for entry in accounts.list_accounts())
    return LoginStarted(target, app, authorize_url(target, app, force_login=known_here))


async def finish(
    http: httpx.AsyncClient, started: LoginStarted, code: str
) -> tuple[StoredAccount, str | None]:
    """Exchanges the code, checks the token, stores the account; returns it and a note."""
    target, app = started.target, started.app
    try:
        grant = await exchange_code(http, target, app, code.strip())
    except RegistrationRejected:
        accounts.forget_app_registration(target.instance)
        raise
    try:
        account = await verify_credentials(http, target, grant.access_token)
    except Exception:
        with contextlib.suppress(Exception):
            await revoke_token(http, target, app, grant.access_token)
        raise
    acct = f"{account.username}@{target.host}"
    note = None
    if target.username and target.username.lower() != account.username.lower():
        note = f"you allowed dminbox as {acct}, not {target.username}@{target.host}"
    replaced = accounts.save_account(
        acct, target.instance, account.id, grant.access_token, grant.scopes
    )
    if replaced is not None and replaced.token and replaced.token != grant.access_token:
        # The old token of this account is no longer needed; leave none behind.
        with contextlib.suppress(Exception):
            await revoke_token(http, target, app, replaced.token)
    return StoredAccount(acct, target.instance, account.id, grant.access_token, grant.scopes), note


class LoginAttempt:
    """One login from start to end over one HTTP client, for callers that are not
    the CLI (the app's login screen): they never touch HTTP themselves."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        from dminbox.oauth import http_client

        self._http = http_client(transport)
        self.started: LoginStarted | None = None

    async def start(self, target: Target) -> LoginStarted:
        self.started = await prepare(self._http, target)
        return self.started

    async def finish(self, code: str) -> tuple[StoredAccount, str | None]:
        if self.started is None:
            raise RuntimeError("finish() before start()")
        return await finish(self._http, self.started, code)

    async def aclose(self) -> None:
        await self._http.aclose()
