"""The commands for scripts that write: `reply` and `send`, one direct message each.

The text comes from `--text` or stdin. The composer's rules apply (dminbox/compose.py):
a reply mentions every participant of its conversation and a new message every
`--to` account (the missing mentions are put in front), a fork or a message to
nobody is refused unless `--yes`, and a text over the server's limit always is.

A message is sent at once, never queued in the app's outbox: when the script gives
up, nothing is left to be sent later, so running it again cannot post it twice
behind the user's back. One `Idempotency-Key` is made per run and every retry of a
transient failure carries it, so the server posts the message at most once.

Exit 0 only when the server confirmed the post (its id, or its JSON, on stdout);
otherwise one line on stderr and exit 1.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from dminbox import compose
from dminbox.config import Settings
from dminbox.engine import Backoff, Engine
from dminbox.errors import ApiError
from dminbox.models import Account, Conversation
from dminbox.scripts import _fail, _run
from dminbox.text import one_line

__all__ = ["ATTEMPTS", "WALK_LIMIT", "reply", "send"]

log = logging.getLogger(__name__)

ATTEMPTS = 3
"""Tries of one post when the failure is transient (5xx, 429, a timeout, a drop)."""
WALK_LIMIT = 1000
"""A conversation not in the cache is looked for in at most this many from the server."""
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 2.0


class Refused(Exception):
    """The message is not sent; `str()` is the one line that says why."""


def reply(
    settings: Settings,
    conversation_id: str,
    *,
    text: str | None,
    spoiler: str | None,
    yes: bool,
    as_json: bool,
    transport: Any = None,
) -> int:
    """`dminbox reply ID`: a message in that conversation, in reply to its last one."""
    try:
        body = _read_text(text)
    except Refused as refused:
        return _fail(str(refused))

    async def work(engine: Engine) -> dict[str, Any]:
        conversation = await _conversation(engine, conversation_id)
        last = conversation.last_status
        if last is None:
            name = one_line(conversation_id, 60)
            raise Refused(f"conversation {name} has no message to reply to")
        me = await engine.writer.me()
        others = compose.participants_of(conversation.accounts, me.id or None)
        present = _written(body, engine.host)
        missing = [
            a for a in others if compose.full_acct(a.acct or a.username, engine.host) not in present
        ]
        message = _lead(compose.prefill(missing, None), body)
        # As the composer does, the content warning is carried over unless one is given.
        cw = last.spoiler_text if spoiler is None else spoiler
        participants = [a.acct or a.username for a in others]
        await _check(engine, message, cw, participants, yes=yes)
        return await _post(engine, message, spoiler_text=cw, in_reply_to_id=last.id)

    return _write(settings, transport, work, as_json=as_json)


def send(
    settings: Settings,
    to: Sequence[str],
    *,
    text: str | None,
    spoiler: str | None,
    yes: bool,
    as_json: bool,
    transport: Any = None,
) -> int:
    """`dminbox send --to ACCT[,ACCT]`: a new message to these accounts."""
    try:
        body = _read_text(text)
    except Refused as refused:
        return _fail(str(refused))
    accts = _accts(to)

    async def work(engine: Engine) -> dict[str, Any]:
        for acct in accts:
            await _known(engine, acct)
        present = _written(body, engine.host)
        missing: list[str] = []
        for acct in accts:
            key = compose.full_acct(acct, engine.host)
            if key not in present:
                present.add(key)
                missing.append(acct)
        message = _lead("".join(f"@{acct} " for acct in missing), body)
        # A new message has no participants yet: only "nobody is mentioned" can apply.
        await _check(engine, message, spoiler or "", [], yes=yes)
        return await _post(engine, message, spoiler_text=spoiler or "", in_reply_to_id=None)

    return _write(settings, transport, work, as_json=as_json)


# -- the text ------------------------------------------------------------------------


def _read_text(given: str | None) -> str:
    """`--text`, else all of stdin (UTF-8); trailing whitespace (the newline) dropped."""
    if given is None:
        stream = sys.stdin
        if stream is None:
            raise Refused("no text: pipe it on stdin or give --text TEXT")
        try:
            buffer = getattr(stream, "buffer", None)
            given = buffer.read().decode("utf-8") if buffer is not None else stream.read()
        except UnicodeDecodeError:
            raise Refused("the text on stdin is not UTF-8") from None
        except OSError as error:
            raise Refused(f"cannot read stdin: {error}") from None
    text = given.rstrip()
    if not text.strip():
        raise Refused("nothing to send: the text is empty")
    return text


def _accts(to: Sequence[str]) -> list[str]:
    """The --to accounts, each once, without the leading @: "@a,b" "c" -> [a, b, c]."""
    seen: set[str] = set()
    accts: list[str] = []
    for value in to:
        for part in value.split(","):
            acct = part.strip().lstrip("@")
            if acct and acct.lower() not in seen:
                seen.add(acct.lower())
                accts.append(acct)
    return accts


def _written(text: str, host: str) -> set[str]:
    """Who the text mentions already, as `full_acct` names them."""
    return {compose.full_acct(acct, host) for acct in compose.mentioned(text)}


def _lead(mentions: str, text: str) -> str:
    """The missing mentions in front of the text, as the composer puts them."""
    return mentions + text.lstrip() if mentions else text


# -- the checks ----------------------------------------------------------------------


async def _conversation(engine: Engine, conversation_id: str) -> Conversation:
    """The conversation from the cache, else from the server's pages (a bounded walk)."""
    store = await engine.open_store()
    # On the engine's store thread, as every cache read: the cache is not shared.
    cached = await engine._db(store.conversation, conversation_id)
    if cached is not None:
        return cached
    rows, _ = await engine.walk(WALK_LIMIT)
    for row in rows:
        if str(row.get("id")) == conversation_id:
            try:
                return Conversation.model_validate(row)
            except ValueError:  # pydantic's ValidationError is one
                break
    raise Refused(f"no conversation {one_line(conversation_id, 60)} is known to {engine.host}")


async def _known(engine: Engine, acct: str) -> Account:
    try:
        account = await engine.writer.find_account(acct)
    except ApiError as error:
        raise Refused(f"cannot check @{one_line(acct, 60)}: {error}") from None
    if account is None:
        raise Refused(f"no account @{one_line(acct, 60)} is known to {engine.host}")
    return account


async def _check(
    engine: Engine, text: str, spoiler_text: str, participants: list[str], *, yes: bool
) -> None:
    """The composer's checks: too long is refused always; a fork or nobody, unless `yes`."""
    too_long = compose.over_limit(text, spoiler_text, await engine.writer.limits())
    if too_long:
        raise Refused(f"not sent: {too_long}")
    warning = compose.check(text, participants, engine.host)
    if warning is not None and not yes:
        raise Refused(f"not sent: {warning.text} (--yes sends it anyway)")


# -- sending -------------------------------------------------------------------------


async def _post(
    engine: Engine, text: str, *, spoiler_text: str, in_reply_to_id: str | None
) -> dict[str, Any]:
    """Posts once, with one key for every try; a transient failure is tried again."""
    key = uuid.uuid4().hex
    backoff = Backoff(base=_BACKOFF_BASE, cap=_BACKOFF_CAP)
    attempt = 1
    while True:
        try:
            raw = await engine.client.post_status_raw(
                text,
                in_reply_to_id=in_reply_to_id,
                spoiler_text=spoiler_text,
                idempotency_key=key,
            )
            break
        except ApiError as error:
            if not error.transient:
                raise Refused(f"not sent: {error}") from None
            if attempt >= ATTEMPTS:
                raise Refused(
                    f"not confirmed after {ATTEMPTS} tries: {error} Nothing is queued to "
                    "send later; if the server got it anyway, `dminbox list` shows it."
                ) from None
            log.info("posting failed (try %d), trying again: %s", attempt, error)
            attempt += 1
            await engine.clock.sleep(backoff.next_delay())
    await _refresh_quietly(engine)
    return raw


async def _refresh_quietly(engine: Engine) -> None:
    """Page 1 into the cache, so the app shows the message: it was sent whatever happens."""
    try:
        await engine.fetch_first_page()
    except Exception as error:  # the post is confirmed: nothing here may undo exit 0
        log.info("the message went, but page 1 could not be refreshed: %s", error)


def _write(settings: Settings, transport: Any, work: Any, *, as_json: bool) -> int:
    try:
        raw = _run(settings, transport, work)
    except Refused as refused:
        return _fail(str(refused))
    except ApiError as error:
        return _fail(str(error))
    try:
        # ASCII escapes: control and bidi characters stay inert in a terminal.
        print(json.dumps(raw, ensure_ascii=True) if as_json else one_line(str(raw.get("id", ""))))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
