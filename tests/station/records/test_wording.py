"""Counts in words: one helper, so every report says "1 unit" and "2 units"."""

from __future__ import annotations

from station.records.wording import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert [counted(n, "unit") for n in (0, 1, 2)] == ["0 units", "1 unit", "2 units"]
    assert counted(2, "entry", "entries") == "2 entries" and counted(1, "entry", "entries") == "1 entry"
