"""The local store: one SQLite database per account, so the inbox opens at once and offline.

`Cache` is the one object the app holds; each concern keeps its SQL in its
own module:

- `db`: the connection, the schema and its migrations, damaged files;
- `entities`: conversations, statuses, accounts and threads, kept to a limit;
- `paging`: the paging frontier and where paging resumes after a prune;
- `outbox`: the durable queue of actions the server has not yet confirmed;
- `files`: where each account's file lives, kept private, and deleted.

Nothing here imports pydantic, httpx or Textual, and nothing is opened on import.
"""

from __future__ import annotations

from dminbox.store.cache import Cache
from dminbox.store.db import SCHEMA_VERSION
from dminbox.store.files import cache_path, delete_account_cache, last_account_file
from dminbox.store.outbox import QueuedAction
from dminbox.store.paging import PagingState

__all__ = [
    "SCHEMA_VERSION",
    "Cache",
    "PagingState",
    "QueuedAction",
    "cache_path",
    "delete_account_cache",
    "last_account_file",
]
