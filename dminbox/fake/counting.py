"""How long a new status is, as each server counts it before it accepts the status.

Mastodon (StatusLengthValidator) counts grapheme clusters of the content warning
followed by the text, in which every http(s) URL stands for
`characters_reserved_per_url` characters and a mention `@user@domain` for `@user`.
GoToSocial counts code points of the text plus the content warning, URLs and
mentions at their full length, whatever `characters_reserved_per_url` it reports.
"""

from __future__ import annotations

import re

import regex

from dminbox.fake.content import ENTITY_RE

__all__ = [
    "TEXT_LIMIT",
    "URL_WEIGHT",
    "gotosocial_length",
    "mastodon_length",
    "status_length",
]

TEXT_LIMIT = {"mastodon": 500, "gotosocial": 5000}
"""The default `max_characters` of each flavour."""
URL_WEIGHT = {"mastodon": 23, "gotosocial": 25}
"""The `characters_reserved_per_url` each flavour reports (GoToSocial does not apply it)."""

GRAPHEME = regex.compile(r"\X")


def mastodon_length(text: str, spoiler_text: str = "", url_weight: int = 23) -> int:
    """Grapheme clusters of the content warning and the text, links and mentions shortened."""

    def countable(match: re.Match[str]) -> str:
        if match.group("url"):
            return "x" * url_weight
        if match.group("mention"):
            return "@" + match.group("username")
        return match.group(0)  # a hashtag counts as written

    shortened = "" if not text.strip() else ENTITY_RE.sub(countable, text)
    return len(GRAPHEME.findall(spoiler_text + shortened))


def gotosocial_length(text: str, spoiler_text: str = "") -> int:
    """Code points (Go's runes) of the text plus the content warning, nothing shortened."""
    return len(text) + len(spoiler_text)


def status_length(flavour: str, text: str, spoiler_text: str = "") -> int:
    if flavour == "gotosocial":
        return gotosocial_length(text, spoiler_text)
    return mastodon_length(text, spoiler_text, URL_WEIGHT["mastodon"])
