"""A second dminbox process for tests/test_store.py: writes to one cache file.

python tests/cache_writer.py PATH N TAG
    Opens the cache, prints "ready", waits for a line on stdin (the shared
    start signal), then makes N small writes, each its own transaction:
    one conversation `TAG-i`, a queued "read" of it, and the paging state.
    Prints "done" and exits 0; any error goes to stderr with exit 1.

python tests/cache_writer.py --batches PATH TAG
    Writes batches of 50 conversations (`TAG-b-k`) forever, one transaction
    each, printing the number of committed batches after every commit, until
    it is killed.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dminbox.store import Cache, PagingState

BATCH = 50
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def row(conversation_id: str, seconds: int) -> dict:
    """A small but complete Conversation, as a server sends it."""
    author = {
        "id": f"a-{conversation_id}",
        "username": "writer",
        "acct": "writer@example.invalid",
        "display_name": "Writer",
        "url": "https://example.invalid/@writer",
        "bot": False,
    }
    created = (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": conversation_id,
        "unread": True,
        "accounts": [author],
        "last_status": {
            "id": f"s-{conversation_id}",
            "created_at": created,
            "account": author,
            "content": f"<p>message {conversation_id}</p>",
            "visibility": "direct",
        },
    }


def small_writes(path: Path, count: int, tag: str) -> None:
    cache = Cache.open(path, limit=1_000_000)
    if cache.notice:
        print(f"notice: {cache.notice}", file=sys.stderr, flush=True)
        raise SystemExit(3)
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        conversation_id = f"{tag}-{i}"
        cache.put_conversations([row(conversation_id, i)], page_url=f"https://x.invalid/{tag}")
        cache.enqueue("read", conversation_id)
        cache.set_paging(PagingState(next_url=f"https://x.invalid/{tag}/{i}", started=True))
    cache.close()
    print("done", flush=True)


def batches(path: Path, tag: str) -> None:
    cache = Cache.open(path, limit=1_000_000)
    if cache.notice:
        print(f"notice: {cache.notice}", file=sys.stderr, flush=True)
        raise SystemExit(3)
    committed = 0
    while True:
        rows = [row(f"{tag}-{committed}-{k}", committed * BATCH + k) for k in range(BATCH)]
        cache.put_conversations(rows, page_url=f"https://x.invalid/{tag}/{committed}")
        committed += 1
        print(committed, flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "--batches":
        batches(Path(argv[1]), argv[2])
    else:
        small_writes(Path(argv[0]), int(argv[1]), argv[2])


if __name__ == "__main__":
    main(sys.argv[1:])
