"""Reads terminal output back into "which cells were painted", to tell what an update repainted.

Understands what Textual writes: cursor positioning (`CSI row;col H`), other
escape sequences (skipped, they paint nothing) and text (each character
paints its cell width). Enough to say "rows 3-39, columns 1-48", no more.
"""

from __future__ import annotations

import re
from itertools import groupby

from rich.cells import cell_len

__all__ = ["painted", "describe"]

_TOKEN = re.compile(
    r"(?P<csi>\x1b\[[0-?]*[ -/]*[@-~])"
    r"|(?P<osc>\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))"
    r"|(?P<esc>\x1b[ -/]*[0-~])"
    r"|(?P<control>[\x00-\x1a\x1c-\x1f\x7f])"
    r"|(?P<text>[^\x00-\x1f\x7f]+)"
)


def painted(output: str) -> dict[int, tuple[int, int]]:
    """Row -> (first, last) column painted, both 1-based, from a stream of terminal output."""
    rows: dict[int, tuple[int, int]] = {}
    row = col = 1
    for match in _TOKEN.finditer(output):
        kind, token = match.lastgroup, match.group()
        if kind == "csi" and token.endswith("H"):
            parts = (token[2:-1].split(";") + ["", ""])[:2]
            row, col = (int(part) if part.isdigit() else 1 for part in parts)
        elif kind == "control" and token == "\r":
            col = 1
        elif kind == "control" and token == "\n":
            row += 1
        elif kind == "text":
            width = cell_len(token)
            first, last = rows.get(row, (col, col + width - 1))
            rows[row] = (min(first, col), max(last, col + width - 1))
            col += width
    return rows


def describe(output: str) -> str:
    """`rows 3-39 cols 1-48; row 1 cols 1-120`: runs of rows painted over the same columns."""
    rows = painted(output)
    if not rows:
        return "nothing painted"
    runs = []
    ordered = sorted(rows.items())
    numbered = [(row - index, span, row) for index, (row, span) in enumerate(ordered)]
    for (_, span), group in groupby(numbered, key=lambda item: (item[0], item[1])):
        members = [row for _, _, row in group]
        where = f"row {members[0]}" if len(members) == 1 else f"rows {members[0]}-{members[-1]}"
        runs.append(f"{where} cols {span[0]}-{span[1]}")
    return "; ".join(runs)
