"""The sync engine: one account's inbox kept true, whatever the network does.

- `core`: the `Engine`, the one owner of the inbox's state;
- `changes`: what it tells its observer (the screen, a script);
- `backoff`: when to try again;
- `reconcile`: rows judged against what the server sent;
- `store_tasks`: its work on the store's own thread;
- `writing`: drafts and messages on their way;
- `live`: the direct stream, or polling where there is none.
"""

from dminbox.engine.backoff import Backoff
from dminbox.engine.changes import (
    Arrived,
    Change,
    Notice,
    PendingMessage,
    RowChanged,
    RowGone,
    RowsChanged,
    SendRefused,
    Sent,
    StateChanged,
    ThreadChanged,
    TokenRefused,
)
from dminbox.engine.core import (
    CACHE_BATCH,
    REFRESH_PAGES,
    SWEEP_PAGES,
    SWEEP_PAUSE,
    UNDO_SECONDS,
    Engine,
)
from dminbox.engine.store_tasks import FIRST_BATCH
from dminbox.engine.writing import NEW_KEY, Draft, Writer, reply_key

__all__ = [
    "CACHE_BATCH",
    "FIRST_BATCH",
    "REFRESH_PAGES",
    "SWEEP_PAGES",
    "SWEEP_PAUSE",
    "NEW_KEY",
    "UNDO_SECONDS",
    "Arrived",
    "Backoff",
    "Change",
    "Draft",
    "Engine",
    "Notice",
    "PendingMessage",
    "RowChanged",
    "RowGone",
    "RowsChanged",
    "SendRefused",
    "Sent",
    "StateChanged",
    "ThreadChanged",
    "TokenRefused",
    "Writer",
    "reply_key",
]
