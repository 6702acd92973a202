"""The row renderer: every row exactly as wide as the list, whatever the text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from dminbox.models import Account, Conversation, Status
from dminbox.ui.render import age, conversation_row, fit

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_fit_pads_and_cuts_by_cells() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("abcdef", 4) == "abc…"
    assert cell_len(fit("山田花子さん", 7)) == 7
    assert fit("anything", 0) == ""


def test_emoji_presentation_selector_cannot_widen_a_row() -> None:
    assert "\ufe0f" not in fit("Booked ✈️ ok", 20)
    assert cell_len(fit("Booked ✈️ ok", 20)) == 20


@given(st.text(max_size=80), st.text(max_size=40), st.integers(10, 200))
def test_rows_are_exactly_the_width_asked(content: str, name: str, width: int) -> None:
    me = Account(id="1", acct="me", display_name=name)
    status = Status(id="9", created_at=NOW - timedelta(hours=3), account=me, content=content)
    row = conversation_row(Conversation(id="c", accounts=[me], last_status=status), width, NOW)
    assert cell_len("".join(row)) == width - 3


def test_ages() -> None:
    assert age(NOW - timedelta(seconds=5), NOW) == "now"
    assert age(NOW - timedelta(minutes=5), NOW) == "5m"
    assert age(NOW - timedelta(hours=5), NOW) == "5h"
    assert age(NOW - timedelta(days=3), NOW) == "3d"
    assert age(datetime(2026, 3, 1, tzinfo=UTC), NOW) == "Mar 1"
    assert age(datetime(2024, 3, 1, tzinfo=UTC), NOW) == "2024"
    assert age(None, NOW) == ""


def test_rows_hold_only_characters_whose_width_terminals_agree_on() -> None:
    from rich.cells import cell_len

    from dminbox.ui.render import fit, terminal_safe

    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # tmux 3.3 draws three emoji
    assert terminal_safe(family) == "\U0001f468"
    assert terminal_safe("\U0001f44b\U0001f3fd hi") == "\U0001f44b hi", "no skin tone"
    assert terminal_safe("\u2764\ufe0f") == "\u2764", "no variation selector"
    # A goose (Unicode 15): Rich counts two columns, tmux 3.3 one.
    assert terminal_safe("\U0001fabf\U0001f44b") == "?\U0001f44b"
    assert terminal_safe("東京 café 1\u20e3 مرحبا") == "東京 café 1\u20e3 مرحبا", "kept as they are"
    for text in (family * 5, "\U0001fabf" * 9, "🇵🇹 Porto 🏴\U000e0067\U000e0062\U000e007f"):
        assert cell_len(fit(text, 11)) == 11
