"""Opening a web link with the user's `$BROWSER`: detached, never through a shell.

`$BROWSER` is a list of commands apart by ":" (as Python's `webbrowser` reads it),
the first that starts wins. Each is split into words as a shell would (shlex), but no
shell runs: the URL is one argument, put where a `%s` stands or at the end. The
browser gets no terminal (its own session, /dev/null for its input and output), so
it can neither block nor draw over the app.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess

__all__ = ["browser_commands", "open_in_browser"]

WATCH_SECONDS = 30.0
"""A browser that fails does so at once; one still running after this is left alone."""


def browser_commands(browser: str, url: str) -> list[list[str]]:
    """The commands `$BROWSER` names for `url`, in order. Raises ValueError for a
    command a shell could not split either (an unclosed quote)."""
    commands = []
    for entry in browser.split(os.pathsep):
        words = shlex.split(entry)
        if not words:
            continue
        if any("%s" in word for word in words):
            words = [word.replace("%s", url) for word in words]
        else:
            words.append(url)
        commands.append(words)
    return commands


async def open_in_browser(url: str, browser: str, *, watch: float = WATCH_SECONDS) -> str | None:
    """Starts the browser on `url` and waits (without blocking) to see it did not fail.

    Returns None, or one line saying what went wrong. Only http and https are opened.
    """
    if not url.lower().startswith(("http://", "https://")):
        return "Not a web link: not opened."
    try:
        commands = browser_commands(browser, url)
    except ValueError as error:
        return f"$BROWSER cannot be read ({error})."
    if not commands:
        return "$BROWSER names no command."
    failure = ""
    for command in commands:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as error:
            failure = f"Could not start {command[0]}: {error.strerror or error}."
            continue
        code = await _exit_code(process, watch)
        if code:
            return f"{command[0]} failed (exit status {code})."
        return None
    return failure


async def _exit_code(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The exit status once the process ends, or None if it still runs after `timeout`.

    On Linux a pidfd tells the event loop when the process ends; elsewhere it is polled.
    """
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        pidfd = None

    def end() -> None:
        if not ended.done():
            ended.set_result(None)

    if pidfd is not None:
        try:
            loop.add_reader(pidfd, end)
        except (NotImplementedError, RuntimeError):
            os.close(pidfd)
            pidfd = None
    try:
        if pidfd is not None:
            await asyncio.wait_for(ended, timeout)
        else:
            await _poll(process, timeout)
    except TimeoutError:
        return None
    finally:
        if pidfd is not None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
    return process.wait()


async def _poll(process: subprocess.Popen[bytes], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = 0.01
    while process.poll() is None:
        if loop.time() >= deadline:
            raise TimeoutError
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)
