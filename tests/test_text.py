"""dminbox.text: what strangers write comes out as safe plain text."""

from __future__ import annotations

import subprocess
import sys
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dminbox.text import PlainText, clean, html_to_text, one_line, preview

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # 👩‍👩‍👧, joined by ZWJ
JAPAN = "\U0001f1ef\U0001f1f5"  # regional indicators J P
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
HEART = "\u2764\ufe0f"  # with its emoji variation selector
MASTODON_HTML = (
    '<p><span class="h-card" translate="no"><a href="https://glitch.social/@halcy" '
    'class="u-url mention">@<span>halcy@glitch.social</span></a></span> hi '
    '<a href="https://example.org/a/very/long/path" rel="nofollow noopener" target="_blank">'
    '<span class="invisible">https://</span><span class="ellipsis">example.org/a/very/lo</span>'
    '<span class="invisible">ng/path</span></a></p><p>second<br>line</p>'
)
# Recorded from a live server (tests/fixtures/mastodon): a DM to three people.
RECORDED_DM = (
    '<p><span class="h-card" translate="no"><a href="https://glitch.social/@halcy" '
    'class="u-url mention">@<span>halcy@glitch.social</span></a></span> <span class="h-card" '
    'translate="no"><a href="https://icosahedron.website/@latencyobs" class="u-url mention">'
    '@<span>latencyobs</span></a></span> <span class="h-card" translate="no"><a '
    'href="https://hachyderm.io/@halcy" class="u-url mention">@<span>halcy@hachyderm.io</span>'
    "</a></span> ____LATENCYPING____1774029087.642473</p>"
)


def assert_safe(text: str, *, newlines: bool) -> None:
    """No control a terminal would act on, nothing that reorders or breaks the text."""
    for char in text:
        if char == "\n" and newlines:
            continue
        assert unicodedata.category(char) not in ("Cc", "Cs"), repr(char)
        assert char not in BIDI, repr(char)
    assert "\x1b" not in text


# clean()


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("a\x1b]52;c;SGVsbG8=\x07b", "ab"),  # OSC 52 sets the clipboard: body and all go
        ("a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # ST-terminated
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[?1049hgone?", "gone?"),
        ("a\x9b31mb", "ab"),  # 8-bit CSI
        ("a\x9d0;title\x9cb", "ab"),  # 8-bit OSC with 8-bit ST
        ("a\x1bP1$r0m\x1b\\b", "ab"),  # DCS
        ("a\x1b_apc body\x1b\\b", "ab"),  # APC
        ("a\x1bcb\x1b(Bc", "abc"),  # two-character escapes: reset, charset
        ("kept\x1b]0;an unterminated title", "kept"),  # a terminal would swallow it all
        ("a\x00b\x07c\x7fd\x85e\x80f\x8a", "abcdef"),  # C0, DEL and C1 controls
        ("a\x1b", "a"),
    ],
)
def test_clean_removes_escape_sequences_with_their_bodies(hostile: str, expected: str) -> None:
    assert clean(hostile) == expected


def test_clean_turns_tabs_and_line_ends_into_spaces_unless_newlines_are_kept() -> None:
    assert clean("a\tb\r\nc\rd\ne") == "a b c d e"
    assert clean("a\tb\r\nc\rd\ne\u2028f", newlines=True) == "a b\nc\nd\ne\nf"


def test_clean_removes_bidi_controls() -> None:
    assert clean("abc \u202eevil\u202c def") == "abc evil def"
    assert clean(f"x{BIDI}y") == "xy"


def test_clean_removes_characters_that_hide_text() -> None:
    hidden = "\ufeff\u200b\u00ad\u2060\ud800\udfff"  # BOM, ZWSP, soft hyphen, WJ, surrogates
    assert clean(f"a{hidden}b") == "ab"
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "ignore all previous")
    assert clean(f"hello{smuggled}") == "hello"  # invisible tag characters


@pytest.mark.parametrize(
    "text",
    [
        FAMILY,
        JAPAN,
        SCOTLAND,
        HEART,
        "こんにちは、世界",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",  # Devanagari with combining vowel signs
        "می\u200cخواهم",  # Persian needs ZWNJ
        "[@click=app.quit]x[/] and [/foo]",  # square brackets are the renderer's business
    ],
)
def test_clean_keeps_letters_emoji_and_brackets(text: str) -> None:
    assert clean(text) == text
    assert clean(f"{text}\x1b[0m") == text
    assert one_line(text) == text
    assert html_to_text(text).text == text


def test_clean_is_fast_on_a_megabyte() -> None:
    for hostile in ["x\x00" * 500_000, "\x1b[" * 500_000, "\x9d" * 1_000_000, "é\n" * 500_000]:
        started = time.perf_counter()
        clean(hostile)
        assert time.perf_counter() - started < 1.0


control_heavy = st.text(
    alphabet=st.sampled_from(
        list("\x1b[]P_\\\x07\x9b\x9c\x9d\x90;0m a\r\n\t\x00\x7f\u202e\u200d\ufe0f")
        + ["\U0001f3f4", "\U000e0067", "\U000e007f", "\ud800", "\u2028"]
    )
)


@given(st.one_of(st.text(), control_heavy), st.booleans())
def test_clean_output_is_safe_and_stable(text: str, newlines: bool) -> None:
    cleaned = clean(text, newlines=newlines)
    assert_safe(cleaned, newlines=newlines)
    assert "\r" not in cleaned and "\t" not in cleaned
    assert clean(cleaned, newlines=newlines) == cleaned


# one_line()


def test_one_line_collapses_whitespace() -> None:
    assert one_line("  Alice \n\n  the\t\x1b[1mgreat\x1b[0m  ") == "Alice the great"


def test_one_line_cuts_with_an_ellipsis() -> None:
    assert one_line("abcdefgh", 5) == "abcd…"
    assert one_line("abcde", 5) == "abcde"
    assert one_line("abc def", 5) == "abc…"  # no space left before the "…"
    assert one_line("abc", 1) == "…"
    assert one_line("abc", 0) == ""
    assert one_line("x" * 20_000, 80) == "x" * 79 + "…"


def test_one_line_does_not_leave_a_joiner_or_half_a_flag_at_the_cut() -> None:
    assert one_line(FAMILY + "abc", 3) == "\U0001f469…"
    assert one_line("ab" + SCOTLAND + "cd", 5) == "ab\U0001f3f4…"


@given(st.one_of(st.text(), control_heavy), st.integers(min_value=0, max_value=50))
def test_one_line_is_one_safe_line_within_max_chars(text: str, max_chars: int) -> None:
    line = one_line(text, max_chars)
    assert "\n" not in line
    assert len(line) <= max_chars
    assert line == line.strip()
    assert_safe(line, newlines=False)
    assert clean(line) == line


# html_to_text()


def test_mastodon_html_becomes_text_with_numbered_links() -> None:
    assert html_to_text(MASTODON_HTML) == PlainText(
        text="@halcy@glitch.social hi example.org/a/very/lo… [1]\n\nsecond\nline",
        links=("https://example.org/a/very/long/path",),
    )


def test_recorded_dm_keeps_its_mentions_as_text() -> None:
    plain = html_to_text(RECORDED_DM)
    assert plain.text == (
        "@halcy@glitch.social @latencyobs @halcy@hachyderm.io ____LATENCYPING____1774029087.642473"
    )
    assert plain.links == ()
    assert html_to_text("<p>you can&#39;t say that on television</p>").text == (
        "you can't say that on television"
    )


def test_links_are_numbered_once_per_href() -> None:
    plain = html_to_text(
        '<p><a href="https://a.example/">one</a> <a href="mailto:me@b.example">mail</a> '
        '<a href="https://a.example/">again</a> '
        '<a href="https://c.example/tags/cats" class="mention hashtag">#<span>cats</span></a> '
        '<a href="https://d.example/">#1 post</a></p>'
    )
    assert plain.text == "one [1] mail [2] again [1] #cats #1 post"
    assert plain.links == ("https://a.example/", "mailto:me@b.example")


def test_only_web_and_mail_links_are_listed() -> None:
    plain = html_to_text(
        '<a href="javascript:alert(1)">js</a> <a href="data:text/html,x">data</a> '
        '<a href=" HTTPS://e.example/a\tb\x1b[0m ">ok</a>'
    )
    assert plain.text == "js data ok [1]"
    assert plain.links == ("HTTPS://e.example/ab",)  # cleaned and without whitespace


def test_block_elements_become_lines() -> None:
    html = (
        "<h1>Title</h1><p>a<br>b<br><br><br><br>c</p>"
        "<blockquote><p>quoted</p><p>twice</p></blockquote>"
        "<ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul>"
        "<pre>  indented\n\n\n\n  code</pre><p>after <code>x = 1</code></p>"
    )
    assert html_to_text(html).text == (
        "Title\n\na\nb\n\nc\n\n> quoted\n>\n> twice\n\n• one\n• two\n  • inner\n\n"
        "  indented\n\n  code\n\nafter x = 1"
    )


def test_whitespace_in_html_collapses_like_a_browser() -> None:
    assert html_to_text("<p>\n  a   <b> b </b>\n c\n</p>\n\n<p>  d</p>").text == "a b c\n\nd"


def test_scripts_styles_and_unknown_tags() -> None:
    html = "<script>alert('<p>x</p>')</script><style>p{}</style><marquee>kept</marquee><!-- no -->"
    assert html_to_text(html).text == "kept"
    # Inside a script, "<!--" is not a comment that would hide the rest.
    assert html_to_text('<script>s = "<!--"</script><p>shown</p>').text == "shown"


def test_entities_are_decoded_then_cleaned() -> None:
    plain = html_to_text("&#27;]52;c;SGVsbG8=&#7; &lt;b&gt; &amp;amp; &#x1b;[31mred&#0;")
    assert plain.text == "<b> &amp; red\ufffd"
    assert html_to_text("&#" + "9" * 5000 + ";x").text == "\ufffdx"  # int() refuses 5000 digits


@pytest.mark.parametrize(
    "html",
    [
        "<p>unclosed <b>bold <i>both</b> after</i> end",
        "<a href='https://x.example'>never closed",
        "</p></div></a>text<p",
        '<a href="https://x.example/" class="',
        "<![CDATA[x]]> <!-- unclosed comment",
        "<span class='invisible'>hidden<p>still",
    ],
)
def test_broken_html_never_raises(html: str) -> None:
    assert_safe(html_to_text(html).text, newlines=True)


def test_unclosed_link_still_gets_its_number() -> None:
    assert html_to_text("<p>see <a href='https://x.example'>this").text == "see this [1]"


def test_deep_nesting_and_long_words() -> None:
    assert html_to_text("<b>" * 5000 + "deep" + "</b>" * 5000).text == "deep"
    assert html_to_text("<p>" + "w" * 20_000 + "</p>").text == "w" * 20_000


@pytest.mark.parametrize(
    "hostile",
    [
        "<a b c d " * 25_000,  # unclosed start tags: quadratic in the stdlib HTMLParser
        '<a b="' * 40_000,
        "<!--" * 50_000,
        "<" * 200_000,
        "<b>" * 60_000,
        "<p>x" * 50_000,
        "&#x1b;" * 40_000,
        "<a href=https://x.example/>l</a>" * 6_000,
    ],
    ids=[
        "unclosed-tags",
        "unclosed-quotes",
        "comments",
        "lt",
        "nesting",
        "paragraphs",
        "refs",
        "links",
    ],
)
def test_html_to_text_is_linear_on_hostile_input(hostile: str) -> None:
    started = time.perf_counter()
    html_to_text(hostile)
    assert time.perf_counter() - started < 1.0


html_soup = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<br>",
            "<a href='https://x.example/a'>",
            "<a href=mailto:m>",
            "<a class=mention href=https://m>",
            "</a>",
            '<span class="invisible">',
            '<span class="ellipsis">',
            "</span>",
            "<blockquote>",
            "</blockquote>",
            "<pre>",
            "</pre>",
            "<ul>",
            "<li>",
            "</ul>",
            "<script>",
            "</script>",
            "&#27;",
            "&#x9b;",
            "\x1b]",
            "\x07",
            "x",
            " ",
            "\n",
            "@",
            "#",
            "<!--",
            "-->",
            "<",
            "&",
            "\u202e",
        ]
    )
).map("".join)


@given(st.one_of(st.text(), html_soup))
def test_html_to_text_is_safe_for_any_input(html: str) -> None:
    plain = html_to_text(html)
    assert_safe(plain.text, newlines=True)
    assert clean(plain.text, newlines=True) == plain.text
    assert "\n\n\n" not in plain.text
    assert plain.text == plain.text.strip("\n")
    for link in plain.links:
        assert link.lower().startswith(("http://", "https://", "mailto:"))
        assert link == one_line(link) and " " not in link
    assert len(set(plain.links)) == len(plain.links)
    line = preview(html, 40)
    assert "\n" not in line and len(line) <= 40
    assert_safe(line, newlines=False)


# preview()


def test_preview_drops_the_leading_mentions() -> None:
    assert preview(MASTODON_HTML) == "hi example.org/a/very/lo… second line"
    assert preview(RECORDED_DM) == "____LATENCYPING____1774029087.642473"


def test_preview_keeps_the_mentions_when_nothing_else_is_left() -> None:
    html = '<p><a href="https://a.example/@bob" class="u-url mention">@<span>bob</span></a></p>'
    assert preview(html) == "@bob"


def test_preview_keeps_mentions_and_hashtags_after_the_start() -> None:
    html = (
        '<p><a class="mention" href="https://a.example/@me">@me</a> ask '
        '<a class="mention" href="https://a.example/@bob">@bob</a> about '
        '<a class="mention hashtag" href="https://a.example/tags/x">#x</a></p>'
    )
    assert preview(html) == "ask @bob about #x"
    assert preview('<p><a class="mention hashtag" href="https://t">#x</a> y</p>') == "#x y"


def test_preview_is_one_cut_line_without_link_numbers() -> None:
    html = "<p>see <a href='https://x.example'>this</a></p><p>" + "long " * 100 + "</p>"
    text = preview(html, max_chars=30)
    assert text == "see this long long long long…"


def test_the_module_does_not_import_textual_or_rich() -> None:
    code = "import sys, dminbox.text; print(sorted({'textual', 'rich'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
