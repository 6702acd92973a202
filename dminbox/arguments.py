"""The command line's grammar: every command and option of `dminbox`, for argparse.

Kept apart from `dminbox.cli` so that `dminbox unread-count --offline` can
answer before argparse is even imported (see `dminbox.quick`).
"""

from __future__ import annotations

import argparse
import os
from typing import NoReturn

from dminbox import __version__

__all__ = ["EXIT_USAGE", "build_parser"]

EXIT_USAGE = 2
"""The exit code for a bad argument or setting."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"dminbox: {message} (see dminbox --help)\n")


def _account_options(*, defaults: bool = True) -> _Parser:
    """The options every command shares to say which account to use.

    They are accepted before and after the command's name. Only the top-level
    copy has defaults, so `dminbox --no-cache list` and `dminbox list --no-cache`
    mean the same: a copy without defaults cannot overwrite what was given first.
    """

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parent = _Parser(add_help=False)
    group = parent.add_argument_group("account")
    group.add_argument(
        "--demo",
        action="store_true",
        default=default(False),
        help="use the built-in fake server with a sample inbox",
    )
    group.add_argument(
        "--instance",
        metavar="URL",
        default=default(os.environ.get("DMINBOX_INSTANCE")),
        help="your server, https://host (env DMINBOX_INSTANCE)",
    )
    group.add_argument(
        "--token",
        metavar="TOKEN",
        default=default(os.environ.get("DMINBOX_TOKEN")),
        help="an access token (env DMINBOX_TOKEN); `dminbox login` stores one for you",
    )
    group.add_argument(
        "--account",
        metavar="USER@HOST",
        default=default(os.environ.get("DMINBOX_ACCOUNT")),
        help="a logged-in account (default: the last used)",
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        default=default(False),
        help="keep nothing on disk for this run",
    )
    group.add_argument(
        "--cache-limit",
        metavar="N",
        type=_positive,
        default=default(None),
        help="conversations kept in the cache (default 5000; env DMINBOX_CACHE_LIMIT)",
    )
    return parent


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; every parser in it (the subcommands' too) is a `_Parser`."""
    parser = _Parser(
        prog="dminbox",
        description="A keyboard-driven terminal inbox for Mastodon direct messages.",
        epilog="Keys: j/k move, enter opens, m marks read, d removes, u undoes, ? help, q quits.",
        parents=[_account_options()],
    )
    account = _account_options(defaults=False)
    parser.add_argument("--version", action="version", version=f"dminbox {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    listing = commands.add_parser(
        "list", parents=[account], help="print the inbox, one conversation a line"
    )
    listing.add_argument("--json", action="store_true", help="a JSON array, as the API gives it")
    listing.add_argument("--unread", action="store_true", help="only unread conversations")
    listing.add_argument("--offline", action="store_true", help="from the cache; no network")
    listing.add_argument(
        "--limit", type=_positive, default=200, metavar="N", help="at most N (default 200)"
    )

    count = commands.add_parser(
        "unread-count", parents=[account], help="print the number of unread conversations"
    )
    count.add_argument("--offline", action="store_true", help="from the cache; no network")

    cache = commands.add_parser("cache", help="manage the local cache")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    cache_commands.add_parser("clear", parents=[account], help="delete the cache of an account")

    login = commands.add_parser("login", help="log in to an instance (works over ssh)")
    login.add_argument("instance", metavar="INSTANCE", help="mastodon.social, or @you@host")
    logout = commands.add_parser("logout", help="revoke the token and forget the account")
    logout.add_argument("name", nargs="?", metavar="ACCOUNT", help="user@host (default: last used)")
    logout.add_argument(
        "--forget-only",
        action="store_true",
        help="forget the account without revoking its token (when the server is gone)",
    )
    commands.add_parser("accounts", help="list the logged-in accounts")
    return parser
