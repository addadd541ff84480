"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence


def aligned(rows: Sequence[Sequence[str]], *, rule: bool = False) -> list[str]:
    """`rows` of cells (the first a header) as lines of left-aligned columns two
    spaces apart, without trailing spaces; `rule` underlines the header with dashes."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if rule:
        lines.insert(1, "  ".join("-" * width for width in widths))
    return lines
