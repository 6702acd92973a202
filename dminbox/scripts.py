"""The commands for scripts: `list`, `unread-count` and `cache clear`.

Output is plain and stable: numbers and tab-separated lines, or JSON as the
API gives it. Errors are one line on stderr and exit code 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from typing import Any

from dminbox.config import Settings
from dminbox.engine import Engine, Notice
from dminbox.errors import ApiError
from dminbox.session import account_cache_path, open_engine
from dminbox.store import Cache, delete_account_cache
from dminbox.text import one_line, preview

EXIT_FAILED = 1


def _cache_only(settings: Settings) -> Cache | None:
    """The account's cache if there is one on disk, opened without any network."""
    path = account_cache_path(settings)
    if path is None or not path.exists():
        return None
    return Cache.open(path, limit=settings.cache_limit)


def _fail(message: str) -> int:
    print(f"dminbox: {one_line(message)}", file=sys.stderr)
    return EXIT_FAILED


def _engine(settings: Settings, transport: Any) -> Engine:
    """The app's engine, telling stderr what it would tell the screen (an action refused)."""
    engine = open_engine(settings, transport=transport)

    def say(change: object) -> None:
        if isinstance(change, Notice) and change.severity == "error":
            print(f"dminbox: {one_line(change.text)}", file=sys.stderr)

    engine.observe(say)
    return engine


def _run(settings: Settings, transport: Any, work: Any) -> Any:
    """Runs `work(engine)` after sending what the app left queued; returns what it returns."""
    engine = _engine(settings, transport)  # may ask the server whose token this is, once
    return asyncio.run(_with_engine(engine, work))


async def _with_engine(engine: Engine, work: Any) -> Any:
    try:
        await engine.open_store()
        await engine.send_queued()
        return await work(engine)
    finally:
        await engine.close()


def unread_count(settings: Settings, *, offline: bool, transport: Any = None) -> int:
    """Prints the number of unread conversations: refreshed first unless `offline`."""
    if offline:
        cache = _cache_only(settings)
        print(cache.unread_count() if cache else 0)
        return 0

    async def count(engine: Engine) -> int:
        await engine.fetch_first_page()
        return await engine.cached_unread_count()

    try:
        print(_run(settings, transport, count))
    except ApiError as error:
        cache = _cache_only(settings)
        if cache is None:
            return _fail(str(error))
        print(cache.unread_count())
        print(
            f"dminbox: offline, the count is from the cache: {one_line(str(error))}",
            file=sys.stderr,
        )
    return 0


def list_inbox(
    settings: Settings,
    *,
    json: bool,
    unread: bool,
    offline: bool,
    limit: int,
    transport: Any = None,
) -> int:
    """Prints the inbox: one conversation per line, or a JSON array as the API gives it."""
    if offline:
        cache = _cache_only(settings)
        rows = cache.raw_conversations(unread_only=unread, limit=limit) if cache else []
    else:

        async def walk(engine: Engine) -> tuple[list[dict[str, Any]], str]:
            return await engine.walk(limit)

        try:
            rows, stopped = _run(settings, transport, walk)
        except ApiError as error:
            return _fail(str(error))
        if stopped:
            print(f"dminbox: stopped early: {stopped}", file=sys.stderr)
        if unread:
            rows = [row for row in rows if row.get("unread")]
    _print_rows(rows, as_json=json)
    return 0


def _print_rows(rows: list[dict[str, Any]], *, as_json: bool) -> None:
    try:
        if as_json:
            # ASCII escapes: control and bidi characters a stranger wrote stay inert.
            print(json.dumps(rows, ensure_ascii=True))
            return
        for row in rows:
            print("\t".join(_columns(row)))
        sys.stdout.flush()
    except BrokenPipeError:
        # `dminbox list | head`: the reader has what it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _columns(row: dict[str, Any]) -> list[str]:
    """id, unread|read, last activity (ISO), participants (acct), preview: all one-line."""
    status = row.get("last_status") or {}
    accounts = row.get("accounts") or []
    names = ",".join(one_line(str(a.get("acct", ""))) for a in accounts if isinstance(a, dict))
    text = preview(str(status.get("content", "")), 120) if isinstance(status, dict) else ""
    when = str(status.get("created_at", "")) if isinstance(status, dict) else ""
    cells = [str(row.get("id", "")), "unread" if row.get("unread") else "read", when, names, text]
    return [one_line(cell).replace("\t", " ") for cell in cells]


def clear_cache(settings: Settings) -> int:
    """Deletes the account's cache files."""
    if settings.demo:
        print("The demo keeps no cache.")
        return 0
    path = account_cache_path(dataclasses.replace(settings, use_cache=True))
    if path is None:
        print(f"No cache for {settings.label}.")
        return 0
    account_id = path.stem
    if delete_account_cache(settings.instance, account_id):
        print(f"Deleted the cache of {settings.label}.")
    else:
        print(f"No cache for {settings.label}.")
    return 0
