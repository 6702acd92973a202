"""Find: the cached conversations that match what the user typed after `/`.

Over the whole cache, not only the loaded rows, and read on the store's own
thread like every other read: the event loop never waits on the disk. The
rows come as the cache holds them (a read marked here, a removal in its undo
window, are already there), newest first.

The engine keeps no state for it: a screen that shows matches asks again
when rows change, and keeps only the answer to its latest question (asks are
answered in order, one at a time, on the store's thread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dminbox.find_query import FIND_LIMIT, Matches

if TYPE_CHECKING:
    from dminbox.engine.core import Engine

__all__ = ["FIND_LIMIT", "find"]


async def find(engine: Engine, query: str, limit: int = FIND_LIMIT) -> Matches:
    """The conversations matching `query`, newest first (at most `limit`, with the total)."""
    store = await engine.open_store()
    return await engine._db(store.search, query, limit)
