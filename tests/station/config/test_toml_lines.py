"""Locating keys in TOML text for error messages."""

from __future__ import annotations

from station.config.toml_lines import line_of

TEXT = """[station]
name = "a"

[[devices]]
name = "one"

[[devices]]
name = "two"
seed = "x"
""".splitlines()


def test_a_key_of_a_table_and_of_the_nth_array_entry() -> None:
    assert line_of(TEXT, "station.name") == 2
    assert line_of(TEXT, "devices[2].seed") == 9
    assert line_of(TEXT, "devices[1].name") == 5


def test_a_missing_key_points_at_its_table_and_an_unknown_table_at_nothing() -> None:
    assert line_of(TEXT, "devices[1].seed") == 4
    assert line_of(TEXT, "station") == 1
    assert line_of(TEXT, "cloud.base_url") is None
