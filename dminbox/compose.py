"""The rules of writing a direct message: who it reaches, how long the server finds it.

The recipients of a direct status are exactly the accounts @mentioned in its text
(docs/mastodon.md, "Posting and replies"): a reply that leaves a participant out, or
mentions someone new, forks into another conversation, and a text that mentions no one
reaches no one. The length is Mastodon's (docs/mastodon.md, "Instance limits"): grapheme
clusters, a URL as a fixed weight, a remote mention by its local part, the content
warning counted with the text.

Pure functions over strings and `Account`s, used by the composer screen and by the
`dminbox reply` and `dminbox send` scripts. Linear time, whatever the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import regex

from dminbox.models import Account

__all__ = [
    "DEFAULT_MAX_CHARACTERS",
    "DEFAULT_URL_WEIGHT",
    "Limits",
    "SendWarning",
    "check",
    "full_acct",
    "mentioned",
    "over_limit",
    "participants_of",
    "prefill",
    "recipients_line",
    "weighted_length",
]

DEFAULT_MAX_CHARACTERS = 500
"""Mastodon's default limit of a status, content warning included."""
DEFAULT_URL_WEIGHT = 23
"""What Mastodon counts a URL as, whatever its length."""

# Account::MENTION_RE of Mastodon 4.x: an @ not after "=", "/" or a word character
# (so not in an e-mail address or a URL's path or query), a username, optionally
# @domain. Ruby's [[:word:]] is letters, marks, decimal digits and connector
# punctuation. Nothing here can backtrack more than linearly: each repetition
# alternates between classes that do not overlap.
_WORD = r"\p{L}\p{M}\p{Nd}\p{Pc}"
_MENTION = regex.compile(
    rf"(?<![=/{_WORD}])@([A-Za-z0-9_]++(?:[.\-]++[A-Za-z0-9_]++)*+)"
    rf"(?:@([{_WORD}]++(?:[.\-]++[{_WORD}]++)*+))?"
)
# What the length check (Mastodon's Extractor) requires after a mention, or it is
# not one: no other @, no Latin accented letter, no "://". From twitter-text.
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253-\u0254\u0256-\u0257"
    "\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_END_MENTION = regex.compile(rf"[@\uff20{_LATIN_ACCENTS}]|://")
_MAX_DOMAIN_LENGTH = 253
# An http:// or https:// URL: not glued to a word, "@", "$" or "#" before it (as in
# twitter-text), a host, then anything up to a space. Trailing punctuation and
# unbalanced closing brackets are cut off afterwards, as twitter-text leaves them out.
_URL = regex.compile(r"(?<![A-Za-z0-9@\uff20$#\uff03])(?i:https?)://[\p{L}\p{N}][^\s<>\"]*+")
_TRAILING = frozenset(".,;:!?'*\u2026")
_CLOSING = {")": "(", "]": "[", "}": "{"}
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True, slots=True)
class Limits:
    """What an instance accepts: the longest status, and what a URL counts as."""

    max_characters: int = DEFAULT_MAX_CHARACTERS
    characters_reserved_per_url: int = DEFAULT_URL_WEIGHT
    code_points: bool = False
    """GoToSocial's rule: every code point counts, links and mentions at full length
    (it reports a URL weight but does not apply it)."""

    @classmethod
    def from_instance(cls, data: object) -> Limits:
        """From a /api/v2/instance or /api/v1/instance JSON answer (already json-decoded).
        v2 and v1: configuration.statuses.max_characters / characters_reserved_per_url;
        v1 of Pleroma/Akkoma: top-level max_toot_chars. Anything missing, not an int, bool,
        or < 1 falls back to the default; never raises on any input."""
        statuses = _get(_get(data, "configuration"), "statuses")
        maximum = _count(_get(statuses, "max_characters"))
        if maximum is None:
            maximum = _count(_get(data, "max_toot_chars"))
        weight = _count(_get(statuses, "characters_reserved_per_url"))
        version = _get(data, "version")
        source = _get(data, "source_url")
        gotosocial = (isinstance(version, str) and " git-" in version) or (
            isinstance(source, str) and "gotosocial" in source.lower()
        )
        return cls(
            max_characters=DEFAULT_MAX_CHARACTERS if maximum is None else maximum,
            characters_reserved_per_url=DEFAULT_URL_WEIGHT if weight is None else weight,
            code_points=gotosocial,
        )

    def to_json(self) -> dict[str, int | bool]:
        """The limits as JSON data, for the cache."""
        return {
            "max_characters": self.max_characters,
            "characters_reserved_per_url": self.characters_reserved_per_url,
            "code_points": self.code_points,
        }

    @classmethod
    def from_json(cls, data: object) -> Limits:
        """From what `to_json` gave; a value that no longer fits is the default."""
        maximum = _count(_get(data, "max_characters"))
        weight = _count(_get(data, "characters_reserved_per_url"))
        return cls(
            max_characters=DEFAULT_MAX_CHARACTERS if maximum is None else maximum,
            characters_reserved_per_url=DEFAULT_URL_WEIGHT if weight is None else weight,
            code_points=_get(data, "code_points") is True,
        )


_DEFAULT_LIMITS = Limits()


def _get(data: object, key: str) -> object:
    return data.get(key) if isinstance(data, dict) else None


def _count(value: object) -> int | None:
    """A positive int, or None (a bool is not a count)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


@dataclass(frozen=True, slots=True)
class SendWarning:
    """Why the user should confirm before sending."""

    kind: Literal["fork", "nobody"]
    """Either "fork" (the mentions are not the conversation's participants) or "nobody"
    (the text mentions no one)."""
    text: str
    """One line for the user."""


def weighted_length(text: str, spoiler_text: str = "", *, limits: Limits = _DEFAULT_LIMITS) -> int:
    """The length the server checks: grapheme clusters (regex module's \\X), every
    http:// or https:// URL as limits.characters_reserved_per_url, a mention
    @user@domain as @user, and the content warning counted with the text.

    As Mastodon's StatusLengthValidator: a blank text counts nothing, and the content
    warning is counted as written, its URLs and mentions at full length. On GoToSocial
    (`limits.code_points`), code points of the text and the warning, all at full length."""
    if limits.code_points:
        return len(text) + len(spoiler_text)
    countable = "" if text.isspace() else _countable(text, limits.characters_reserved_per_url)
    return sum(1 for _ in _GRAPHEME.finditer(spoiler_text + countable))


def _countable(text: str, url_weight: int) -> str:
    """The text with every URL as `url_weight` x's and every mention as @user."""
    entities: list[tuple[int, int, str]] = []
    if "://" in text:
        placeholder = "x" * url_weight
        for match in _URL.finditer(text):
            entities.append(
                (match.start(), _url_end(text, match.start(), match.end()), placeholder)
            )
    if "@" in text:
        for match in _MENTION.finditer(text):
            domain = match.group(2)
            if _END_MENTION.match(text, match.end()) or (
                domain and len(domain) > _MAX_DOMAIN_LENGTH
            ):
                continue
            entities.append((match.start(), match.end(), "@" + match.group(1)))
    if not entities:
        return text
    entities.sort(key=lambda entity: entity[0])
    parts: list[str] = []
    index = 0
    for start, end, replacement in entities:
        if start < index:  # overlaps one kept before it: a mention inside a URL
            continue
        parts += (text[index:start], replacement)
        index = end
    parts.append(text[index:])
    return "".join(parts)


def _url_end(text: str, start: int, end: int) -> int:
    """Where the URL matched at start:end ends, trailing punctuation and closing
    brackets it did not open left out."""
    brackets = {char: text.count(char, start, end) for char in "()[]{}"}
    while end > start:
        char = text[end - 1]
        if char in _CLOSING and brackets[char] > brackets[_CLOSING[char]]:
            brackets[char] -= 1
        elif char not in _TRAILING:
            break
        end -= 1
    return end


def mentioned(text: str) -> list[str]:
    """Accts @mentioned in the text, in order, without the leading @ and deduplicated
    case-insensitively (first spelling kept): "@a @b@x.org" -> ["a", "b@x.org"].
    Uses Mastodon's mention rule: an @ not preceded by a word char or '/', a username of
    [a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?, optionally @domain; case-insensitive.
    Email addresses (foo@bar.com) and URLs' @ are not mentions.

    As Mastodon's Account::MENTION_RE, an @ after "=" is not one either (a URL's query).
    These are whom the server delivers to, if the accounts exist."""
    if "@" not in text:
        return []
    seen: set[str] = set()
    accts: list[str] = []
    for match in _MENTION.finditer(text):
        acct = match.group(0)[1:]
        key = acct.lower()
        if key not in seen:
            seen.add(key)
            accts.append(acct)
    return accts


def full_acct(acct: str, local_host: str) -> str:
    """An acct as user@host, lowercased: a bare "user" is local (local_host). Leading @
    stripped. Used to compare mentions with participants.

    A domain is compared in its ASCII (punycode) form, as the server stores it."""
    user, _, host = acct.strip().lstrip("@").partition("@")
    host = _ascii_host(host or local_host)
    return f"{user.lower()}@{host}" if host else user.lower()


def _ascii_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a name IDNA can spell: compared as written
        return host


def participants_of(accounts: Sequence[Account], me_id: str | None) -> list[Account]:
    """Who a reply goes to: every account of the conversation except the user (me_id);
    for a note to yourself ([you]) the list is empty.

    An account listed twice (same id) is kept once."""
    seen: set[str] = set()
    others: list[Account] = []
    for account in accounts:
        if account.id != me_id and account.id not in seen:
            seen.add(account.id)
            others.append(account)
    return others


def prefill(accounts: Sequence[Account], me_id: str | None) -> str:
    """The reply's opening: "@acct " for every participant except the user, e.g.
    "@a@host @b ", or "" when there is no one.

    An account without an acct is mentioned by its username, one without either is left
    out; accts are written once, whatever their case."""
    seen: set[str] = set()
    parts: list[str] = []
    for account in participants_of(accounts, me_id):
        acct = (account.acct or account.username).strip().lstrip("@")
        if acct and acct.lower() not in seen:
            seen.add(acct.lower())
            parts.append(f"@{acct} ")
    return "".join(parts)


def recipients_line(text: str, local_host: str) -> str:
    """For the composer's head: who will receive it, "@a@host, @b", from the mentions in the text.

    Each account once, as first written ("@bob" and "@bob@host" are the same local user
    on host); "" when the text mentions no one."""
    return ", ".join(f"@{acct}" for acct in _recipients(mentioned(text), local_host))


def _recipients(accts: list[str], local_host: str) -> list[str]:
    """The accts, one for each account (compared with `full_acct`), first spelling kept."""
    seen: set[str] = set()
    kept: list[str] = []
    for acct in accts:
        key = full_acct(acct, local_host)
        if key not in seen:
            seen.add(key)
            kept.append(acct)
    return kept


_NOBODY = "Nobody is mentioned: the message would reach no one but you."


def check(text: str, participants: Sequence[str], local_host: str) -> SendWarning | None:
    """Why the user should be asked before sending, or None.
    `participants` are accts (as Account.acct gives them: bare for local users).
    - nobody mentioned -> kind "nobody":
      "Nobody is mentioned: the message would reach no one but you."
    - a reply (participants non-empty) whose mentions are not exactly the participants
      (compared with full_acct) -> kind "fork", text naming who is added and/or left out,
      e.g. "This starts a new conversation: @c added, @b left out." (one line).
    For a new DM pass participants=[] : then only the "nobody" check applies."""
    mentions = _recipients(mentioned(text), local_host)
    if not mentions:
        return SendWarning("nobody", _NOBODY)
    if not participants:
        return None
    wanted = {full_acct(acct, local_host) for acct in participants}
    written = {full_acct(acct, local_host) for acct in mentions}
    added = [acct for acct in mentions if full_acct(acct, local_host) not in wanted]
    left_out = [
        acct.strip().lstrip("@")
        for acct in _recipients(list(participants), local_host)
        if full_acct(acct, local_host) not in written
    ]
    if not added and not left_out:
        return None
    changes = [
        f"{', '.join(f'@{acct}' for acct in accts)} {what}"
        for accts, what in ((added, "added"), (left_out, "left out"))
        if accts
    ]
    return SendWarning("fork", f"This starts a new conversation: {', '.join(changes)}.")


def over_limit(text: str, spoiler_text: str, limits: Limits) -> str | None:
    """One line when too long ("412 characters over the limit of 500." style, using
    weighted_length), else None."""
    over = weighted_length(text, spoiler_text, limits=limits) - limits.max_characters
    if over <= 0:
        return None
    unit = "character" if over == 1 else "characters"
    return f"{over} {unit} over the limit of {limits.max_characters}."
