"""Untrusted text made safe: strip terminal controls, flatten status HTML, preview it.

DM content, display names and server errors are written by strangers. What comes
out has no escape sequences, controls or bidi overrides; square brackets stay, as
keeping text out of markup is the renderer's job. Linear time, whatever the input.
"""

from __future__ import annotations

import functools
import html as _html
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Anchor", "PlainText", "anchors", "clean", "html_to_text", "one_line", "preview"]

# Whole sequences go, bodies included: "\x1b]52;c;...\x07" (set the clipboard)
# leaves nothing. A string sequence with no terminator swallows the rest of the
# text, as on a terminal. Possessive quantifiers (*+) never backtrack.
_ESCAPE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])"  # OSC, DCS, SOS, PM, APC: to the terminator
    r"[^\x07\x18\x1a\x1b\x9c]*+(?:\x07|\x18|\x1a|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*+[ -/]*+[@-~]?"  # CSI, 7- and 8-bit
    r"|\x1b[ -/]*+[0-~]?"  # two-character escapes, and a lone ESC
)
_NEWLINES = re.compile("\r\n?|[\u2028\u2029]")
# Whitespace controls become spaces rather than vanish, so words stay apart.
# ZWNJ and ZWJ are format characters that scripts (Persian, Indic) and emoji
# sequences need; they cannot move or hide text around them.
_KEPT_FORMAT = frozenset("\t\n\v\f\u200c\u200d")
# Tag characters hide text (they are invisible), except in the one place they
# belong: the emoji flags of England, Scotland and Wales.
_TAG_FLAG = "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,7}+\U000e007f"
_TAGS = ("\U000e0020", "\U000e007f")
_SPACES = str.maketrans("\t\v\f", "   ")
_SPACES_AND_NEWLINES = str.maketrans("\t\v\f\n", "    ")


@functools.cache
def _hidden() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Runs of controls, surrogates and format characters; and the same or a tag flag.

    Built on first use (0.2 s) from Python's Unicode database, so it stays current;
    `clean` needs them only for text with a flag in it.
    """
    categories = map(unicodedata.category, map(chr, range(sys.maxunicode + 1)))
    ranges: list[list[int]] = []
    for code, category in enumerate(categories):
        if category not in ("Cc", "Cf", "Cs") or chr(code) in _KEPT_FORMAT:
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    chars = "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges)
    return re.compile(f"[{chars}]++"), re.compile(f"({_TAG_FLAG})|[{chars}]++")


def clean(text: str, *, newlines: bool = False) -> str:
    """`text` without anything a terminal would act on, or that could reorder or hide text.

    Escape sequences go with their bodies, as do controls, bidi controls, lone
    surrogates and format characters but the joiners emoji and scripts need.
    Tabs become spaces; CR LF and CR become LF, kept if `newlines`, else a space.
    """
    if text.isprintable():
        return text  # the common case for names: nothing here is a control
    text = _ESCAPE.sub("", text)
    text = _NEWLINES.sub("\n", text)
    if "\U0001f3f4" in text:
        # Tag characters are kept inside a flag: only the pattern knows where one is.
        text = _hidden()[1].sub(r"\1", text)
    else:
        # Without a flag, every hidden character goes: look up only those in this text,
        # not the whole Unicode database (building the patterns costs 0.2 s).
        gone = {
            ord(char): None for char in set(text) if not char.isprintable() and _is_hidden(char)
        }
        if gone:
            text = text.translate(gone)
    return text.translate(_SPACES if newlines else _SPACES_AND_NEWLINES)


def _is_hidden(char: str) -> bool:
    """A control, surrogate or format character, but the joiners and whitespace kept."""
    return unicodedata.category(char) in ("Cc", "Cf", "Cs") and char not in _KEPT_FORMAT


def one_line(text: str, max_chars: int | None = None) -> str:
    """`text` cleaned, whitespace runs as single spaces, cut to `max_chars` with "…"."""
    flat = " ".join(clean(text).split())
    if max_chars is None or len(flat) <= max_chars:
        return flat
    if max_chars < 1:
        return ""
    end = max_chars - 1
    # A joiner or half a tag flag left at the cut would glue to the "…".
    while end and (flat[end - 1] == "\u200d" or _TAGS[0] <= flat[end - 1] <= _TAGS[1]):
        end -= 1
    return flat[:end].rstrip() + "…"


@dataclass(frozen=True)
class PlainText:
    """A status as readable text, with its links numbered."""

    text: str
    """The body: paragraphs apart by a blank line; link n shows as "label [n]"."""
    links: tuple[str, ...]
    """The numbered links' URLs, in order: `links[n - 1]` is link n (unless numbers were given)."""


@dataclass(frozen=True)
class Anchor:
    """One `<a>` of a status, as the text shows it."""

    href: str
    """Cleaned, without whitespace: what the link leads to, whatever its text says."""
    label: str
    """Its text, cleaned and on one line."""
    kind: str
    """"link" (numbered: web and mail links), "mention", "hashtag", or "other" (any other
    scheme, javascript: and data: among them: shown as text, never numbered)."""


def html_to_text(html: str, numbers: Mapping[str, int] | None = None) -> PlainText:
    """Mastodon status HTML as plain text: paragraphs, lists, quotes, numbered links.

    `numbers` gives links the numbers the whole thread uses (href -> n); a link it
    lacks is numbered by its place in this status.
    """
    return _Flattener(html, markers=True, numbers=numbers).result


def anchors(html: str) -> tuple[Anchor, ...]:
    """Every link of a status with an href, in order, repeats included."""
    return tuple(_Flattener(html, markers=False).anchors)


def preview(html: str, max_chars: int = 200) -> str:
    """A status as one line: links without "[n]", and no opening "@alice @bob" unless alone."""
    flattener = _Flattener(html, markers=False)
    whole = rest = one_line(flattener.result.text)
    for mention in flattener.leading_mentions:
        mention = one_line(mention)
        if not rest.startswith(mention):
            break
        rest = rest[len(mention) :].lstrip()
    return one_line(rest or whole, max_chars)


# The stdlib HTMLParser is quadratic on some malformed input ("<a b c " * n)
# and raises on "<![" in Python 3.11, so tags are found by one regex that
# always matches from "<" + letter to ">" or the end, and never backtracks.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment, maybe unclosed
    r"|<(/?)([A-Za-z][^\t\n\f\r />]*+)((?:[^>\"']++|\"[^\"]*+\"?|'[^']*+'?)*+)>?"  # tag
    r"|<[!?/][^>]*+>?",  # doctype, processing instruction, bogus comment
    re.S,
)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]++)(?:\s*+=\s*+(?:"([^"]*+)"?|'([^']*+)'?|([^\s>]*+)))?""")
_RAW_TEXT_END = {
    name: re.compile(rf"</{name}(?![^\t\n\f\r />])[^>]*+>?", re.I) for name in ("script", "style")
}
# Numeric references are read here, not by html.unescape(): it raises on ones
# longer than int() accepts, and it drops control characters, which would
# leave the body of "&#27;]52;c;...&#7;" behind once the ESC is gone.
_NUMERIC_CHARREF = re.compile(r"&#(?:([xX])([0-9a-fA-F]++)|([0-9]++));?")
_HTML_SPACE = re.compile(r"[ \n]+")  # after clean(): tabs, FF and CR are spaces and LFs
_BLANK_LINES = re.compile(r"\n{3,}")  # left where a <pre> had lines of spaces
_LISTED_LINK = re.compile(r"(?:https?://|mailto:).", re.I)

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "meta", "source", "wbr"}
# Line breaks around a block element: 2 leave a blank line, 1 starts a new line.
_GAPS = {"p": 2, "blockquote": 2, "pre": 2, "ul": 2, "ol": 2, "hr": 2, "table": 2, "dl": 2}
_GAPS |= {f"h{level}": 2 for level in range(1, 7)}
_GAPS |= {"div": 1, "li": 1, "tr": 1, "dt": 1, "dd": 1, "section": 1, "article": 1, "figure": 1}
# What an open element changes, undone when it closes.
_KINDS = {"blockquote": "quote", "pre": "pre", "ul": "list", "ol": "list", "a": "link"}
_KINDS |= dict.fromkeys(("script", "style", "template", "title"), "hide")


def _decode_charref(match: re.Match[str]) -> str:
    digits = (match[2] or match[3]).lstrip("0")
    value = int(digits or "0", 16 if match[1] else 10) if len(digits) <= 8 else 0x110000
    if 0 < value < 0x20 or value == 0x7F:
        return chr(value)  # for clean() to remove, with the escape sequence it starts
    return f"&#{value};"  # short, for html.unescape(); out of range decodes to U+FFFD


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    return _html.unescape(_NUMERIC_CHARREF.sub(_decode_charref, text))


def _attributes(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        name = match[1].lower()
        if name not in attrs:  # the first of a repeated attribute wins, as in a browser
            attrs[name] = _unescape(match[2] or match[3] or match[4] or "")
    return attrs


class _Flattener:
    """One pass over status HTML, writing lines of text; `result` holds the outcome."""

    def __init__(
        self, html: str, *, markers: bool, numbers: Mapping[str, int] | None = None
    ) -> None:
        self._markers = markers
        self._given_numbers = numbers or {}
        self._lines: list[str] = []
        self._line: list[str] = []  # the pieces of the line being written
        self._prefix = ""  # its "> " quote marks and bullet
        self._depth = self._last_depth = 0  # quote depth of that line and of the last one
        self._gap = 0  # line breaks owed before the next text: 2 leaves a blank line
        self._space = False  # a space owed before the next text on this line
        self._bullet = ""  # owed to the next line, by an <li>
        self._inside = {"quote": 0, "pre": 0, "list": 0, "hide": 0}  # open elements by kind
        self._stack: list[tuple[str, str]] = []  # open elements: (tag, kind)
        self._open: dict[str, int] = {}  # how many of each tag are on the stack
        self._link: tuple[str, str] | None = None  # (href, its class's kind) of the open <a>
        self._link_text: list[str] = []
        self._numbers: dict[str, int] = {}  # href -> its number, in order
        self._seen_text = False  # anything but mentions written yet?
        self.leading_mentions: list[str] = []
        self.anchors: list[Anchor] = []
        self._feed(html)
        while self._stack:
            self._close(*self._stack.pop())
        self._break(1)
        text = _BLANK_LINES.sub("\n\n", "\n".join(self._lines)).strip("\n")
        self.result = PlainText(text, tuple(self._numbers))

    def _feed(self, html: str) -> None:
        pos = 0
        while (match := _TOKEN.search(html, pos)) is not None:
            self._text(html[pos : match.start()])
            pos = match.end()
            if match[2] is None:
                continue  # comments and declarations show nothing
            tag = match[2].lower()
            if match[1]:
                self._end(tag)
                continue
            self._start(tag, match[3])
            if tag in _RAW_TEXT_END:  # a script's "<p>" is not a tag: skip to its end tag
                end = _RAW_TEXT_END[tag].search(html, pos)
                pos = end.end() if end else len(html)
                self._end(tag)
        self._text(html[pos:])

    def _start(self, tag: str, attributes: str) -> None:
        if tag == "br":
            self._break(1, add=True)
        elif tag in _GAPS:
            self._break(self._gap_for(tag))
        if tag in _VOID:
            return
        if tag == "a" and self._open.get("a"):
            self._end("a")  # links do not nest: a new one closes the last
        kind = _KINDS.get(tag, "")
        if tag in ("a", "span"):
            attrs = _attributes(attributes)
            classes = attrs.get("class", "").split()
            if tag == "a":
                href = "".join(clean(attrs.get("href", "")).split())
                marked = "hashtag" if "hashtag" in classes else "mention" * ("mention" in classes)
                self._link = None if self._inside["hide"] else (href, marked)
                self._link_text = []
            elif "invisible" in classes:
                kind = "hide"
            elif "ellipsis" in classes:
                kind = "ellipsis"
        elif tag == "li":
            self._bullet = "  " * max(self._inside["list"] - 1, 0) + "• "
        if kind in self._inside:
            self._inside[kind] += 1
        self._stack.append((tag, kind))
        self._open[tag] = self._open.get(tag, 0) + 1

    def _end(self, tag: str) -> None:
        if self._open.get(tag):
            while True:  # close what was left open inside, as a browser does
                element = self._stack.pop()
                self._close(*element)
                if element[0] == tag:
                    break
        elif tag == "br":
            self._break(1, add=True)  # a browser reads </br> as <br>
        elif tag in _GAPS:
            self._break(_GAPS[tag])

    def _close(self, tag: str, kind: str) -> None:
        self._open[tag] -= 1
        if kind in self._inside:
            self._inside[kind] -= 1
        elif kind == "ellipsis":
            self._space = False
            self._write("…")
        elif kind == "link":
            self._close_link()
        if tag in _GAPS:
            self._break(self._gap_for(tag))

    def _gap_for(self, tag: str) -> int:
        return 1 if tag in ("ul", "ol") and self._inside["list"] else _GAPS[tag]

    def _close_link(self) -> None:
        if self._link is None:
            return
        (href, kind), self._link = self._link, None
        label = "".join(self._link_text).strip()
        if label.startswith("@") and not self._seen_text:
            self.leading_mentions.append(label)  # a DM's opening "@alice @bob"
        elif label:
            self._seen_text = True
        if not kind and label.startswith(("@", "#")):
            kind = "mention" if label.startswith("@") else "hashtag"
        listed = not kind and _LISTED_LINK.match(href) is not None
        if href:
            kind = kind or ("link" if listed else "other")
            self.anchors.append(Anchor(href, one_line(label), kind))
        if self._markers and listed:
            number = self._numbers.setdefault(href, len(self._numbers) + 1)
            self._space = True  # dropped at the start of a line
            self._write(f"[{self._given_numbers.get(href, number)}]")

    def _text(self, raw: str) -> None:
        if self._inside["hide"] or not raw:
            return
        text = clean(_unescape(raw), newlines=True)
        if self._inside["pre"]:  # keep the spacing and the lines
            for index, segment in enumerate(text.split("\n")):
                if index:
                    self._break(1, add=True)
                if segment:
                    self._write(segment)
            return
        text = _HTML_SPACE.sub(" ", text)
        self._space = self._space or text.startswith(" ")
        if text.strip(" "):
            self._write(text.strip(" "))
            self._space = text.endswith(" ")

    def _write(self, piece: str) -> None:
        if self._inside["hide"]:
            return
        if self._link is not None:
            self._link_text.append(" " + piece if self._space else piece)
        elif piece.strip():
            self._seen_text = True
        if not self._line:
            quote = self._inside["quote"]
            if self._lines and self._gap > 1:
                self._lines.append(("> " * min(quote, self._last_depth)).rstrip())
            self._prefix, self._bullet = "> " * quote + self._bullet, ""
            self._depth, self._gap = quote, 0
        elif self._space:
            self._line.append(" ")
        self._line.append(piece)
        self._space = False

    def _break(self, lines: int, *, add: bool = False) -> None:
        """Owe `lines` line breaks; with `add`, on top of those already owed (<br><br>)."""
        if self._inside["hide"]:
            return
        self._space = False
        if self._line:
            self._lines.append((self._prefix + "".join(self._line)).rstrip())
            self._line, self._last_depth, self._gap = [], self._depth, lines
        elif self._lines:
            self._gap = self._gap + lines if add else max(self._gap, lines)
