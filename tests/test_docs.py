"""The project carries its own page on how the servers behave, and everything cites it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "mastodon.md"


def test_the_servers_page_is_in_the_repository() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for section in ("Pagination", "Errors", "Retry-After", "Streaming", "Idempotency-Key"):
        assert section in text


def test_nothing_cites_a_page_outside_the_repository() -> None:
    places = [ROOT / "README.md", *[ROOT / d for d in ("dminbox", "tests", "bench", "docs")]]
    files = [p for place in places for p in ([place] if place.is_file() else place.rglob("*"))]
    for path in files:
        if path.suffix not in (".py", ".md", ".tcss", ".toml") or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8")
        for outside in ("MASTODON.md", "../shared", "/work/shared"):
            assert outside not in text, f"{path.relative_to(ROOT)} cites {outside}"
