"""Counts in words as every report and screen of the station prints them: "1 unit", "2 units"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and the noun in the number it takes: ``counted(1, "unit")`` is "1 unit", ``counted(0, "unit")``
    "0 units"; ``plural`` for a noun that does not take an "s" (``counted(2, "entry", "entries")``)."""
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"
