"""The commands for scripts: `list`, `unread-count` and `cache clear`.

Output is plain and stable: numbers and tab-separated lines, or JSON as the
API gives it. Errors are one line on stderr and exit code 1.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from dminbox.cache import Cache, delete_account_cache
from dminbox.config import Settings
from dminbox.errors import ApiError
from dminbox.session import ActionResult, InboxSession, account_cache_path
from dminbox.text import one_line, preview

EXIT_FAILED = 1


def _session(settings: Settings, *, transport: Any = None) -> InboxSession:
    from dminbox.session import open_session

    return open_session(settings, transport=transport)


def _cache_only(settings: Settings) -> Cache | None:
    """The account's cache if there is one on disk, opened without any network."""
    path = account_cache_path(settings)
    if path is None or not path.exists():
        return None
    return Cache.open(path, limit=settings.cache_limit)


def _fail(message: str) -> int:
    print(f"dminbox: {one_line(message)}", file=sys.stderr)
    return EXIT_FAILED


def unread_count(settings: Settings, *, offline: bool, transport: Any = None) -> int:
    """Prints the number of unread conversations: refreshed first unless `offline`."""
    if offline:
        cache = _cache_only(settings)
        print(cache.unread_count() if cache else 0)
        return 0

    session = _session(settings, transport=transport)

    async def refresh() -> int:
        try:
            _report_refused(await session.send_queued())
            await session.fetch_newer(None)
            return session.cache.unread_count()
        finally:
            await session.close()

    try:
        print(asyncio.run(refresh()))
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
        try:
            rows = asyncio.run(_fetch(_session(settings, transport=transport), limit=limit))
        except ApiError as error:
            return _fail(str(error))
        if unread:
            rows = [row for row in rows if row.get("unread")]
    _print_rows(rows, as_json=json)
    return 0


async def _fetch(session: InboxSession, *, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    url: str | None = None
    try:
        _report_refused(await session.send_queued())
        while len(rows) < limit:
            page = await session.fetch_older(url)
            for row in page.raw:
                if str(row["id"]) not in seen:
                    seen.add(str(row["id"]))
                    rows.append(row)
            if page.is_last:
                break
            url = page.next_url
    finally:
        await session.close()
    return rows[:limit]


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


def _report_refused(results: list[ActionResult]) -> None:
    """Actions from the app that the server refused while a script sent them: say so."""
    for result in results:
        if result.kind == "refused":
            verb = "mark read" if result.action.action == "read" else "remove"
            print(
                f"dminbox: the server refused to {verb} conversation "
                f"{result.action.conversation_id}: {one_line(result.message or '')}",
                file=sys.stderr,
            )


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
    path = account_cache_path(settings.model_copy(update={"use_cache": True}))
    if path is None:
        print(f"No cache for {settings.label}.")
        return 0
    account_id = path.stem
    if delete_account_cache(settings.instance, account_id):
        print(f"Deleted the cache of {settings.label}.")
    else:
        print(f"No cache for {settings.label}.")
    return 0
