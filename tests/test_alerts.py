"""Terminal notifications: well-formed, inert whatever a stranger's name or text holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dminbox.ui.alerts import notification


def test_osc_777_and_osc_9_outside_tmux() -> None:
    assert notification("dminbox: Ana", "lunch?", tmux=False) == (
        "\x1b]777;notify;dminbox: Ana;lunch?\x07\x1b]9;dminbox: Ana: lunch?\x07"
    )


def test_inside_tmux_each_is_wrapped_with_its_escapes_doubled() -> None:
    wrapped = notification("t", "b", tmux=True)
    assert wrapped == (
        "\x1bPtmux;\x1b\x1b]777;notify;t;b\x07\x1b\\\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"
    )


@given(st.text(), st.text())
def test_untrusted_text_cannot_end_or_add_a_sequence(title: str, body: str) -> None:
    out = notification(title, body, tmux=False)
    inner = out.removeprefix("\x1b]777;notify;")
    first, _, rest = inner.partition("\x07")
    # Exactly two sequences, and nothing inside them that a terminal would act on.
    assert rest.startswith("\x1b]9;") and rest.endswith("\x07")
    assert rest.count("\x07") == 1 and rest.count("\x1b") == 1
    assert first.count(";") == 1, "the title and body hold no field separator"
    assert "\x1b" not in first and "\x9c" not in first and "\x9d" not in first
