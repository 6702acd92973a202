"""The command line's grammar: every command and option of `dminbox`, for argparse.

Kept apart from `dminbox.cli` so that `dminbox unread-count --offline` can
answer before argparse is even imported (see `dminbox.quick`).
"""

from __future__ import annotations

import argparse
import os
from typing import Any, NoReturn

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


def _flag(name: str) -> bool:
    """An on/off environment variable: 1, true, yes or on."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


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
    alerts = parser.add_argument_group("new messages")
    alerts.add_argument(
        "--bell",
        action="store_true",
        default=_flag("DMINBOX_BELL"),
        help="ring the terminal bell when a new message arrives (env DMINBOX_BELL=1)",
    )
    alerts.add_argument(
        "--notify",
        action="store_true",
        default=_flag("DMINBOX_NOTIFY"),
        help="a terminal notification (OSC 777 / OSC 9; through tmux with allow-passthrough)"
        " when a new message arrives (env DMINBOX_NOTIFY=1)",
    )
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

    watch = commands.add_parser(
        "watch",
        parents=[account],
        help="print each change as it happens, one JSON line each (until interrupted)",
        description='One line per change, ASCII JSON, flushed: {"event": "conversation", '
        '"conversation": {...}} for a new or changed conversation (as the API gives it), '
        '{"event": "read", "id": ...} when only its read state changed, to read, and '
        '{"event": "delete", "status_id": ...}. The live stream, reconnected with the gap '
        "filled, or polling where there is none. Runs until SIGINT or SIGTERM, or until "
        "stdout closes (exit 0); a refused token exits 1.",
    )
    watch.add_argument(
        "--unread-count",
        action="store_true",
        help="print the number of unread conversations instead: at the start, then each "
        "time it changes",
    )

    _writing_commands(commands, account)

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
    _config_commands(commands)
    return parser


def _config_commands(commands: Any) -> None:
    """`config path|init|check`: the config file (dminbox.user_config)."""
    config = commands.add_parser(
        "config",
        help="the config file: where it is, a commented default, a check",
        description="The config file sets the theme, the keys, how reading marks "
        "conversations read, the cache's size and the alerts. Command-line options and "
        "DMINBOX_* variables win over it.",
    )
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    actions.add_parser("path", help="print where the config file is (or would be)")
    init = actions.add_parser(
        "init", help="write a commented default config file (refuses to replace one)"
    )
    init.add_argument("--force", action="store_true", help="replace the file if there is one")
    actions.add_parser(
        "check", help="check the config file without starting: exit 0 and ok, or 2 and why"
    )


_NOT_QUEUED = (
    "The text is read from stdin, or given with --text. The message is sent at once, "
    "direct, with one Idempotency-Key for every retry of this run (3 tries of a "
    "transient failure). It is never left in the app's outbox: when this command "
    "gives up, nothing is sent later, so running it again cannot post it twice behind "
    "your back (after a dropped answer the server may have it anyway: `dminbox list` "
    "shows it). Exit 0 when the server confirmed it (the new status id, or --json, is "
    "printed); 1 with one line on stderr otherwise; 2 for a bad argument."
)


def _writing_commands(commands: Any, account: _Parser) -> None:
    """`reply` and `send`: one direct message each, for scripts (dminbox.writing_scripts)."""
    reply = commands.add_parser(
        "reply",
        parents=[account],
        help="send a direct message in a conversation (text from stdin or --text)",
        description="Replies to the last message of conversation ID, mentioning every "
        "participant (the missing mentions are put in front). " + _NOT_QUEUED,
    )
    reply.add_argument("conversation_id", metavar="CONVERSATION_ID", help="as `dminbox list` shows")
    _message_options(reply, carried="default: the content warning of the message replied to")

    send = commands.add_parser(
        "send",
        parents=[account],
        help="send a new direct message (text from stdin or --text)",
        description="A new direct message to the --to accounts, each mentioned (the "
        "missing mentions are put in front). " + _NOT_QUEUED,
    )
    send.add_argument(
        "--to",
        action="append",
        required=True,
        metavar="ACCT[,ACCT]",
        help="who it goes to: user or user@host, comma-separated (may be repeated)",
    )
    _message_options(send, carried="default: none")


def _message_options(parser: _Parser, *, carried: str) -> None:
    parser.add_argument("--text", metavar="TEXT", help="the message (default: read stdin)")
    parser.add_argument(
        "--spoiler", metavar="TEXT", help=f"a content warning ({carried}; '' for none)"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="send even when it starts a new conversation or mentions nobody",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the status the server returned, as JSON"
    )
