"""Turns a status's plain text into HTML the way Mastodon's TextFormatter does."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

__all__ = ["MENTION_RE", "MentionTarget", "escape", "guess_language", "render_status_html"]

MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<username>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)"
    r"(?:@(?P<domain>[\w.-]+\w+(?::\d+)?))?",
    re.IGNORECASE,
)
URL_RE = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'’]")
HASHTAG_RE = re.compile(r"(?<![=/\w#])#(?P<tag>\w*[^\W\d_]\w*)")
ENTITY_RE = re.compile(
    f"(?P<url>{URL_RE.pattern})|(?P<mention>{MENTION_RE.pattern})|"
    f"(?P<hashtag>{HASHTAG_RE.pattern})",
    re.IGNORECASE,
)
URL_PREFIX_RE = re.compile(r"https?://(www\.)?")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Rails' html_escape: the five characters, with the apostrophe as &#39;.
ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
SCRIPT_LANGUAGES = (
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\u0600-\u06ff]"), "ar"),
    (re.compile(r"[\u0400-\u04ff]"), "ru"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
)


class MentionTarget(Protocol):
    """What the formatter needs to know about a mentioned account."""

    @property
    def url(self) -> str: ...

    @property
    def mention_label(self) -> str: ...


MentionResolver = Callable[[str, str | None], MentionTarget | None]


def escape(text: str) -> str:
    return "".join(ESCAPES.get(char, char) for char in text)


def _link(url: str) -> str:
    prefix = URL_PREFIX_RE.match(url)
    prefix_text = prefix.group(0) if prefix else ""
    rest = url[len(prefix_text) :]
    shown, hidden = rest[:30], rest[30:]
    visible_class = "ellipsis" if hidden else ""
    return (
        f'<a href="{escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{escape(prefix_text)}</span>'
        f'<span class="{visible_class}">{escape(shown)}</span>'
        f'<span class="invisible">{escape(hidden)}</span></a>'
    )


def _mention(target: MentionTarget) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{escape(target.url)}" '
        f'class="u-url mention">@<span>{escape(target.mention_label)}</span></a></span>'
    )


def _hashtag(tag: str, base_url: str) -> str:
    return (
        f'<a href="{escape(base_url)}/tags/{escape(tag.lower())}" class="mention hashtag" '
        f'rel="tag">#<span>{escape(tag)}</span></a>'
    )


def render_status_html(text: str, resolve: MentionResolver, base_url: str) -> str:
    """The `content` of a status: escaped text, linked entities, <p> and <br />.

    A mention that `resolve` does not know stays plain text, as on Mastodon
    when an account cannot be found.
    """
    text = text.replace("\r\n", "\n").strip()
    pieces: list[str] = []
    position = 0
    for match in ENTITY_RE.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        position = match.end()
        if match.group("url"):
            pieces.append(_link(match.group("url")))
            continue
        if match.group("hashtag"):
            pieces.append(_hashtag(match.group("tag"), base_url))
            continue
        target = resolve(match.group("username"), match.group("domain"))
        pieces.append(_mention(target) if target else escape(match.group(0)))
    pieces.append(escape(text[position:]))
    linked = "".join(pieces)
    paragraphs = PARAGRAPH_BREAK.split(linked) if linked else [""]
    return "".join(f"<p>{paragraph.replace(chr(10), '<br />')}</p>" for paragraph in paragraphs)


def guess_language(text: str) -> str:
    """A rough ISO 639-1 guess from the script, enough for a `language` field."""
    for pattern, language in SCRIPT_LANGUAGES:
        if pattern.search(text):
            return language
    return "en"
