"""Snapshots of the key screens on the demo inbox, at a fixed time."""

from __future__ import annotations

import pytest


async def _loaded(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_inbox(snap_compare, make_app, demo_server, size) -> None:
    assert snap_compare(make_app(demo_server), terminal_size=size, run_before=_loaded)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_thread_open(snap_compare, make_app, demo_server, size) -> None:
    async def open_fifth(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("j", "j", "j", "j", "enter")
        await _loaded(pilot)

    assert snap_compare(make_app(demo_server), terminal_size=size, run_before=open_fifth)


def test_help(snap_compare, make_app, demo_server) -> None:
    async def help_(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(demo_server), terminal_size=(80, 24), run_before=help_)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_reply_composer(snap_compare, make_app, demo_server, size) -> None:
    async def reply_to_fifth(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("j", "j", "j", "j", "r")
        await _loaded(pilot)
        await pilot.press("o", "k")
        await _loaded(pilot)

    assert snap_compare(make_app(demo_server), terminal_size=size, run_before=reply_to_fifth)


def test_new_message_composer(snap_compare, make_app, demo_server) -> None:
    async def write(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("C")
        await _loaded(pilot)

    assert snap_compare(make_app(demo_server), terminal_size=(120, 40), run_before=write)


def test_preview(snap_compare, make_app, demo_server) -> None:
    async def rest_on_third(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("j", "j")
        pilot.app.screen.conversation_list._rested()  # the rest, without waiting for it
        await _loaded(pilot)
        await pilot.app.engine.idle()
        await _loaded(pilot)

    assert snap_compare(make_app(demo_server), terminal_size=(120, 40), run_before=rest_on_third)
