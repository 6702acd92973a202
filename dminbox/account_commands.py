"""`dminbox login`, `logout` and `accounts`: the commands that manage stored accounts.

Messages go to stderr as one line each; exit codes: 0 done, 1 the login or
logout failed, 2 a bad argument or a damaged accounts file. A token is never
printed. Tests pass `transport` (e.g. `FakeMastodon().transport()`) and
`read_code` to run the whole flow without a network or a terminal.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

import httpx

from dminbox import accounts, login_flow
from dminbox.accounts import AccountEntry, StoredAccount
from dminbox.errors import ConfigError, LoginError
from dminbox.login_flow import LoginStarted
from dminbox.oauth import Target, http_client, parse_instance, revoke_token

__all__ = ["login", "logout", "print_accounts", "run"]

EXIT_FAILED = 1
EXIT_USAGE = 2

ReadCode = Callable[[str], str]
"""Given the authorize URL (already shown), returns what the user pasted."""


def run(
    args: object,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    read_code: ReadCode | None = None,
) -> int:
    """Runs `args.command` (login, logout or accounts); returns the exit code."""
    command = getattr(args, "command", None)
    try:
        if command == "login":
            stored = login(getattr(args, "instance", ""), transport=transport, read_code=read_code)
            print(f"Logged in as {stored.acct}; it is now the default account.")
            return 0
        if command == "logout":
            name = getattr(args, "name", None) or getattr(args, "account", None)
            return logout(name, transport=transport, revoke=not getattr(args, "forget_only", False))
        if command == "accounts":
            return print_accounts()
    except ConfigError as error:
        return _say(str(error), EXIT_USAGE)
    except LoginError as error:
        return _say(str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        return _say("cancelled", EXIT_FAILED)
    return _say(f"unknown account command {command!r}", EXIT_USAGE)


def _say(message: str, code: int) -> int:
    print(f"dminbox: {message}", file=sys.stderr)
    return code


# -- login -----------------------------------------------------------------------------


def login(
    instance: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    read_code: ReadCode | None = None,
) -> StoredAccount:
    """The whole login: register (or reuse), show the URL, read the code, store the account.

    The code is read between two runs of one event loop, not inside it, so
    Ctrl-C at the prompt interrupts at once; the one HTTP client spans both.
    """
    target = parse_instance(instance)
    read = read_code or _read_code_from_terminal
    with asyncio.Runner() as runner:
        http = http_client(transport)
        try:
            started = runner.run(_prepare(http, target))
            try:
                code = read(started.url)
            except EOFError:
                raise LoginError("no code was given: run dminbox login again") from None
            return runner.run(_finish(http, started, code))
        finally:
            runner.run(http.aclose())


async def _prepare(http: httpx.AsyncClient, target: Target) -> LoginStarted:
    started = await login_flow.prepare(http, target)
    _show_authorize_url(started.url, target)
    return started


async def _finish(http: httpx.AsyncClient, started: LoginStarted, code: str) -> StoredAccount:
    stored, note = await login_flow.finish(http, started, code)
    if note:
        print(f"dminbox: note: {note}", file=sys.stderr)
    return stored


def _show_authorize_url(url: str, target: Target, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    is_tty = out.isatty()
    # OSC 8 makes the URL clickable in terminals that know it; the text is the URL itself.
    shown = f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\" if is_tty else url
    print(
        f"Open this address in a browser on any device, log in to {target.host} and allow dminbox:",
        file=out,
    )
    print(f"\n  {shown}\n", file=out)
    print("The page then shows a code: copy it and paste it here.", file=out, flush=True)


def _read_code_from_terminal(url: str) -> str:
    print("Code: ", end="", file=sys.stderr, flush=True)
    return input().strip()


# -- logout ----------------------------------------------------------------------------


def logout(
    name: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    revoke: bool = True,
) -> int:
    """Revokes the account's token on its server, then forgets the account and its cache."""
    entry = accounts.find_account(name)
    if entry is None:
        return _say("no account is logged in", EXIT_FAILED)
    if revoke:
        try:
            asyncio.run(_revoke(entry, transport))
        except (LoginError, ConfigError) as error:
            return _say(
                f"{error}; {entry.acct} is still stored (`dminbox logout --forget-only "
                f"{entry.acct}` forgets it without telling the server)",
                EXIT_FAILED,
            )
    accounts.remove_account(entry.acct)
    cache_problem = _delete_cache(entry)
    done = "the token is revoked" if revoke else "the token was not revoked on the server"
    print(f"Logged out of {entry.acct}; {done}.")
    remaining = accounts.default_account()
    if remaining is not None:
        print(f"The default account is now {remaining.acct}.")
    if cache_problem:
        return _say(f"the cache of {entry.acct} could not be deleted: {cache_problem}", 1)
    return 0


async def _revoke(entry: AccountEntry, transport: httpx.AsyncBaseTransport | None) -> None:
    token = accounts.token_of(entry)
    target = Target(entry.instance)
    async with http_client(transport) as http:
        await revoke_token(http, target, accounts.app_registration(entry.instance), token)


def _delete_cache(entry: AccountEntry) -> str | None:
    """Deletes the account's cache; returns why it failed, or None."""
    try:
        from dminbox.store import delete_account_cache
    except ImportError:
        return None  # no cache module in this build
    try:
        delete_account_cache(entry.instance, entry.account_id)
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


# -- accounts --------------------------------------------------------------------------


def print_accounts(out: TextIO | None = None) -> int:
    """One line per account: `user@host`, the instance, and `*` on the default."""
    out = out or sys.stdout
    entries = accounts.list_accounts()
    if not entries:
        print(
            "dminbox: no account: log in with `dminbox login INSTANCE`, or try `dminbox --demo`",
            file=sys.stderr,
        )
        return 0
    default = accounts.default_account()
    width = max(len(entry.acct) for entry in entries)
    for entry in entries:
        mark = "*" if default is not None and entry.acct == default.acct else ""
        print(f"{entry.acct.ljust(width)}  {entry.instance}  {mark}".rstrip(), file=out)
    return 0
