"""The `dminbox` command: parse arguments, build the client, run the app."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import NoReturn

from dminbox import __version__
from dminbox.config import ConfigError, Settings, settings_from

EXIT_USAGE = 2
DEMO_INSTANCE = "https://demo.dminbox.invalid"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"dminbox: {message} (see dminbox --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dminbox",
        description="A keyboard-driven terminal inbox for Mastodon direct messages.",
        epilog="Keys: j/k move, enter opens, m marks read, d removes, u undoes, ? help, q quits.",
    )
    parser.add_argument("--version", action="version", version=f"dminbox {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="run on the built-in fake server with a sample inbox"
    )
    parser.add_argument(
        "--instance",
        metavar="URL",
        default=os.environ.get("DMINBOX_INSTANCE"),
        help="your server, https://host (env DMINBOX_INSTANCE)",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        default=os.environ.get("DMINBOX_TOKEN"),
        help="an access token with read and write:conversations scopes (env DMINBOX_TOKEN)",
    )
    return parser


def _fail(message: str) -> int:
    print(f"dminbox: {message}", file=sys.stderr)
    return EXIT_USAGE


def _setup_logging() -> None:
    """Errors go to a private log file, never to the terminal under the UI."""
    from dminbox.paths import log_file

    try:
        path = log_file()
        handler = logging.FileHandler(path, encoding="utf-8")
        os.chmod(path, 0o600)
    except OSError:
        handler = logging.NullHandler()  # type: ignore[assignment]
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo:
        settings = Settings(instance=DEMO_INSTANCE, token="demo-token", demo=True)
    else:
        try:
            settings = settings_from(args.instance, args.token)
        except ConfigError as error:
            return _fail(str(error))
    _setup_logging()
    return run(settings)


def run(settings: Settings) -> int:
    """Builds the client for these settings and runs the app until the user quits."""
    from dminbox.client import MastodonClient
    from dminbox.ui.app import DmInboxApp

    if settings.demo:
        from dminbox.fake import FakeMastodon

        server = FakeMastodon.demo()
        client = MastodonClient(server.base_url, server.token, transport=server.transport())
        label = "demo"
    else:
        client = MastodonClient(settings.instance, settings.token)
        label = settings.instance.split("://", 1)[1]
    app = DmInboxApp(client, label=label)
    result = app.run()
    return result if isinstance(result, int) else 0
