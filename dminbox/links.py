"""The links and media of a thread, numbered as the thread shows them, with their real hosts.

A link's text can claim anything ("https://bank.example"); what counts is its href,
read the way a browser reads it (a backslash is a slash, the host is what follows the
last "@" of the authority, percent escapes and IDNA decoded). The host is shown in
Unicode for reading, and beside it the `xn--` form it really has, with a warning when
one label mixes scripts (Latin with Cyrillic, say). Only http and https are ever opened.
"""

from __future__ import annotations

import encodings.idna
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from dminbox.models import Status
from dminbox.text import Anchor, anchors, clean, one_line

__all__ = [
    "Host",
    "LinkEntry",
    "host_note",
    "host_of",
    "terminal_url",
    "thread_links",
    "thread_numbers",
]

Kind = Literal["link", "media", "mention", "hashtag", "other"]
WEB_SCHEMES = ("http", "https")
# Scripts that are one writing system together: Japanese mixes kana and kanji.
_FAMILIES = {"HIRAGANA": "JAPANESE", "KATAKANA": "JAPANESE", "CJK": "JAPANESE"}
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # as IDNA reads them
# A link text that looks like an address: "https://bank.example/…", "www.bank.example".
# Its last label is letters, so "v1.2" and "3.14" name no host.
_NAMED_HOST = re.compile(
    r"(?:[a-z][a-z0-9+.-]*:/*)?(?:[^\s/@]*@)?((?:[^\s/?#@:….]+\.)+[^\W\d_]{2,})(?![^\s/?#:…])",
    re.I,
)


@dataclass(frozen=True)
class Host:
    """Where a web link goes."""

    shown: str
    """For reading: Unicode labels (punycode decoded), lower case, with a port if any."""
    ascii: str
    """What it really is: the `xn--` form of every label, with the port."""
    idn: bool = False
    """Some label is not plain ASCII: the two forms differ."""
    mixed_scripts: bool = False
    """A label mixes scripts ("pаypal" with a Cyrillic а): the look-alike trick."""
    invalid: bool = False
    """Not a host IDNA can encode or decode: shown as written."""

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the reader should know, in words: the `xn--` form, mixed scripts."""
        notes: list[str] = []
        if self.invalid:
            notes.append("not a valid international name")
        elif self.idn:
            notes.append(self.ascii)
        if self.mixed_scripts:
            notes.append("⚠ mixed scripts")
        return tuple(notes)

    @property
    def label(self) -> str:
        """`bücher.example (xn--bcher-kva.example)`, or only the host when all is plain."""
        notes = self.warnings
        return f"{self.shown} ({', '.join(notes)})" if notes else self.shown


@dataclass(frozen=True)
class LinkEntry:
    """One thing of the thread that leads somewhere: a link, a media file, a mention."""

    kind: Kind
    url: str
    """Cleaned and without whitespace: what is copied and opened."""
    label: str = ""
    """What the message shows for it: the link's text, `@user`, the media's description."""
    number: int | None = None
    """The thread's `[n]` for a link; None for the rest."""
    host: Host | None = None
    """For http and https only."""
    media_type: str = ""
    """For media: image, video, audio, gifv or unknown."""
    warned: bool = False
    """It is in a message behind a content warning."""

    @property
    def scheme(self) -> str:
        head, colon, _ = self.url.partition(":")
        return head.lower() if colon else ""

    @property
    def openable(self) -> bool:
        """Only web links open in a browser; the rest are text."""
        return self.host is not None

    @property
    def copyable(self) -> bool:
        """Web and mail links; javascript:, data: and file: are never handed on."""
        return self.openable or self.scheme == "mailto"

    @property
    def claimed_host(self) -> str:
        """The host the link's text names when it is not the real one ("bank.example" for
        `<a href="https://evil.example">https://bank.example</a>`), else ""."""
        match = _NAMED_HOST.match(self.label)
        if match is None or self.host is None:
            return ""
        named = host_of(f"https://{match[1]}")
        if named is None or named.ascii.split(":")[0] == self.host.ascii.split(":")[0]:
            return ""
        return named.shown


def thread_numbers(statuses: Iterable[Status]) -> dict[str, int]:
    """href -> its number in the thread: 1, 2, … in order of first appearance, a link
    repeated in a later message keeping its number. Messages behind a content warning
    count too, so showing them renumbers nothing."""
    numbers: dict[str, int] = {}
    for status in statuses:
        for anchor in _anchors(status.content):
            if anchor.kind == "link":
                numbers.setdefault(anchor.href, len(numbers) + 1)
    return numbers


def thread_links(statuses: Sequence[Status]) -> tuple[LinkEntry, ...]:
    """The numbered links (as the thread numbers them), then the media, then mentions and
    hashtags, then other schemes; each URL once."""
    numbers = thread_numbers(statuses)
    links: dict[str, LinkEntry] = {}
    media: dict[str, LinkEntry] = {}
    tags: dict[str, LinkEntry] = {}
    others: dict[str, LinkEntry] = {}
    for status in statuses:
        warned = bool(status.spoiler_text)
        for anchor in _anchors(status.content):
            entry = _entry(anchor, numbers.get(anchor.href), warned)
            group = {"link": links, "other": others}.get(anchor.kind, tags)
            group.setdefault(anchor.href, entry)
        for attachment in status.media_attachments:
            url = _squeeze(attachment.url or attachment.remote_url or "")
            if not url:
                continue
            media.setdefault(
                url,
                LinkEntry(
                    "media",
                    url,
                    label=one_line(attachment.description or "", 400),
                    host=host_of(url),
                    media_type=one_line(attachment.type or "unknown", 20),
                    warned=warned,
                ),
            )
    return (*links.values(), *media.values(), *tags.values(), *others.values())


def _entry(anchor: Anchor, number: int | None, warned: bool) -> LinkEntry:
    kind: Kind = anchor.kind  # type: ignore[assignment]
    return LinkEntry(kind, anchor.href, anchor.label, number, host_of(anchor.href), warned=warned)


@functools.lru_cache(maxsize=1024)
def _anchors(content: str) -> tuple[Anchor, ...]:
    """The thread is numbered on every redraw: parse each message once."""
    return anchors(content)


def _squeeze(url: str) -> str:
    return "".join(clean(url).split())


@dataclass(frozen=True)
class _Parts:
    scheme: str
    userinfo: str
    host: str
    port: str
    rest: str


def _split(url: str) -> _Parts | None:
    """A web URL cut as a browser cuts it (WHATWG's rules for special schemes), else None."""
    scheme, colon, after = url.partition(":")
    if not colon or scheme.lower() not in WEB_SCHEMES:
        return None
    after = after.replace("\\", "/").lstrip("/")  # "https:\\\\host" and "https:host" too
    end = min((i for i in map(after.find, "/?#") if i >= 0), default=len(after))
    authority, rest = after[:end], after[end:]
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        userinfo = ""
    if hostport.startswith("["):  # IPv6
        close = hostport.find("]")
        host, port = (hostport[: close + 1], hostport[close + 1 :].removeprefix(":"))
    else:
        host, _, port = hostport.partition(":")
    return _Parts(scheme.lower(), userinfo, host, port, rest)


def host_of(url: str) -> Host | None:
    """The host an http or https URL really leads to; None for any other scheme, or
    a web URL with no host at all."""
    parts = _split(url)
    if parts is None:
        return None
    raw = clean(unquote(parts.host, errors="replace")).translate(_DOTS).lower().rstrip(".")
    if not raw:
        return None
    port = f":{parts.port}" if parts.port and parts.port.isdigit() else ""
    if raw.startswith("["):
        return Host(raw + port, raw + port)
    shown, ascii_, invalid = [], [], False
    for label in raw.split("."):
        forms = _idna(label)
        if forms is None:
            invalid = True
            shown_as = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in label)
            forms = (shown_as, shown_as)
        ascii_.append(forms[0])
        shown.append(forms[1])
    shown_text, ascii_text = ".".join(shown), ".".join(ascii_)
    return Host(
        one_line(shown_text, 253) + port,
        one_line(ascii_text, 253) + port,
        idn=shown_text != ascii_text,
        mixed_scripts=any(_mixes_scripts(label) for label in shown),
        invalid=invalid,
    )


def _idna(label: str) -> tuple[str, str] | None:
    """(the `xn--` form, the Unicode form) of a label, or None when IDNA refuses it or it
    decodes to what cannot be shown (unassigned code points, bidi controls)."""
    try:
        # Encoded first: IDNA maps look-alikes (fullwidth letters) to what a browser visits.
        encoded = label if label.isascii() else encodings.idna.ToASCII(label).decode()
        decoded = encodings.idna.ToUnicode(encoded) if encoded.startswith("xn--") else encoded
    except (UnicodeError, ValueError):
        return None
    return (encoded, decoded) if decoded.isprintable() else None


def _mixes_scripts(label: str) -> bool:
    scripts = set()
    for char in label:
        if char.isalpha():
            name = unicodedata.name(char, "UNKNOWN").split(" ")[0]
            scripts.add(_FAMILIES.get(name, name))
    return len(scripts) > 1


def terminal_url(url: str) -> str | None:
    """The URL for an OSC 8 hyperlink: printable ASCII only (the `xn--` host, the rest
    percent-encoded), or None when it is not a web link a terminal should offer."""
    parts = _split(url)
    host = host_of(url)
    if parts is None or host is None or host.invalid:
        return None
    userinfo = f"{parts.userinfo}@" if parts.userinfo else ""
    safe = f"{parts.scheme}://{_ascii(userinfo)}{host.ascii}{_ascii(parts.rest)}"
    return safe if safe.isascii() and safe.isprintable() else None


def _ascii(text: str) -> str:
    """Printable ASCII as it is; anything else percent-encoded as UTF-8."""
    return "".join(
        char if "!" <= char <= "~" else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in text
    )


def host_note(url: str) -> str:
    """What to say beside a URL so that its host cannot be misread: "" when the URL plainly
    starts with its host; else the host, with its `xn--` form and warnings."""
    host = host_of(url)
    if host is None:
        return ""
    plain = f"{url.partition(':')[0].lower()}://{host.ascii}"
    after = url[len(plain) :][:1]
    if url.lower().startswith(plain) and after in ("", "/", "?", "#") and not host.warnings:
        return ""
    return " · ".join((f"goes to {host.shown}", *host.warnings))
