"""The sync engine itself: the `Engine`, owner of one account's inbox state.

It owns every piece of state that keeps the inbox true, each in one place:
the loaded rows and where paging stands (`inbox`, `paging`), whether the
server answers (`online`, `problem`, one backoff), the durable outbox and
its rollbacks, the undo window, and the unread count. The screen sends it
intents (`need_more`, `mark_read`, `remove`, `undo`, `refresh`, `retry_now`,
`open`) and observes what changed through the `Change`s it is given.

Transient failures heal by themselves: a 429 waits until the limit lifts,
anything else transient (5xx, proxy pages, timeouts, drops, oversized or
endless answers) is tried again after a capped exponential backoff with
jitter, and one retry brings back everything that failed. Permanent answers
(401, 403, 404, 410, 422) are not retried; each is one line.

SQLite work runs on one worker thread, never on the caller's event loop; the
HTTP client is built on first use, after the first paint. It knows nothing
of widgets; the time comes from a `Clock`, so tests move it by hand.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from dminbox.clock import Clock, SystemClock
from dminbox.engine import finding, reconcile, store_tasks, triage
from dminbox.engine.backoff import Backoff, reset_time
from dminbox.engine.changes import (
    Change,
    Notice,
    RowChanged,
    RowGone,
    RowsChanged,
    Sent,
    StateChanged,
    TokenRefused,
)
from dminbox.engine.live import Live
from dminbox.engine.store_tasks import FIRST_BATCH
from dminbox.engine.writing import Draft, Writer
from dminbox.errors import ApiError, AuthenticationError, NetworkError, NotFoundError
from dminbox.find_query import FIND_LIMIT, Matches
from dminbox.inbox import Inbox
from dminbox.models import Conversation, Status
from dminbox.page import PAGE_SIZE
from dminbox.text import one_line

if TYPE_CHECKING:
    from dminbox.client import MastodonClient
    from dminbox.page import Page
    from dminbox.store import Cache, QueuedAction

__all__ = ["CACHE_BATCH", "Engine", "REFRESH_PAGES", "SWEEP_PAGES", "SWEEP_PAUSE", "UNDO_SECONDS"]

log = logging.getLogger(__name__)

UNDO_SECONDS = 5.0
"""How long a removal can be undone before it is sent."""
CACHE_BATCH = 200
"""Conversations read from the cache at a time: the first screen costs the same at any size."""
REFRESH_PAGES = 25
"""At most this many pages are walked down from page 1 to meet what is already loaded."""
SWEEP_PAGES = 5
"""Pages past the first that the background check for rows deleted elsewhere reads."""
SWEEP_PAUSE = 3.0
"""Seconds between two pages of that check: it must stay cheap."""

T = TypeVar("T")
Want = Literal["outbox", "refresh", "page", "thread"]


@dataclass
class _Removal:
    """A removal inside (or past) its undo window: `u` can take it back until it is sent."""

    index: int
    row: Conversation
    seq: int | None = None


PagingStatus = Literal["idle", "loading", "failed", "end"]


class Engine:
    """One account's inbox: the cache first, the server behind it, kept in step."""

    def __init__(
        self,
        *,
        open_store: Callable[[], Cache],
        open_client: Callable[[], MastodonClient],
        instance: str = "",
        clock: Clock | None = None,
        rng: random.Random | None = None,
        account_id: str | None = None,
        live: bool = True,
    ) -> None:
        self._open_store = open_store
        self._open_client = open_client
        self._client: MastodonClient | None = None
        self.store: Cache | None = None
        self.instance = instance
        """The server's origin, `https://host`: where a new login for this account goes."""
        self.host = instance.split("://", 1)[-1]
        self.clock: Clock = clock or SystemClock()
        self.backoff = Backoff(rng=rng or random.Random())
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="dminbox-store"
        )
        self._observers: list[Callable[[Change], None]] = []

        self.inbox = Inbox()
        """The loaded rows, newest first: what the list draws."""
        self.rows_known = False
        """True once the cache or the server has said what the inbox holds."""
        self.paging: PagingStatus = "idle"
        self.paging_loop = False
        """True when the server's `next` link pointed back at a page already read."""
        self.online: bool | None = None
        """None until the server first answers or fails; False after a network failure."""
        self.problem = ""
        """One line: what went wrong and what the engine does about it; "" when all is well."""
        self.retry_at: float | None = None
        """When the next automatic try is (clock seconds), while something waits for one."""
        self.token_refused = False
        self.pending_reads: set[str] = set()
        """Conversations marked read here whose read the server has not confirmed yet."""
        self.local_unread: set[str] = set()
        """Conversations marked unread in the cache only: the server has no `/unread`."""
        self.pending_count = 0
        """Actions in the outbox, as last counted."""
        self.undo_seconds = UNDO_SECONDS
        """How long a removal can be undone before it is sent (the config file's)."""
        self._cached_unread = 0
        self._cache_has_more = False
        self._undo: list[_Removal] = []
        self._removed: set[str] = set()
        """Removals the server confirmed this run: a page in flight must not bring them back."""
        self._in_flight: set[int] = set()
        self._wants: set[Want] = set()
        self._thread_wanted: Conversation | None = None
        self.open_conversation: Conversation | None = None
        self._send_lock = asyncio.Lock()
        self._loading_page = False
        self._refreshing = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.Task[Any]] = set()
        self._retry_timer: asyncio.Task[Any] | None = None
        self._closed = False
        self._connected = False
        """Set by `connect()`: until then the server is not asked (the first paint comes first)."""
        self._started_from_cache = False
        self._refresh_asked = False
        self._sweep_from: tuple[str | None, set[str]] | None = None
        """Where the last refresh stopped, and what it saw: the background check goes on
        from there instead of asking for page 1 again."""
        """The next refresh was asked for by the user: it says what it found, even nothing."""
        self._start_read: concurrent.futures.Future[store_tasks.Start] | None = None
        self.writer = Writer(self, account_id)
        """Drafts, messages on their way, the server's limits, the user's own account."""
        self.live = Live(self, enabled=live)
        """The direct stream (or polling): new messages and read states as they happen."""
        self._page1_at: float | None = None
        """When page 1 was last read (clock seconds): a stream that connects right after
        needs no gap filled."""

    # -- observing ---------------------------------------------------------------

    def observe(self, callback: Callable[[Change], None]) -> None:
        """`callback` is called, on the engine's event loop, with every change."""
        self._observers.append(callback)

    def _emit(self, change: Change) -> None:
        for callback in list(self._observers):
            try:
                callback(change)
            except Exception:  # an observer's bug must not stop the engine
                log.exception("an observer failed on %r", change)

    @property
    def unread_count(self) -> int:
        """Unread conversations: the cache's count, never below what is loaded (the cache
        may have been pruned below the loaded rows)."""
        return max(self.inbox.unread_count, self._cached_unread)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def durable(self) -> bool:
        """True when queued actions survive a restart (a cache on disk)."""
        return self.store is not None and self.store.path is not None

    # -- plumbing ------------------------------------------------------------------

    async def _db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs store work on the store's own thread: the event loop never waits on disk."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    @property
    def client(self) -> MastodonClient:
        if self._client is None:
            self._client = self._open_client()
        return self._client

    def _spawn(self, work: Coroutine[Any, Any, Any], name: str = "") -> None:
        """Runs engine work in the background; a bug is logged and shown in one line."""
        if self._closed:
            work.close()
            return
        task = asyncio.get_running_loop().create_task(self._guarded(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("engine work failed")
            text = one_line(f"Unexpected error: {type(error).__name__}: {error}", 200)
            self._emit(Notice(text, "error", 10))

    def _after(self, seconds: float, work: Callable[[], Coroutine[Any, Any, Any]]) -> asyncio.Task:
        """Starts `work` once the clock says `seconds` have passed."""

        async def wait_then_start() -> None:
            await self.clock.sleep(seconds)
            self._spawn(work())

        timer = asyncio.get_running_loop().create_task(wait_then_start())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)
        return timer

    async def idle(self) -> None:
        """Waits until no engine work is running (sleeping timers do not count)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await asyncio.sleep(0)

    # -- start and stop --------------------------------------------------------------

    def prefetch(self) -> None:
        """Starts reading the first screen from the cache on the store's thread at once, so
        it is ready by the time the app has started (call it before building the app)."""
        if self._start_read is None:
            self._start_read = self._executor.submit(_open_and_read_start, self)

    def await_prefetch(self, timeout: float) -> None:
        """Before the app's event loop runs: lets the prefetched read finish, for at most
        `timeout` seconds (a cache another process holds locked is waited for in `start`)."""
        if self._start_read is not None:
            concurrent.futures.wait([self._start_read], timeout=timeout)

    async def start(self) -> None:
        """Opens the cache and shows what it holds: the first screen, before any request."""
        if self.start_if_ready():
            return
        self.prefetch()
        assert self._start_read is not None
        self._apply_start(await asyncio.wrap_future(self._start_read))

    def start_if_ready(self) -> bool:
        """`start` without waiting, when the prefetched read is already done: the first
        frame then holds the rows, with no empty frame before it. False otherwise."""
        read = self._start_read
        if read is None or not read.done() or self.rows_known or read.exception():
            return False
        self._apply_start(read.result())
        return True

    def _apply_start(self, start: store_tasks.Start) -> None:
        store = self.store
        assert store is not None
        self.pending_reads.update(start.pending_reads)
        self.local_unread.update(start.local_unread)
        for action in start.sends:
            self.writer.remember(action)
        self.pending_count = start.pending
        self._cached_unread = start.unread
        self._cache_has_more = len(start.rows) >= FIRST_BATCH
        inbox = self.inbox
        if start.rows:
            inbox.add_older(start.rows)
            self.rows_known = True
            self._started_from_cache = True
            if start.paging.started:
                # Resume where paging stopped; otherwise (rows stored by a script, say)
                # the frontier is unknown and paging starts again from the first page.
                inbox.started = True
                inbox.next_url = start.paging.next_url
                inbox.prev_url = start.paging.prev_url
                inbox.reached_end = start.paging.reached_end or start.paging.next_url is None
        self.paging = "end" if not inbox.has_more and not self._cache_has_more else "idle"
        if store.notice:
            self._emit(Notice(one_line(store.notice), "warning", 10))
        self._emit(RowsChanged(0))
        self._emit(StateChanged())
        if start.open_row is not None:
            self.open_conversation = start.open_row
            self._emit(self.writer.thread_changed(start.open_row, start.open_thread))

    async def open_store(self) -> Cache:
        """Opens the cache (on the store's thread); `start` does it for the app."""
        if self.store is None:
            self.store = await self._db(self._open_store)
        return self.store

    def connect(self) -> None:
        """Catches up with the server in the background: call it after the first paint."""
        self._connected = True
        self._spawn(self._catch_up(), "catch-up")

    async def _catch_up(self) -> None:
        assert self.store is not None
        now = self.clock.now()
        for action in await self._db(self.store.queued):
            if action.not_before > now:
                # A removal left in its undo window (by an earlier run, too) goes when it closes.
                self._after(action.not_before - now, self._send_outbox)
        await self._send_outbox()
        if self._started_from_cache:
            # A refresh already on its way (after a queued message went) counts as this one.
            if await self._refresh(quiet=True) or self._refreshing:
                self._after(SWEEP_PAUSE, self._sweep)
        else:
            await self._load_more()
        self.live.start()

    async def flush(self) -> str | None:
        """Before quitting: sends everything, undo window or not; says what could not go."""
        if self.store is None:
            return None
        for timer in list(self._timers):
            timer.cancel()
        if not self.token_refused:
            await self._send_outbox(everything=True)
        left = await self._db(self.store.queued)
        if not left:
            return None
        reason = next((a.last_error for a in left if a.last_error), "") or "not sent yet"
        if self.durable:
            return (
                f"dminbox: {len(left)} action(s) not sent yet ({one_line(reason)}); "
                "sent on the next start."
            )
        return f"dminbox: {len(left)} action(s) could not be sent: {one_line(reason)}"

    async def close(self) -> None:
        self._closed = True
        await self.live.stop()
        for task in [*self._timers, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._timers, *self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        if self.store is not None:
            await self._db(self.store.close)
        self._executor.shutdown(wait=False)

    # -- health --------------------------------------------------------------------------

    def _succeeded(self, want: Want) -> None:
        """A request for `want` went through: the server answers."""
        changed = self.online is not True
        self.online = True
        self._settled(want, changed=changed)

    def _settled(self, want: Want, *, changed: bool = False) -> None:
        """Nothing is left to retry for `want` (it went through, or became moot): with
        nothing else waiting, the problem line goes and the backoff starts over."""
        self._wants.discard(want)
        if not self._wants:
            self.backoff.reset()
            changed = changed or bool(self.problem)
            self.problem = ""
            self._cancel_retry()
        if changed:
            self._emit(StateChanged())

    def _failed(self, error: ApiError, want: Want) -> None:
        """Decides what a failure means: heal later, ask for a login, or just say so."""
        self.online = not isinstance(error, NetworkError)
        if isinstance(error, AuthenticationError):
            self._wants.add(want)
            if not self.token_refused:
                self.token_refused = True
                self._cancel_retry()
                self.problem = one_line(f"{error} Press a to switch or log in.")
                self._emit(TokenRefused(str(error)))
            self._emit(StateChanged())
            return
        if not error.transient:
            self._wants.discard(want)
            self.problem = one_line(str(error))
            self._emit(StateChanged())
            return
        self._wants.add(want)
        # One retry brings back everything that failed: only the first failure since the
        # last try sets its time (a rate limit that lifts later moves it on).
        reset_at = reset_time(error)
        if self._retry_timer is None or (reset_at and reset_at > (self.retry_at or 0)):
            self._cancel_retry()
            delay = self._delay_for(error)
            self.retry_at = self.clock.now() + delay
            self._retry_timer = self._after(delay, self._heal)
        assert self.retry_at is not None
        when = time.strftime("%H:%M:%S", time.localtime(self.retry_at))
        offline = "Offline, showing the cache. " if isinstance(error, NetworkError) else ""
        self.problem = one_line(f"{offline}{error} Trying again at {when}; ctrl+r retries now.")
        self._emit(StateChanged())

    def _delay_for(self, error: ApiError) -> float:
        reset_at = reset_time(error)
        if reset_at is not None:
            wait = reset_at - self.clock.now()
            if wait > 0:
                # The limit lifts at a known moment: no sooner, and not much later.
                return min(wait, 15 * 60) + 0.5
        return self.backoff.next_delay()

    def _cancel_retry(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.cancel()
            self._retry_timer = None
        self.retry_at = None

    async def _heal(self) -> None:
        """One retry for everything that failed: the outbox first, then the reads."""
        self._retry_timer = None
        self.retry_at = None
        wants = set(self._wants)
        if "outbox" in wants or self.pending_count:
            await self._send_outbox()
        if "refresh" in wants:
            asked, self._refresh_asked = self._refresh_asked, False
            await self._refresh(quiet=not asked)
        if "page" in wants:
            await self._load_more(retry=True)
        if "thread" in wants:
            if self._thread_wanted is not None:
                await self._load_thread(self._thread_wanted)
            else:
                self._settled("thread")

    def retry_now(self) -> None:
        """`r`: everything that failed is tried again at once, and newer rows fetched."""
        if self.token_refused:
            return
        self._cancel_retry()
        self._wants.add("refresh")
        self._spawn(self._heal(), "retry")

    # -- paging ------------------------------------------------------------------------

    def need_more(self, *, now: bool = False) -> None:
        """The cursor or the view came near the end: more rows, from the cache or the server.

        A page that failed waits for its retry unless `now` (End or G on the failed row).
        """
        if self._loading_page or self.paging == "end":
            return
        if self.paging == "failed" and (not now or self.token_refused):
            return
        self._spawn(self._load_more(retry=now), "page")

    async def _load_more(self, *, retry: bool = False) -> None:
        """More rows; a page that failed is asked for again only when `retry`."""
        if self._loading_page or self.store is None:
            return
        if self.paging == "failed" and not retry:
            return
        self._loading_page = True
        try:
            await self._load_more_now()
        finally:
            self._loading_page = False

    async def _load_more_now(self) -> None:
        assert self.store is not None
        inbox = self.inbox
        if self._cache_has_more and len(inbox):
            rows = await self._db(
                self.store.conversations, after=inbox[len(inbox) - 1].id, limit=CACHE_BATCH
            )
            self._cache_has_more = len(rows) >= CACHE_BATCH
            if rows:
                self._emit(RowsChanged(inbox.add_older(rows)))
                return
        if not inbox.has_more:
            self._set_paging("end")
            self._settled("page")  # a refresh read the rest meanwhile
            return
        if not self._connected:
            return  # the server is asked once the first frame is on screen
        url = inbox.next_url if inbox.started else None
        if not inbox.should_fetch(url):
            self._page_loop()
            return
        self._set_paging("loading")
        try:
            page = await self._fetch(url, older=True)
        except ApiError as error:
            self._set_paging("failed")
            self._failed(error, "page")
            return
        first_changed = inbox.add_older_page(page, url or self._first_page_url())
        if page.next_url is not None and not inbox.should_fetch(page.next_url):
            self._page_loop()
        self.rows_known = True
        self._set_paging("end" if not inbox.has_more else "idle")
        await self._save_paging()
        self._succeeded("page")
        self._emit(RowsChanged(first_changed))
        self._emit(StateChanged())

    def _first_page_url(self) -> str:
        """Page 1 as a `next` link would name it: the client asks for it by path, not by URL."""
        return f"{self.client.instance}/api/v1/conversations?limit={PAGE_SIZE}"

    def _page_loop(self) -> None:
        """The server's `next` link points at a page already read: the walk ends here."""
        log.warning("the server's next link repeats a page; paging stops")
        self.inbox.reached_end = True
        self.paging_loop = True
        self._set_paging("end")
        self._settled("page")

    def _set_paging(self, status: PagingStatus) -> None:
        if status != self.paging:
            self.paging = status
            self._emit(StateChanged())

    async def _save_paging(self) -> None:
        from dminbox.store import PagingState

        assert self.store is not None
        inbox = self.inbox
        state = PagingState(inbox.next_url, inbox.prev_url, inbox.reached_end, inbox.started)
        await self._db(self.store.set_paging, state)

    async def _fetch(self, url: str | None, *, older: bool) -> Page:
        """A page from the server, stored (minding the outbox) and returned as stored."""
        assert self.store is not None
        page = await self.client.conversations(url)
        if url is None:
            self._page1_at = self.clock.now()
        removed = set(self._removed)
        stored = await self._db(
            store_tasks.store_page,
            self.store,
            page,
            url if older else None,
            removed,
            older,
            frozenset(self.local_unread),
        )
        self._cached_unread = stored[1]
        return stored[0]

    async def send_queued(self, *, everything: bool = False) -> None:
        """Sends what is queued now (refusals come as `Notice`s); `everything` includes
        removals still inside their undo window. For scripts, and `flush`."""
        await self._send_outbox(everything=everything)

    async def fetch_first_page(self) -> None:
        """For scripts: page 1, stored. Raises `ApiError`."""
        await self._fetch(None, older=False)

    async def cached_unread_count(self) -> int:
        assert self.store is not None
        return await self._db(self.store.unread_count)

    async def walk(self, limit: int) -> tuple[list[dict[str, Any]], str]:
        """For scripts: up to `limit` conversations as the server sent them, from page 1 on.

        No URL is fetched twice; the second string says why the walk ended early, if
        the server looped. Raises `ApiError`.
        """
        rows: list[dict[str, Any]] = []
        seen_ids: set[str] = set()
        fetched: set[str | None] = set()
        url: str | None = None
        while len(rows) < limit:
            fetched.add(url or self._first_page_url())
            page = await self._fetch(url, older=True)
            for row in page.raw:
                if str(row["id"]) not in seen_ids:
                    seen_ids.add(str(row["id"]))
                    rows.append(row)
            if page.is_last:
                break
            if page.next_url in fetched:
                return rows[:limit], "the server's next link repeats a page already read"
            url = page.next_url
        return rows[:limit], ""

    # -- newer rows, and rows deleted elsewhere ---------------------------------------

    def refresh(self) -> None:
        """The user asked for newer rows (and heals what failed): says how many came."""
        self._refresh_asked = True
        self.retry_now()

    async def _refresh(self, *, quiet: bool, silent: bool = False) -> bool:
        """Reads page 1 (walking down only while every row on it is new), merges it, and
        drops the loaded rows the server no longer has. True when it got through."""
        if self._refreshing or self.store is None:
            return False
        self._refreshing = True
        try:
            return await self._refresh_now(quiet=quiet, silent=silent)
        finally:
            self._refreshing = False

    async def _refresh_now(self, *, quiet: bool, silent: bool = False) -> bool:
        """`quiet` says only what changed; `silent` says nothing (after the user's own send)."""
        inbox = self.inbox
        before = {c.id: (reconcile.last_id(c), c.unread) for c in inbox}
        rows: list[Conversation] = []
        fetched: set[str | None] = set()
        url: str | None = None
        pages: list[Page] = []
        try:
            for _ in range(REFRESH_PAGES):
                fetched.add(url)
                page = await self._fetch(url, older=False)
                pages.append(page)
                rows.extend(page.conversations)
                # Walk down only while every row is new: below a known one, all is known.
                met_known = not before or any(
                    c.id in before and before[c.id][0] == reconcile.last_id(c)
                    for c in page.conversations
                )
                if page.is_last or met_known or page.next_url in fetched:
                    break
                url = page.next_url
        except ApiError as error:
            self._failed(error, "refresh")
            return False
        first_page, page = pages[0], pages[-1]
        self._sweep_from = (page.next_url, {c.id for c in rows})
        complete = page.is_last
        if not inbox.started:
            inbox.started = True
            inbox.next_url = page.next_url
            inbox.reached_end = page.is_last
        if first_page.prev_url is not None:
            inbox.prev_url = first_page.prev_url
        top_before = reconcile.top(inbox, len(rows))
        inbox.add_newer(rows)
        gone = reconcile.gone(inbox, rows, complete=complete)
        if gone and not complete:
            gone = await self._confirm_gone(gone, page.next_url, fetched)
        await self._forget(gone)
        await self._save_paging()
        self._succeeded("refresh")
        if reconcile.top(inbox, len(rows)) != top_before or not self.rows_known:
            self._emit(RowsChanged(0))  # an unchanged page 1 repaints nothing
        self.rows_known = True
        self._emit(StateChanged())
        self._refresh_open_thread(rows)
        changed = sum(1 for c in rows if before.get(c.id) != (reconcile.last_id(c), c.unread))
        if not silent and (not quiet or changed):
            plural = "s" if changed != 1 else ""
            text = f"{changed} new or updated conversation{plural}." if changed else ""
            self._emit(Notice(text or "No newer conversations.", timeout=3))
        return True

    async def _confirm_gone(
        self, suspects: list[str], url: str | None, fetched: set[str | None]
    ) -> list[str]:
        """Rows missing from what a refresh read may only have moved down (their newest
        message was deleted): a few more pages are read, and those found there stay.
        Rows still missing are taken as gone; on an error, none is."""
        missing = set(suspects)
        try:
            for _ in range(SWEEP_PAGES):
                if not missing or url is None or url in fetched:
                    break
                fetched.add(url)
                page = await self.client.conversations(url)
                missing -= {c.id for c in page.conversations}
                if page.is_last:
                    break
                url = page.next_url
        except ApiError as error:
            log.info("could not confirm rows deleted elsewhere: %s", error)
            return []
        return [i for i in suspects if i in missing]

    async def _forget(self, ids: list[str]) -> None:
        """Rows the server no longer has: out of the list and the cache."""
        if not ids:
            return
        assert self.store is not None
        await self._db(store_tasks.delete_conversations, self.store, ids)
        shown = [i for i in ids if self.inbox.remove(i) is not None]
        for conversation_id in shown:
            self.pending_reads.discard(conversation_id)
            self._emit(RowGone(conversation_id))
        if shown:
            self._emit(RowsChanged(0))
            self._emit(StateChanged())
        await self._count()

    async def _sweep(self) -> None:
        """The cheap background check: a few pages past the first, spaced out, for
        loaded rows deleted elsewhere. A row that only moved up is spared: the suspects
        are checked against a fresh page 1 before any is dropped."""
        inbox = self.inbox
        suspects: set[str] = set()
        seen: set[str] = set()
        fetched: set[str | None] = set()
        url: str | None = None
        page: Page | None = None
        if self._sweep_from is not None:
            url, seen_by_refresh = self._sweep_from
            if url is None:
                return  # the refresh read the whole inbox: nothing is left to check
            seen.update(seen_by_refresh)
        try:
            if url is None:
                page = await self.client.conversations(None)
            for _ in range(SWEEP_PAGES):
                if page is not None:
                    seen.update(c.id for c in page.conversations)
                    if page.is_last or page.next_url is None or page.next_url in fetched:
                        break
                    url = page.next_url
                if url is None:
                    break
                fetched.add(url)
                if page is not None:
                    await self.clock.sleep(SWEEP_PAUSE)  # spaced out: it must stay cheap
                page = await self.client.conversations(url)
                dated = [c.last_status.created_at for c in page.conversations if c.last_status]
                if not dated:
                    break
                newest, oldest = max(dated), min(dated)
                ids = {c.id for c in page.conversations}
                seen.update(ids)
                suspects.update(
                    c.id
                    for c in inbox
                    if c.last_status is not None
                    and oldest <= c.last_status.created_at <= newest
                    and c.id not in ids
                )
                if len(inbox) and reconcile.activity(inbox[len(inbox) - 1]) >= oldest:
                    break  # past the loaded rows
            suspects -= seen
            if suspects:
                fresh = await self.client.conversations(None)
                suspects -= {c.id for c in fresh.conversations}
        except ApiError as error:
            log.info("the background check stopped: %s", error)
            return
        await self._forget([c for c in suspects if c in inbox])

    # -- the thread ------------------------------------------------------------------

    async def open(self, conversation: Conversation, *, mark_read: bool = True) -> None:
        """Shows a conversation's thread from the cache at once, then refreshes it; an
        unread conversation is marked read (unless `mark_read` is False: a preview)."""
        assert self.store is not None
        self.open_conversation = conversation
        cached = await self._db(store_tasks.cached_thread, self.store, conversation)
        if self.open_conversation is not conversation:
            return  # the cursor moved on meanwhile
        self._emit(self.writer.thread_changed(conversation, cached, "Refreshing the thread…"))
        self._spawn(self._load_thread(conversation), "thread")
        if not mark_read:
            return
        await self._db(self.store.set, last_open=conversation.id)
        if conversation.id in self.local_unread:
            await triage.clear_local_unread(self, conversation.id)
        elif conversation.unread:
            await self.mark_read(conversation.id)

    async def mark_unread(self, conversation_id: str) -> bool:
        """`U`: shows the row unread at once; the mark is stored, then sent (a server
        without `/unread` keeps it as a local mark). False when there was nothing to do."""
        return await triage.mark_unread(self, conversation_id)

    async def next_unread(self, start: int, *, forward: bool = True) -> int | None:
        """`n`/`N`: the next (previous) unread row's index, paging on when needed."""
        return await triage.next_unread(self, start, forward=forward)

    async def _load_thread(self, conversation: Conversation) -> None:
        assert self.store is not None
        if conversation.last_status is None:
            self._emit(
                self.writer.thread_changed(conversation, [], "This conversation has no messages.")
            )
            return
        self._thread_wanted = None
        if self.token_refused:
            return  # nothing is asked of the server until a new login: the cache shows
        try:
            raw = await self.client.context_raw(conversation.last_status.id)
        except ApiError as error:
            if error.transient or isinstance(error, AuthenticationError):
                self._thread_wanted = conversation if error.transient else None
                self._failed(error, "thread")
            else:
                # A permanent answer is the thread's own note, not the inbox's problem.
                self._thread_wanted = None
                self._settled("thread")
            cached = await self._db(store_tasks.cached_thread, self.store, conversation)
            self._emit(self.writer.thread_changed(conversation, cached, f"Not refreshed: {error}"))
            return
        thread = await self._db(store_tasks.store_thread, self.store, conversation, raw)
        self._succeeded("thread")
        shown = self.open_conversation
        if shown is not None and shown.id == conversation.id:
            self._emit(self.writer.thread_changed(conversation, thread))

    def _refresh_open_thread(self, rows: list[Conversation]) -> None:
        """A new message in the conversation being read shows without reopening it."""
        shown = self.open_conversation
        if shown is None:
            return
        for conversation in rows:
            if conversation.id == shown.id and reconcile.last_id(conversation) != reconcile.last_id(
                shown
            ):
                self.open_conversation = conversation
                self._spawn(self._load_thread(conversation), "thread")
                return

    # -- find --------------------------------------------------------------------------

    async def find(self, query: str, limit: int = FIND_LIMIT) -> Matches:
        """The cached conversations matching `query`, newest first (see `engine.finding`)."""
        return await finding.find(self, query, limit)

    # -- actions ---------------------------------------------------------------------

    async def mark_read(self, conversation_id: str) -> None:
        """Shows the row read at once; the read is stored, then sent."""
        assert self.store is not None
        current = self._row(conversation_id)
        if current is None or not current.unread:
            return
        self.inbox.replace(reconcile.with_unread(current, False))
        self.pending_reads.add(conversation_id)
        self._emit(RowChanged(conversation_id))
        try:
            await self._db(self.store.enqueue, "read", conversation_id)
        except Exception as error:
            log.warning("cannot queue a read: %s", error)
            self.pending_reads.discard(conversation_id)
            if (row := self._row(conversation_id)) is not None:
                self.inbox.replace(reconcile.with_unread(row, True))
            self._emit(RowChanged(conversation_id))
            self._emit(Notice(one_line(f"Could not save that in the cache ({error})."), "error"))
            return
        await self._count()
        self._spawn(self._send_outbox(), "send")

    async def remove(self, conversation_id: str) -> Conversation | None:
        """Takes the row away at once; the server is told when the undo window closes.
        Returns the row removed (None when there was none, or the cache refused)."""
        assert self.store is not None
        taken = self.inbox.remove(conversation_id)
        if taken is None:
            return None
        index, row = taken
        removal = _Removal(index, row)
        self._undo.append(removal)
        self._emit(RowGone(conversation_id))
        self._emit(RowsChanged(index))
        try:
            removal.seq = await self._db(
                self.store.enqueue,
                "remove",
                conversation_id,
                not_before=self.clock.now() + self.undo_seconds,
                snapshot=row,
            )
        except Exception as error:
            log.warning("cannot queue a removal: %s", error)
            self._undo.remove(removal)
            self.inbox.restore(index, row)
            self._emit(RowsChanged(index))
            self._emit(Notice(one_line(f"Could not save that in the cache ({error})."), "error"))
            return None
        await self._count()
        self._after(self.undo_seconds, self._send_outbox)
        return row

    async def undo(self) -> Conversation | None:
        """Takes back the last removal still in its window; the row returns where it was.
        Returns it, or None (with a notice) when there is nothing to undo or it is too late."""
        assert self.store is not None
        if not self._undo:
            self._emit(Notice("Nothing to undo.", timeout=2))
            return None
        removal = self._undo.pop()
        seq = removal.seq
        cancelled = None
        if seq is not None and seq not in self._in_flight:
            cancelled = await self._db(self.store.cancel, seq)
        if cancelled is None:
            self._emit(StateChanged())
            self._emit(
                Notice("Too late to undo: the removal is being sent or was sent.", timeout=3)
            )
            return None
        index = self.inbox.restore(removal.index, removal.row)
        await self._count()
        self._emit(RowsChanged(min(index, removal.index)))
        self._emit(StateChanged())
        return removal.row

    async def send(self, draft: Draft) -> int | None:
        """Queues a message (its draft goes in the same transaction) and sends it; it
        shows in its thread as pending until the server confirms it. Returns its `seq`,
        or None (with a notice) when the cache refused it: the draft is then kept."""
        store = await self.open_store()
        payload = self.writer.payload(draft)
        try:
            seq = await self._db(
                store.enqueue,
                "send",
                draft.conversation_id or "",
                payload=payload,
                draft_key=draft.key,
            )
        except Exception as error:
            log.warning("cannot queue a message: %s", error)
            self._emit(Notice(one_line(f"Could not save that in the cache ({error})."), "error"))
            return None
        from dminbox.store import QueuedAction

        self.writer.remember(
            QueuedAction(seq, "send", draft.conversation_id or "", 0.0, 0, None, None, payload)
        )
        self.show_pending(draft.conversation_id)
        self.live.poke()  # an answer may follow soon: polling, if it polls, is faster
        await self._count()
        self._spawn(self._send_outbox(), "send")
        return seq

    def show_pending(self, conversation_id: str | None) -> None:
        """The open thread, redrawn from the cache with its pending messages."""
        shown = self.open_conversation
        if shown is None or conversation_id != shown.id or self.store is None:
            return

        async def redraw() -> None:
            assert self.store is not None
            cached = await self._db(store_tasks.cached_thread, self.store, shown)
            if self.open_conversation is shown:
                self._emit(self.writer.thread_changed(shown, cached))

        self._spawn(redraw(), "thread")

    def moved_to_top(self, row: Conversation) -> None:
        """A message the user sent: its conversation goes to the top, read."""
        self.inbox.add_newer([row])
        self.pending_reads.discard(row.id)
        self._emit(RowsChanged(0))
        self._emit(StateChanged())
        shown = self.open_conversation
        if shown is not None and shown.id == row.id:
            self.open_conversation = row
            self.show_pending(row.id)

    async def after_send(self, draft_key: str, status: Status, *, known: bool) -> None:
        """After a message went: page 1 brings its conversation (a new one, or a fork)
        as the server has it. A new message's conversation is then named by `Sent`."""
        if not await self._refresh(quiet=True, silent=True) and self._refreshing:
            # A refresh already on its way may have asked before the message existed.
            self._after(1.0, lambda: self.after_send(draft_key, status, known=known))
            return
        if known:
            return
        found = next((c for c in self.inbox if reconcile.last_id(c) == status.id), None)
        self._emit(Sent(draft_key, status, found.id if found else None))

    async def _send_outbox(self, *, everything: bool = False) -> None:
        """Sends what is due, in order, one sender at a time; stops at the first that must
        wait. `everything` also sends removals inside their undo window (on quit)."""
        if self.store is None or self.token_refused:
            return
        async with self._send_lock:
            now = self.clock.now()
            kept = False
            for action in await self._db(self.store.queued):
                if not everything and action.not_before > now:
                    continue
                # On its way from here on: an undo after this point is too late. (Marked
                # before asking the store, so an undo cannot slip in behind that question.)
                self._in_flight.add(action.seq)
                if not await self._db(self.store.is_queued, action.seq):
                    self._in_flight.discard(action.seq)
                    continue  # undone while an earlier action was being sent
                try:
                    kept = not await self._send(action)
                finally:
                    self._in_flight.discard(action.seq)
                if kept:
                    break
            if not kept and "outbox" in self._wants:
                self._settled("outbox")  # what failed was undone, or sent meanwhile
        await self._count()

    async def _send(self, action: QueuedAction) -> bool:
        """Sends one action; False when it stays queued for a later try."""
        assert self.store is not None
        store = self.store
        conversation_id = action.conversation_id
        try:
            if action.action == "read":
                await self.client.mark_read(conversation_id)
            elif action.action == "remove":
                await self.client.remove(conversation_id)
            elif action.action == "send":
                # A message has its own outcomes: a 404 is a refusal, not "already gone".
                return await self.writer.post(action)
            elif action.action == "unread":
                # So has an unread mark: a 404 may mean a server without the endpoint.
                return await triage.send_unread(self, action)
            else:
                await self._db(store.done, action.seq)
                return True
        except NotFoundError:
            # Gone already (removed elsewhere): what the user wanted, or moot. Noted as
            # removed first: a page already on its way must not bring it back.
            self._removed.add(conversation_id)
            await self._db(store.done, action.seq)
            self._undo = [r for r in self._undo if r.seq != action.seq]
            self.pending_reads.discard(conversation_id)
            await self._forget([conversation_id])
            if action.action == "read":
                self._emit(Notice("That conversation is already gone.", timeout=4))
            return True
        except ApiError as error:
            if error.transient or isinstance(error, AuthenticationError):
                await self._db(store.failed, action.seq, str(error))
                self._failed(error, "outbox")
                return False
            await self._db(store.done, action.seq)
            await self._roll_back(action, error)
            return True
        if action.action == "remove":
            self._removed.add(conversation_id)  # before the await: see above
        await self._db(store.done, action.seq)
        self._undo = [r for r in self._undo if r.seq != action.seq]
        if conversation_id in self.pending_reads:
            self.pending_reads.discard(conversation_id)
            self._emit(RowChanged(conversation_id))
        self._succeeded("outbox")
        return True

    async def _roll_back(self, action: QueuedAction, error: ApiError) -> None:
        """The server said no for good: the cache and the screen go back to what it holds."""
        assert self.store is not None
        conversation_id = action.conversation_id
        self.pending_reads.discard(conversation_id)
        if action.action == "read":
            await self._db(self.store.set_unread, conversation_id, True)
            if (row := self._row(conversation_id)) is not None:
                self.inbox.replace(reconcile.with_unread(row, True))
            self._emit(RowChanged(conversation_id))
            verb = "mark read"
        else:
            await self._db(self.store.unhide, action)
            removal = next((r for r in self._undo if r.seq == action.seq), None)
            self._undo = [r for r in self._undo if r.seq != action.seq]
            row = removal.row if removal else action.snapshot
            if row is not None:
                index = self.inbox.restore(removal.index if removal else 0, row)
                self._emit(RowsChanged(index))
            verb = "remove"
        self._emit(Notice(one_line(f"Could not {verb}: {error}"), "error", 8))
        self._emit(StateChanged())

    async def _count(self) -> None:
        assert self.store is not None
        pending, unread = await self._db(store_tasks.counts, self.store)
        if (pending, unread) != (self.pending_count, self._cached_unread):
            self.pending_count, self._cached_unread = pending, unread
            self._emit(StateChanged())

    def _row(self, conversation_id: str) -> Conversation | None:
        index = self.inbox.index_of(conversation_id)
        return None if index is None else self.inbox[index]


def _open_and_read_start(engine: Engine) -> store_tasks.Start:
    """On the store's thread: opens the cache (once) and reads what the first screen needs."""
    if engine.store is None:
        engine.store = engine._open_store()
    return store_tasks.read_start(engine.store)
