"""Fills a FakeMastodon with the demo inbox: about 180 conversations of chat, plus traps."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dminbox.fake.demo_data import HOSTILE, PEOPLE, SPECIAL_THREADS, Line
from dminbox.fake.demo_scripts import FILLERS, SCRIPTS

if TYPE_CHECKING:
    from dminbox.fake.server import FakeMastodon

__all__ = ["TOTAL_THREADS", "fill_demo_inbox"]

TOTAL_THREADS = 180
OLDEST_MINUTES = 120 * 24 * 60
NEWEST_MINUTES = 3
# Minutes between two messages of a thread: mostly quick replies, sometimes the next day.
GAPS_MINUTES = (1, 2, 3, 4, 6, 9, 14, 25, 40, 75, 150, 300, 600, 1200)
SLOTS = ("a", "b", "c", "d")
# Chance that a conversation whose last message came from someone else is still unread.
UNREAD_NEAR_TOP, UNREAD_FURTHER_DOWN, NEAR_TOP = 0.85, 0.3, 25


@dataclass
class PlannedMessage:
    at: datetime
    thread: int
    order: int
    line: Line
    members: tuple[str, ...]  # everyone in the thread, "me" included


def fill_demo_inbox(server: FakeMastodon, *, seed: int, now: datetime) -> None:
    """Add the demo's people and threads to `server`, the same way for the same seed and now."""
    rng = random.Random(seed)
    accounts = {"me": server.me}
    for username, display_name, domain in PEOPLE:
        accounts[username] = server.add_account(username, display_name, domain)
    threads = _cast_threads(rng)
    plan = _schedule(threads, rng, now)
    previous: dict[int, str] = {}
    for message in plan:
        line = message.line
        to = (
            line.to
            if line.to is not None
            else tuple(member for member in message.members if member != line.speaker)
        )
        status = server.post_status(
            accounts[line.speaker],
            line.text,
            mentions=[accounts[who] for who in to],
            in_reply_to_id=previous.get(message.thread),
            spoiler_text=line.spoiler_text,
            media=[dict(media) for media in line.media],
            created_at=message.at,
        )
        previous[message.thread] = status["id"]
        if line.html_swap:
            marker, html = line.html_swap
            record = server.state.statuses[status["id"]]
            record.content = record.content.replace(marker, html)
    _settle_unread(server, rng)


def _cast_threads(rng: random.Random) -> list[tuple[tuple[str, ...], tuple[Line, ...]]]:
    """(people, lines) for every rank, the special threads at their fixed ranks."""
    special = {thread.rank: (thread.people, thread.lines) for thread in SPECIAL_THREADS}
    cast = [username for username, _, _ in PEOPLE if username not in HOSTILE]
    first_names = {
        username: (display.split()[0] if display.strip() else username)
        for username, display, _ in PEOPLE
    }
    scripts: list[tuple[str, ...]] = []
    threads = []
    for rank in range(TOTAL_THREADS):
        if rank in special:
            threads.append(special[rank])
            continue
        if not scripts:
            scripts = list(SCRIPTS)
            rng.shuffle(scripts)
        script = scripts.pop()
        used = [slot for slot in SLOTS if any(_speakers(line).count(slot) for line in script)]
        people = dict(zip(used, rng.sample(cast, len(used)), strict=True))
        values = {name: rng.choice(options) for name, options in FILLERS.items()}
        values["n"] = str(rng.randint(100, 9999))
        for slot, username in people.items():
            values[slot] = first_names[username]
            values[f"{slot}_user"] = username
        lines = tuple(_line(text, people, values) for text in script)
        threads.append((tuple(people.values()), lines))
    return threads


def _speakers(script_line: str) -> list[str]:
    head = script_line.split(": ", 1)[0]
    return head.replace(">", ",").split(",")


def _line(script_line: str, people: dict[str, str], values: dict[str, str]) -> Line:
    head, text = script_line.split(": ", 1)
    speaker, _, listeners = head.partition(">")
    who = {"me": "me", **people}
    to = tuple(who[slot] for slot in listeners.split(",")) if listeners else None
    return Line(who[speaker], text.format_map(values), to=to)


def _schedule(
    threads: list[tuple[tuple[str, ...], tuple[Line, ...]]], rng: random.Random, now: datetime
) -> list[PlannedMessage]:
    """Give every message a time: rank 0 ends minutes ago, the last rank months ago."""
    span = len(threads) - 1
    ages = sorted(
        NEWEST_MINUTES + OLDEST_MINUTES * (rank / span) ** 1.6 * rng.uniform(0.9, 1.1)
        for rank in range(len(threads))
    )
    plan: list[PlannedMessage] = []
    for rank, ((people, lines), age) in enumerate(zip(threads, ages, strict=True)):
        members = ("me", *people)
        at = now - timedelta(minutes=age, seconds=rng.randint(0, 59))
        for order in reversed(range(len(lines))):
            plan.append(PlannedMessage(at, rank, order, lines[order], members))
            at -= timedelta(minutes=rng.choice(GAPS_MINUTES), seconds=rng.randint(0, 59))
    # Posting in time order makes id order and time order agree, as on a real server.
    plan.sort(key=lambda message: (message.at, message.thread, message.order))
    return plan


def _settle_unread(server: FakeMastodon, rng: random.Random) -> None:
    """Leave recent incoming conversations mostly unread and older ones mostly read.

    A thread whose last word is mine counts as read on GoToSocial too: I read it
    before I answered, even though that server would not clear the flag itself.
    """
    me = server.me["id"]
    for rank, row in enumerate(server.state.rows_of(me)):
        last = server.state.statuses.get(row.last_status_id or "")
        if last is not None and last.account_id == me:
            row.unread = False
        elif row.unread:
            chance = UNREAD_NEAR_TOP if rank < NEAR_TOP else UNREAD_FURTHER_DOWN
            row.unread = rng.random() < chance
