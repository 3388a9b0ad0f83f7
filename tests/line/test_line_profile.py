"""The profile's [line] section: a password-less URL and on_duplicate; a secret in it is refused in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.line_db import OnDuplicate
from station.config.profile import ProfileError
from station.config.profile_loader import load_profile

BASE = f"""
[station]
name = "Line 1"

[product]
id = 12345
platform = "boron"

[firmware]
file = "fw.bin"
sha256 = "{'ab' * 32}"

[cloud]
credentials = "env:PARTICLE"
"""


def profile_with(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(BASE + "\n[line]\n" + section)
    return path


def test_a_line_section_names_the_database_and_what_a_duplicate_does(tmp_path: Path) -> None:
    profile = load_profile(profile_with(
        tmp_path, 'database = "postgresql://line_station_a@db.lan:5433/line?sslmode=require"\n'
                  'on_duplicate = "warn"\n'))
    assert profile.line is not None
    assert str(profile.line.database) == "postgresql://line_station_a@db.lan:5433/line?sslmode=require"
    assert profile.line.database.sslmode == "require"
    assert profile.line.on_duplicate is OnDuplicate.WARN


def test_without_a_line_section_the_station_stands_alone(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text(BASE)
    assert load_profile(path).line is None


@pytest.mark.parametrize(("section", "message"), [
    ('database = "postgresql://a:hunter2@db/line"\n', "never put the line database's password"),
    ('database = "postgresql://a@db/line"\npassword = "hunter2"\n', "never put the line database's password"),
    ('database = "postgresql://a@db/line"\non_duplicate = "ignore"\n', "must be one of 'refuse', 'warn'"),
    ('on_duplicate = "warn"\n', "database"),
])
def test_a_wrong_line_section_is_one_sentence_naming_the_key(tmp_path: Path, section: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message) as refused:
        load_profile(profile_with(tmp_path, section))
    assert "hunter2" not in str(refused.value)
