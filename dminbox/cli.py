"""The `dminbox` command: parse arguments, pick the account, run the app or a script command.

Imports are lazy so that quick commands start fast and never load Textual:
`dminbox unread-count --offline` is answered by `dminbox.quick` before
argparse or logging is even imported, in the cases it can answer exactly as
the full command would.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs `unread-count --offline` 2 ms
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from dminbox.config import Settings
    from dminbox.user_config import UserConfig


def build_parser() -> argparse.ArgumentParser:
    """The command line (`dminbox.arguments`, imported only when a command needs it)."""
    from dminbox.arguments import build_parser as build

    return build()


def _fail(message: str) -> int:
    from dminbox.arguments import EXIT_USAGE

    print(f"dminbox: {message}", file=sys.stderr)
    return EXIT_USAGE


def _setup_logging() -> None:
    """Errors go to a private log file, never to the terminal under the UI."""
    import logging

    from dminbox.paths import log_file

    try:
        path = log_file()
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        os.chmod(path, 0o600)
    except OSError:
        handler = logging.NullHandler()
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if "unread-count" in words:
        from dminbox import quick

        answered = quick.unread_count(words)
        if answered is not None:
            return answered
    args = build_parser().parse_args(words)
    _setup_logging()
    try:
        return _command(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: one line here, the traceback in the log
        import logging

        logging.getLogger("dminbox").exception("dminbox failed")
        print(
            f"dminbox: unexpected error: {type(error).__name__}: {error} (details in the log)",
            file=sys.stderr,
        )
        return 1


def _command(args: argparse.Namespace) -> int:
    from dminbox.errors import ConfigError, NoAccountError

    if args.command == "config":
        from dminbox.user_config import run_command

        return run_command(args.config_command, force=getattr(args, "force", False))
    config = None
    try:
        if args.command in ("login", "logout", "accounts"):
            from dminbox import account_commands

            return account_commands.run(args)
        from dminbox.config import settings_from_args
        from dminbox.user_config import load

        config = load()
        settings, transport = _with_demo(settings_from_args(args, config))
        if args.command == "cache":
            from dminbox.scripts import clear_cache

            return clear_cache(settings)
        if args.command == "list":
            from dminbox.scripts import list_inbox

            return list_inbox(
                settings,
                json=args.json,
                unread=args.unread,
                offline=args.offline,
                limit=args.limit,
                transport=transport,
            )
        if args.command in ("reply", "send"):
            from dminbox import writing_scripts

            if args.command == "reply":
                return writing_scripts.reply(
                    settings,
                    args.conversation_id,
                    text=args.text,
                    spoiler=args.spoiler,
                    yes=args.yes,
                    as_json=args.json,
                    transport=transport,
                )
            return writing_scripts.send(
                settings,
                args.to,
                text=args.text,
                spoiler=args.spoiler,
                yes=args.yes,
                as_json=args.json,
                transport=transport,
            )
        if args.command == "unread-count":
            from dminbox.scripts import unread_count

            return unread_count(settings, offline=args.offline, transport=transport)
        if args.command == "watch":
            from dminbox.watch import watch

            return watch(settings, unread_count=args.unread_count, transport=transport)
    except NoAccountError as error:
        if args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
            return run_login_first(args, config)
        return _fail(str(error))
    except ConfigError as error:
        return _fail(str(error))
    return run(settings, transport)


def _with_demo(settings: Settings) -> tuple[Settings, Any]:
    """`--demo`: the fake server in this process, and the transport that reaches it. The
    core never imports the fake server; only this command line does."""
    if not settings.demo:
        return settings, None
    import dataclasses

    from dminbox.fake import FakeMastodon

    server = FakeMastodon.demo(live=True)  # new messages now and then: the stream at work
    demo = dataclasses.replace(settings, instance=server.base_url, token=server.token)
    return demo, server.transport()


def run_login_first(args: argparse.Namespace, config: UserConfig | None = None) -> int:
    """No account yet, at a terminal: the app opens on its login screen."""
    from dminbox.config import DEMO_INSTANCE, Settings, with_config
    from dminbox.session import EngineOpener
    from dminbox.ui.app import DmInboxApp
    from dminbox.user_config import load

    blank = Settings(instance=DEMO_INSTANCE, token="none", use_cache=not args.no_cache)
    options = with_config(blank, args, config or load())
    app = DmInboxApp(None, opener=EngineOpener(options))
    app.configure(options)
    result = app.run()
    return result if isinstance(result, int) else 0


def run(settings: Settings, transport: Any = None) -> int:
    """Builds the engine for these settings and runs the app until the user quits."""
    from dminbox.session import EngineOpener, open_engine

    engine = open_engine(settings, transport=transport)
    engine.prefetch()  # the cache is read while Textual loads

    from dminbox.ui.app import DmInboxApp

    # No event loop runs yet: the first frame then holds the rows, with no empty frame.
    engine.await_prefetch(timeout=0.5)
    app = DmInboxApp(engine, label=settings.label, opener=EngineOpener(settings))
    app.configure(settings)
    result = app.run()
    return result if isinstance(result, int) else 0
