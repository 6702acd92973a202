"""Links: real hosts whatever the text says, IDN shown both ways, only web links opened;
the picker (o) copies through OSC 52 and hands the URL to $BROWSER as one argument."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.style import Style

from dminbox.browser import browser_commands, open_in_browser
from dminbox.fake import FakeMastodon
from dminbox.links import host_note, host_of, terminal_url, thread_links, thread_numbers
from dminbox.models import Account, MediaAttachment, Status
from dminbox.ui.app import DmInboxApp
from dminbox.ui.render import status_body
from dminbox.ui.screens.links import LinksScreen
from dminbox.ui.widgets.thread_view import MessageView

from conftest import NOW, fixed_clock, make_engine, screen_of, settle

MASTODON_LINK = (
    '<a href="https://example.com/a/very/long/path/indeed" rel="nofollow noopener" '
    'target="_blank"><span class="invisible">https://</span><span class="ellipsis">'
    'example.com/a/very/lo</span><span class="invisible">ng/path/indeed</span></a>'
)
MENTION = (
    '<span class="h-card"><a href="https://social.example/@alice" class="u-url mention">'
    "@<span>alice</span></a></span>"
)
HASHTAG = (
    '<a href="https://social.example/tags/cats" class="mention hashtag" rel="tag">'
    "#<span>cats</span></a>"
)
SPOOF = '<a href="https://evil.example/login">https://bank.example/login</a>'
SHELLISH = "https://shell.example/a;b&amp;c=$(touch%20pwned)'x'"


def status(content: str, *, media: tuple[MediaAttachment, ...] = (), cw: str = "") -> Status:
    author = Account(id="1", username="alice", acct="alice@social.example")
    return Status(
        id=str(abs(hash((content, cw)))),
        created_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        account=author,
        content=content,
        spoiler_text=cw,
        media_attachments=list(media),
    )


# -- the core: hosts and numbers -------------------------------------------------------


def test_mastodon_anchors_list_their_hosts_and_labels() -> None:
    entries = thread_links([status(f"<p>{MENTION} look {MASTODON_LINK} {HASHTAG}</p>")])
    assert [(e.kind, e.number, e.url) for e in entries] == [
        ("link", 1, "https://example.com/a/very/long/path/indeed"),
        ("mention", None, "https://social.example/@alice"),
        ("hashtag", None, "https://social.example/tags/cats"),
    ]
    link = entries[0]
    assert link.host is not None and link.host.shown == "example.com"
    assert link.label == "example.com/a/very/lo…"
    assert link.claimed_host == ""  # Mastodon's shortened text names the real host
    assert link.openable and link.copyable
    mention = entries[1]
    assert mention.label == "@alice" and mention.host and mention.host.shown == "social.example"


def test_a_label_that_claims_another_host_lists_the_real_one() -> None:
    (entry,) = thread_links([status(f"<p>Pay here: {SPOOF}</p>")])
    assert entry.host is not None and entry.host.shown == "evil.example"
    assert entry.claimed_host == "bank.example"
    body = status_body(status(f"<p>Pay here: {SPOOF}</p>"), reveal=True).plain
    assert body == "Pay here: https://bank.example/login [1]\n[1] https://evil.example/login"


def test_a_mention_that_is_not_one_still_shows_where_it_goes() -> None:
    (entry,) = thread_links([status('<p><a href="https://evil.example/">@bank</a></p>')])
    assert (entry.kind, entry.host.shown) == ("mention", "evil.example")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://bank.example@evil.example/", "evil.example"),  # user info before the host
        ("https://evil.example\\@bank.example/", "evil.example"),  # a backslash is a slash
        ("https:evil.example/x", "evil.example"),
        ("HTTPS://%65VIL.example:8443/", "evil.example:8443"),
        ("https://ｅｖｉｌ．example/", "evil.example"),  # fullwidth, mapped as IDNA maps it
    ],
)
def test_hosts_are_read_as_a_browser_reads_them(url: str, host: str) -> None:
    found = host_of(url)
    assert found is not None and found.ascii == host


def test_idn_hosts_show_unicode_with_their_punycode_beside() -> None:
    for url in ("https://xn--bcher-kva.example/x", "https://bücher.example/x"):
        host = host_of(url)
        assert host is not None
        assert (host.shown, host.ascii, host.idn, host.mixed_scripts) == (
            "bücher.example",
            "xn--bcher-kva.example",
            True,
            False,
        )
        assert host.label == "bücher.example (xn--bcher-kva.example)"
        assert terminal_url(url) == "https://xn--bcher-kva.example/x"
    assert host_note("https://bücher.example/x") == "goes to bücher.example · xn--bcher-kva.example"
    assert host_note("https://plain.example/x") == ""


def test_mixed_script_hosts_are_flagged() -> None:
    host = host_of("https://xn--pypal-4ve.com/")  # "pаypal" with a Cyrillic а
    assert host is not None and host.shown == "p\u0430ypal.com" and host.mixed_scripts
    assert host.warnings == ("xn--pypal-4ve.com", "⚠ mixed scripts")
    japanese = host_of("https://日本語のドメイン.example/")  # kana with kanji is one writing
    assert japanese is not None and japanese.idn and not japanese.mixed_scripts
    invalid = host_of("https://xn--zz.example/")
    assert (
        invalid is not None and invalid.invalid and terminal_url("https://xn--zz.example/") is None
    )


def test_the_thread_shows_the_real_host_beside_a_misleading_url() -> None:
    html = (
        '<p><a href="https://bank.example@evil.example/">x</a> '
        '<a href="https://xn--bcher-kva.example/">y</a></p>'
    )
    body = status_body(status(html), reveal=True).plain
    assert "[1] https://bank.example@evil.example/  (goes to evil.example)" in body
    assert (
        "[2] https://xn--bcher-kva.example/  (goes to bücher.example · xn--bcher-kva.example)"
        in body
    )


def test_only_web_links_are_hyperlinks_and_openable() -> None:
    html = (
        '<p><a href="javascript:alert(1)">js</a> <a href="data:text/html,x">data</a> '
        '<a href="file:///etc/passwd">file</a> <a href="mailto:me@b.example">mail</a> '
        '<a href="https://ok.example/">ok</a></p>'
    )
    entries = thread_links([status(html)])
    by_url = {e.url: e for e in entries}
    assert [e.url for e in entries if e.number] == ["mailto:me@b.example", "https://ok.example/"]
    for url in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"):
        entry = by_url[url]
        assert (entry.kind, entry.openable, entry.copyable, entry.host) == (
            "other",
            False,
            False,
            None,
        )
        assert terminal_url(url) is None
    assert by_url["mailto:me@b.example"].copyable and not by_url["mailto:me@b.example"].openable
    content = status_body(status(html), reveal=True)
    links = {span.style.link for span in content.spans if isinstance(span.style, Style)}
    assert links == {"https://ok.example/"}


def test_numbering_runs_across_the_thread_as_the_thread_shows_it() -> None:
    first = status('<p><a href="https://a.example/">a</a> <a href="https://b.example/">b</a></p>')
    hidden = status('<p><a href="https://c.example/">c</a></p>', cw="spoilers")
    last = status(
        '<p><a href="https://b.example/">b again</a> <a href="https://d.example/">d</a></p>',
        media=(MediaAttachment(id="m", type="image", url="https://files.example/p.jpg"),),
    )
    thread = [first, hidden, last]
    numbers = thread_numbers(thread)
    assert numbers == {
        "https://a.example/": 1,
        "https://b.example/": 2,
        "https://c.example/": 3,  # behind a warning: counted, so showing it renumbers nothing
        "https://d.example/": 4,
    }
    body = status_body(last, reveal=True, numbers=numbers).plain
    assert body.startswith("b again [2] d [4]\n[2] https://b.example/\n[4] https://d.example/")
    entries = thread_links(thread)
    assert [(e.number, e.url) for e in entries if e.kind == "link"] == [
        (n, url) for url, n in numbers.items()
    ]
    assert [e.warned for e in entries if e.kind == "link"] == [False, False, True, False]
    media = entries[-1]
    assert media.kind == "media" and media.host and media.host.shown == "files.example"


def test_untrusted_text_reaches_the_entries_inert() -> None:
    media = MediaAttachment(
        id="m",
        type="image\x1b[31m",
        url="https://files.example/\x1b]52;c;SGVsbG8=\x07p.jpg",
        description="a [b]bold[/b] \u202eclaim\x07",
    )
    # Hosts whose punycode decodes to a bidi override, and to an unassigned code point.
    html = (
        '<p><a href="https://xn--ab-g4t.example/">\x1b[2Jx</a> '
        '<a href="https://xn--ab-sj2a.example/">y</a></p>'
    )
    entries = thread_links([status(html, media=(media,))])
    for entry in entries:
        assert entry.host is not None
        for text in (entry.url, entry.label, entry.media_type, entry.host.shown):
            assert text.isprintable() and "\x1b" not in text and "\u202e" not in text
    hosts = [e.host for e in entries[:2] if e.host]
    assert [h.shown for h in hosts] == ["xn--ab-g4t.example", "xn--ab-sj2a.example"]
    assert all(h.invalid for h in hosts)
    assert thread_links([status("", media=(media,))])[0].label == "a [b]bold[/b] claim"


def test_the_core_modules_do_not_import_textual() -> None:
    code = (
        "import sys, dminbox.links, dminbox.browser\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# -- $BROWSER ---------------------------------------------------------------------------


def test_browser_commands_split_without_a_shell() -> None:
    url = "https://x.example/a b;c$(id)"
    assert browser_commands("firefox --new-tab", url) == [["firefox", "--new-tab", url]]
    assert browser_commands("'my browser' --url=%s:lynx", url) == [
        ["my browser", f"--url={url}"],
        ["lynx", url],
    ]
    with pytest.raises(ValueError):
        browser_commands("'unclosed", url)


async def test_a_browser_that_fails_is_one_line(tmp_path: Path) -> None:
    assert await open_in_browser("https://x.example/", str(tmp_path / "none")) == (
        f"Could not start {tmp_path / 'none'}: No such file or directory."
    )
    assert await open_in_browser("https://x.example/", "false") == "false failed (exit status 1)."
    assert await open_in_browser("https://x.example/", "'unclosed") == (
        "$BROWSER cannot be read (No closing quotation)."
    )
    assert await open_in_browser("javascript:alert(1)", "true") == "Not a web link: not opened."
    assert await open_in_browser("https://x.example/", "true") is None


# -- the picker ---------------------------------------------------------------------------


def links_server() -> FakeMastodon:
    """One conversation whose thread has each kind of link, and media."""
    server = FakeMastodon(clock=fixed_clock)
    alice = server.add_account("alice", "Alice Moreau")
    first = server.post_status(
        alice,
        "",
        mentions=[server.me],
        content_html=(
            f"<p>{MENTION} hi! {MASTODON_LINK} and {SPOOF}, "
            '<a href="https://xn--bcher-kva.example/">books</a>, '
            f'<a href="{SHELLISH}">odd</a> <a href="javascript:alert(1)">js</a> {HASHTAG}</p>'
        ),
        created_at=NOW,
    )
    server.post_status(
        alice,
        "the map",
        mentions=[server.me],
        in_reply_to_id=first["id"],
        media=[
            {
                "type": "image",
                "url": "https://files.example/map.png",
                "description": "A trail map of the ridge",
            }
        ],
        created_at=NOW,
    )
    return server


def make_links_app(server: FakeMastodon) -> DmInboxApp:
    return DmInboxApp(make_engine(server), label="test", clock=fixed_clock)


async def open_picker(app: DmInboxApp, pilot) -> LinksScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("o")
    await pilot.pause()
    assert isinstance(app.screen, LinksScreen), app.screen
    return app.screen


def capture_writes(app: DmInboxApp, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """What the app writes to the terminal from now on."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    original = driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    monkeypatch.setattr(driver, "write", write)
    return written


async def test_o_lists_the_links_and_media_numbered_as_the_thread(monkeypatch) -> None:
    monkeypatch.delenv("BROWSER", raising=False)
    app = make_links_app(links_server())
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await open_picker(app, pilot)
        kinds = [(e.kind, e.number, e.host.shown if e.host else None) for e in picker.entries]
        assert kinds == [
            ("link", 1, "example.com"),
            ("link", 2, "evil.example"),
            ("link", 3, "bücher.example"),
            ("link", 4, "shell.example"),
            ("media", None, "files.example"),
            ("mention", None, "social.example"),
            ("hashtag", None, "social.example"),
            ("mention", None, "fake.dminbox.invalid"),  # the reply's "@me"
            ("other", None, None),
        ]
        # The thread shows each link under its message with the picker's number.
        thread = app.screen_stack[-2].thread_view  # type: ignore[attr-defined]
        shown = "\n".join(str(m._content().plain) for m in thread.query(MessageView))
        for entry in picker.entries:
            if entry.number:
                assert f"[{entry.number}] {entry.url}" in shown
        assert "📎 image: A trail map of the ridge\n   https://files.example/map.png" in shown
        # Web links are terminal hyperlinks (OSC 8) to their ASCII form; no other is.
        hyperlinks = {
            span.style.link
            for message in thread.query(MessageView)
            for span in message._content().spans
            if isinstance(span.style, Style) and span.style.link
        }
        assert hyperlinks == {
            "https://example.com/a/very/long/path/indeed",
            "https://evil.example/login",
            "https://xn--bcher-kva.example/",
            "https://shell.example/a;b&c=$(touch%20pwned)'x'",
            "https://files.example/map.png",
        }
        # The picker says where each goes, and what a lying text claims.
        prompts = [p.plain for p in map(_prompt_of(picker), range(len(picker.entries)))]
        assert prompts[1].splitlines() == [
            "[2] evil.example",
            "its text says bank.example, it goes to evil.example",
            "https://evil.example/login",
        ]
        assert prompts[2].splitlines()[0] == "[3] bücher.example  xn--bcher-kva.example"
        assert prompts[4].splitlines() == [
            "📎 image files.example",
            "A trail map of the ridge",
            "https://files.example/map.png",
        ]
        assert prompts[-1].splitlines() == ["js", "javascript:alert(1)"]
        await pilot.press("escape")
        await pilot.pause()
        assert screen_of(app) is not None


def _prompt_of(picker: LinksScreen):  # type: ignore[no-untyped-def]
    from textual.widgets import OptionList

    option_list = picker.query_one(OptionList)
    return lambda index: option_list.get_option(f"entry-{index}").prompt


async def test_enter_copies_through_osc_52(monkeypatch) -> None:
    monkeypatch.delenv("BROWSER", raising=False)
    app = make_links_app(links_server())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_picker(app, pilot)
        written = capture_writes(app, monkeypatch)
        await pilot.press("2", "enter")
        await settle(app, pilot)
        sequence = "\x1b]52;c;" + base64.b64encode(b"https://evil.example/login").decode() + "\a"
        assert sequence in "".join(written)
        assert app.clipboard == "https://evil.example/login"
        screen_of(app)  # the picker closed
        messages = [n.message for n in app._notifications]
        assert "Copied the evil.example link (if your terminal allows it)." in messages


async def test_digits_jump_j_k_move_and_non_web_links_are_never_handed_on(monkeypatch) -> None:
    monkeypatch.setenv("BROWSER", "false")
    app = make_links_app(links_server())
    async with app.run_test(size=(80, 24)) as pilot:
        picker = await open_picker(app, pilot)
        from textual.widgets import OptionList

        option_list = picker.query_one(OptionList)
        assert option_list.highlighted_option.id == "entry-0"  # type: ignore[union-attr]
        await pilot.press("4")
        assert option_list.highlighted_option.id == "entry-3"  # type: ignore[union-attr]
        await pilot.press("j", "j", "k")
        assert option_list.highlighted_option.id == "entry-4"  # type: ignore[union-attr]
        await pilot.press("9")  # no link 9: the cursor stays
        assert option_list.highlighted_option.id == "entry-4"  # type: ignore[union-attr]
        # javascript: is listed, but disabled: the cursor cannot reach it, and choosing
        # it anyway hands nothing on.
        other = len(picker.entries) - 1
        assert option_list.get_option(f"entry-{other}").disabled
        await pilot.press("end")
        assert option_list.highlighted_option.id == f"entry-{other - 1}"  # type: ignore[union-attr]
        picker.choose(picker.entries[other])
        await settle(app, pilot)
        assert app.clipboard == "" and app.screen is picker
        assert "Not a web link: not copied, never opened." in [
            n.message for n in app._notifications
        ]


async def test_browser_gets_the_url_as_one_argument(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "argv.json"
    script = tmp_path / "browser"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{script} --new-tab")
    monkeypatch.chdir(tmp_path)
    app = make_links_app(links_server())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_picker(app, pilot)
        await pilot.press("4", "enter")
        await settle(app, pilot)  # the browser's worker ends when the browser does
        url = "https://shell.example/a;b&c=$(touch%20pwned)'x'"
        assert json.loads(out.read_text()) == ["--new-tab", url]
        assert not (tmp_path / "pwned").exists()
        assert app.clipboard == url


async def test_a_failing_browser_is_one_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BROWSER", str(tmp_path / "no-such-browser"))
    app = make_links_app(links_server())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_picker(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors == [
            f"Could not start {tmp_path / 'no-such-browser'}: No such file or directory."
        ]


async def test_o_in_the_list_opens_the_shown_thread_and_says_when_there_is_none(
    make_app, demo_server
) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        assert "Open a conversation first (enter)." in [n.message for n in app._notifications]
        await pilot.press("j", "enter")  # Noor's ridge walk: media only
        await settle(app, pilot)
        await pilot.press("tab", "o")
        await pilot.pause()
        assert isinstance(app.screen, LinksScreen)
        assert {e.kind for e in app.screen.entries} == {"media", "mention"}
        await pilot.press("escape")
        await pilot.pause()
        screen_of(app)


def test_snapshot_of_the_picker(snap_compare) -> None:
    async def pick(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_picker(pilot.app, pilot)
        await pilot.press("2")
        await pilot.pause()

    app = make_links_app(links_server())
    assert snap_compare(app, terminal_size=(80, 24), run_before=pick)
