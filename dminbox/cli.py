"""The `dminbox` command: parse arguments, pick the account, run the app or a script command.

Imports are lazy so that quick commands (`dminbox unread-count --offline`)
start fast and never load Textual.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from typing import NoReturn

from dminbox import __version__

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"dminbox: {message} (see dminbox --help)\n")


def _account_options(*, defaults: bool = True) -> argparse.ArgumentParser:
    """The options every command shares to say which account to use.

    They are accepted before and after the command's name. Only the top-level
    copy has defaults, so `dminbox --no-cache list` and `dminbox list --no-cache`
    mean the same: a copy without defaults cannot overwrite what was given first.
    """

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parent = argparse.ArgumentParser(add_help=False)
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
    for sub in [*commands.choices.values(), *cache_commands.choices.values()]:
        sub.error = parser.error  # type: ignore[method-assign]
    return parser


def _fail(message: str) -> int:
    print(f"dminbox: {message}", file=sys.stderr)
    return EXIT_USAGE


def _setup_logging() -> None:
    """Errors go to a private log file, never to the terminal under the UI."""
    from dminbox.paths import log_file

    try:
        path = log_file()
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        os.chmod(path, 0o600)
    except OSError:
        handler = logging.NullHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging()
    from dminbox.config import ConfigError, NoAccountError

    try:
        if args.command in ("login", "logout", "accounts"):
            from dminbox import account_commands

            return account_commands.run(args)
        from dminbox.config import settings_from_args

        settings = settings_from_args(args)
        if args.command == "cache":
            from dminbox.scripts import clear_cache

            return clear_cache(settings)
        if args.command == "list":
            from dminbox.scripts import list_inbox

            return list_inbox(
                settings, json=args.json, unread=args.unread, offline=args.offline, limit=args.limit
            )
        if args.command == "unread-count":
            from dminbox.scripts import unread_count

            return unread_count(settings, offline=args.offline)
    except NoAccountError as error:
        if args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
            return run_login_first(args)
        return _fail(str(error))
    except ConfigError as error:
        return _fail(str(error))
    return run(settings)


def run_login_first(args: argparse.Namespace) -> int:
    """No account yet, at a terminal: the app opens on its login screen."""
    from dminbox.config import DEMO_INSTANCE, Settings
    from dminbox.session import EngineOpener
    from dminbox.ui.app import DmInboxApp

    options = Settings(
        instance=DEMO_INSTANCE,
        token="none",
        use_cache=not args.no_cache,
        cache_limit=args.cache_limit or 5000,
    )
    app = DmInboxApp(None, opener=EngineOpener(options))
    result = app.run()
    return result if isinstance(result, int) else 0


def run(settings) -> int:  # type: ignore[no-untyped-def]
    """Builds the engine for these settings and runs the app until the user quits."""
    from dminbox.session import EngineOpener, open_engine
    from dminbox.ui.app import DmInboxApp

    transport = None
    if settings.demo:
        # The demo's server lives in this process; the core never imports it.
        from dminbox.fake import FakeMastodon

        server = FakeMastodon.demo()
        settings = dataclasses.replace(settings, instance=server.base_url, token=server.token)
        transport = server.transport()
    engine = open_engine(settings, transport=transport)
    app = DmInboxApp(engine, label=settings.label, opener=EngineOpener(settings))
    result = app.run()
    return result if isinstance(result, int) else 0
