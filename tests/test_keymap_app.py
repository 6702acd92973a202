"""The user's keys and theme in the app: every binding has an id, a remapped key works and
shows in the footer and the help, the command palette, 16 colours and NO_COLOR."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from rich.color import ColorSystem
from textual.binding import Binding
from textual.command import CommandInput, CommandList, CommandPalette

import dminbox.ui
from dminbox import accounts, paths, user_config
from dminbox.config import Reading, Settings
from dminbox.keymap import BINDINGS
from dminbox.ui.app import DmInboxApp
from dminbox.ui.widgets.key_bar import KeyBar

from conftest import fixed_clock, make_engine, screen_of, settle


def settings(**options) -> Settings:
    return Settings(instance="https://example.invalid", token="t", **options)


def footer(app) -> str:
    return str(app.screen.query_one(KeyBar).render())


def help_lines(app) -> list[str]:
    return "\n".join(str(w.render()) for w in app.screen.query("Static")).splitlines()


def ui_bindings() -> list[tuple[str, Binding]]:
    """Every Binding declared by a class of dminbox.ui: (class name, binding)."""
    found = []
    for info in pkgutil.walk_packages(dminbox.ui.__path__, "dminbox.ui."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and "BINDINGS" in cls.__dict__:
                found += [(name, binding) for binding in cls.__dict__["BINDINGS"]]
    return found


def test_every_binding_has_a_unique_id_with_the_keys_the_config_file_documents() -> None:
    bindings = ui_bindings()
    assert len(bindings) >= len(BINDINGS)
    missing = [f"{owner}: {b.key} {b.action}" for owner, b in bindings if not b.id]
    assert not missing, f"give these an id (and a line in dminbox/keymap.py): {missing}"
    ids = [b.id for _, b in bindings]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    documented = {spec.id: spec.keys for spec in BINDINGS}
    assert {b.id: b.key for _, b in bindings} == documented


async def test_a_remapped_key_works_and_shows_in_the_footer_and_the_help(
    demo_server, make_app
) -> None:
    app = make_app(demo_server)
    app.configure(settings(keys={"list.down": "e", "list.up": "i", "inbox.mark_read": "x"}))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        rows = screen_of(app).conversation_list
        await pilot.press("e", "e", "j")
        assert rows.cursor == 2, "e moves down; j no longer does"
        await pilot.press("i")
        assert rows.cursor == 1
        index = next(i for i, c in enumerate(screen_of(app).inbox) if c.unread)
        rows.cursor = index
        await pilot.press("m")
        await settle(app, pilot)
        assert screen_of(app).inbox[index].unread, "m is no longer mark read"
        await pilot.press("x")
        await settle(app, pilot)
        assert not screen_of(app).inbox[index].unread
        line = footer(app)
        assert "e/i Move" in line and "x Read" in line
        assert "j/k" not in line and "m Read" not in line
        await pilot.press("question_mark")
        await pilot.pause()
        lines = help_lines(app)
        assert any(re.fullmatch(r"\s+e\s+Next conversation", line) for line in lines)
        assert any(re.fullmatch(r"\s+i\s+Previous conversation", line) for line in lines)
        assert any(re.fullmatch(r"\s+x\s+Mark the conversation read", line) for line in lines)
        assert not any(re.fullmatch(r"\s+j ↓\s+Next conversation", line) for line in lines)


async def test_a_remapped_key_keeps_its_place_in_the_footer(demo_server, make_app) -> None:
    def words(line: str) -> list[str]:
        return re.findall(r"(?:^| )\S+ (\w+)", line)

    plain = make_app(demo_server)
    async with plain.run_test(size=(160, 30)) as pilot:
        await settle(plain, pilot)
        before = words(footer(plain))
    app = make_app(demo_server)
    app.configure(settings(keys={"inbox.mark_read": "x", "list.open": "o,enter"}))
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        after = footer(app)
        assert words(after) == before
        assert "o Open" in after and "x Read" in after


async def test_the_help_closes_with_the_users_key(demo_server, make_app) -> None:
    app = make_app(demo_server)
    app.configure(settings(keys={"help.close": "escape,h", "inbox.help": "f1"}))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is screen_of(app)
        await pilot.press("f1")
        await pilot.pause()
        assert help_lines(app)[-1] == "Esc or h closes this help."
        await pilot.press("h")
        await pilot.pause()
        assert app.screen is screen_of(app)


async def _palette(app, pilot, query: str = "") -> list[str]:
    if not CommandPalette.is_open(app):
        await pilot.press("ctrl+p")
    palette = app.screen
    palette.query_one(CommandInput).value = query
    for _ in range(40):
        await pilot.pause(0.02)
        if palette.has_class("-ready") and not palette.query_one(CommandList).loading:
            break
    options = palette.query_one(CommandList)
    await pilot.pause(0.3)  # the palette adds its hits in batches
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_command_palette_lists_actions_with_keys_accounts_and_themes(
    demo_server, make_app, monkeypatch
) -> None:
    accounts.save_account("zoe@example.invalid", demo_server.base_url, "7", "zoe-token")
    accounts.save_account("me@example.invalid", demo_server.base_url, "1", "my-token")
    app = DmInboxApp(make_engine(demo_server), label="me@example.invalid", clock=fixed_clock)
    app.configure(settings(keys={"inbox.mark_read": "x"}))
    switched: list[str] = []
    monkeypatch.setattr(app, "switch_to_acct", switched.append)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        lines = await _palette(app, pilot)
        assert "Mark the conversation read  x" in lines
        assert "Next conversation  j ↓" in lines
        assert "Reply to the conversation (its last message)  r" in lines
        assert "Quit  q ^c" in lines
        assert "Account: zoe@example.invalid" in lines
        assert "Account: me@example.invalid" not in lines, "not the account already open"
        assert "Theme: nord" in lines and "Theme: textual-dark  (now)" in lines
        assert not [line for line in lines if "palette" in line.lower()]
        assert lines.index("Mark the conversation read  x") < lines.index("Theme: nord")

        assert (await _palette(app, pilot, "zoe"))[0] == "Account: zoe@example.invalid"
        await pilot.press("enter")
        await settle(app, pilot)
        assert switched == ["zoe@example.invalid"]


async def test_an_action_chosen_in_the_palette_runs(demo_server, make_app) -> None:
    app = make_app(demo_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_of(app)
        index = next(i for i, c in enumerate(screen.inbox) if c.unread)
        screen.conversation_list.cursor = index
        await pilot.pause()
        assert (await _palette(app, pilot, "mark the conversation read"))[0].startswith("Mark")
        await pilot.press("enter")
        await settle(app, pilot)
        assert not CommandPalette.is_open(app)
        assert not screen.inbox[index].unread


async def test_a_theme_chosen_in_the_palette_is_remembered(demo_server, make_app) -> None:
    app = make_app(demo_server)
    app.configure(settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.theme == "textual-dark"
        assert (await _palette(app, pilot, "theme: nord"))[0].startswith("Theme: nord")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.theme == "nord"
    assert user_config.remembered_theme() == "nord"
    assert paths.theme_file().read_text(encoding="utf-8") == "nord\n"

    again = make_app(demo_server)
    again.configure(settings())
    assert again.theme == "nord", "the remembered theme, with none in the config file"
    configured = make_app(demo_server)
    configured.configure(settings(theme="gruvbox"))
    assert configured.theme == "gruvbox", "the config file's theme wins"


async def test_the_config_files_settings_reach_the_app(demo_server, make_app) -> None:
    app = make_app(demo_server)
    reading = Reading(preview_delay=0.5, mark_read_on_open=False)
    app.configure(settings(theme="dracula", reading=reading, bell=True, notify=True))
    assert (app.theme, app.reading, app.bell_on, app.notify_on) == ("dracula", reading, True, True)
    plain = make_app(demo_server)
    assert plain.reading == Reading()


def _text_and_styles(app):
    strips = app.screen._compositor.render_strips()
    return [(segment.text, segment.style) for strip in strips for segment in strip]


async def test_the_default_theme_reads_in_16_colours(demo_server, make_app, monkeypatch) -> None:
    import textual.constants

    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")
    app = make_app(demo_server)
    assert app.console.color_system == "standard"

    def number(color) -> int | None:
        if color is None or color.is_default:
            return None
        return color.downgrade(ColorSystem.STANDARD).number

    def unreadable() -> list[str]:
        """Text whose colour, once the terminal has 16, is its background's."""
        bad = []
        for y, strip in enumerate(app.screen._compositor.render_strips()):
            x = 0
            for segment in strip:
                style, x = segment.style, x + segment.cell_length
                if style is None or not segment.text.strip():
                    continue
                foreground, background = number(style.color), number(style.bgcolor)
                if foreground is not None and foreground == background:
                    widget, _ = app.screen.get_widget_at(x - 1, y)
                    if widget is app.screen and app.screen.is_modal:
                        continue  # the screen below, dimmed behind the help on purpose
                    bad.append(f"{segment.text!r} in {widget!r}")
        return bad

    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert app.theme == user_config.DEFAULT_THEME
        assert unreadable() == []
        segments = _text_and_styles(app)
        assert all(style.reverse for text, style in segments if "▌" in text), "the cursor row"
        assert all(style.bold for text, style in segments if "●" in text), "unread rows: bold"
        await pilot.press("j", "enter")
        await settle(app, pilot)
        assert unreadable() == []
        await pilot.press("question_mark")
        await pilot.pause()
        assert unreadable() == []


async def test_no_color_takes_the_colours_and_keeps_the_marks(
    demo_server, make_app, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(demo_server)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        segments = _text_and_styles(app)
        text = "".join(text for text, _ in segments)
        assert "●" in text, "unread conversations keep their mark"
        assert "▌" in text, "and the cursor its"
        colours = {
            color
            for _, style in segments
            if style is not None
            for color in (style.color, style.bgcolor)
            if color is not None and not color.is_default
        }
        assert colours
        greys = {color.get_truecolor() for color in colours}
        assert all(r == g == b for r, g, b in greys), "greys only: no colour is left"


@pytest.mark.parametrize("key", ["?", "question_mark"])
async def test_a_key_written_as_a_character_or_a_name_works(demo_server, make_app, key) -> None:
    app = make_app(demo_server)
    app.configure(settings(keys={"inbox.help": key}))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Esc, q or ? closes this help." in help_lines(app)
