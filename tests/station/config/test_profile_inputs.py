"""Profile values a user can get wrong end in one sentence naming the key, never a traceback (issue 16, items 8, 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.profile import ProfileError
from station.config.profile_loader import load_profile

SHA = "ab" * 32

GOOD = f"""
[station]
name = "Line 1"
lot_naming = "{{product}}-{{date}}-{{seq:03d}}"

[product]
id = 12345
platform = "boron"

[firmware]
file = "fw.bin"
sha256 = "{SHA}"

[steps]
rename = "widget-{{serial}}"

[cloud]
credentials = "env:PARTICLE"

[slots]
count = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("value", ["9223372036854775808", "2147483648", "0", "-5", "true", "1.5", '"12345"'])
def test_a_product_id_out_of_range_or_of_another_type_is_refused(tmp_path: Path, value: str) -> None:
    message = refused(tmp_path, GOOD.replace("id = 12345", f"id = {value}"))
    assert "product.id" in message


def test_the_largest_product_id_loads(tmp_path: Path) -> None:
    assert load_profile(write(tmp_path, GOOD.replace("id = 12345", "id = 2147483647"))).product_id == 2**31 - 1


@pytest.mark.parametrize("depth", [20, 5000])
def test_a_deeply_nested_array_is_refused_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    message = refused(tmp_path, GOOD.replace("count = 1", f"count = 1\nports = {nested}"))
    assert "nested" in message


@pytest.mark.parametrize("pattern", ["{product.foo}", "{product[0]}", "{}", "{", "{seq:q}", "{date:%Y}", "{0}"])
def test_a_bad_lot_naming_is_refused_at_load(tmp_path: Path, pattern: str) -> None:
    text = GOOD.replace("{product}-{date}-{seq:03d}", pattern)
    message = refused(tmp_path, text.replace('rename = "widget-{serial}"', ""))
    assert "station.lot_naming" in message


@pytest.mark.parametrize("pattern", ["{", "{}", "{serial.nope}", "{serial[99]}", "{device_id!z}", "{short_id:d}",
                                     "}", "{nope}"])
def test_a_bad_rename_pattern_is_refused_at_load(tmp_path: Path, pattern: str) -> None:
    message = refused(tmp_path, GOOD.replace("widget-{serial}", pattern))
    assert "steps.rename" in message


def test_a_lot_naming_without_seq_is_allowed_and_known(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD.replace("-{seq:03d}", "")))
    assert not profile.lot_naming_has_seq
    assert profile.lot_name(date="20260101", seq=5) == "12345-20260101"


def test_log_folder_problems_are_one_sentence(tmp_path: Path) -> None:
    from station.config.log_folder import log_folder_problem

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert "is a file, not a folder" in (log_folder_problem(a_file) or "")
    assert f"{a_file} is a file" in (log_folder_problem(a_file / "records" / "deeper") or "")
    assert log_folder_problem(tmp_path / "new" / "records") is None
    assert not (tmp_path / "new").exists(), "checking creates nothing"
    assert "not writable" in (log_folder_problem(Path("/proc/station-records")) or "")


@pytest.mark.parametrize(("old", "new"), [
    ('file = "fw.bin"', 'file = "fw\\u0000.bin"'),
    ('name = "Line 1"', 'name = "Line 1"\nlog_folder = "a\\u0000b"'),
    ("[steps]", '[steps]\ngroups = ["a\\u0000"]'),
])
def test_a_nul_character_in_a_file_name_or_list_is_refused(tmp_path: Path, old: str, new: str) -> None:
    assert "NUL" in refused(tmp_path, GOOD.replace(old, new))


def test_a_profile_path_with_a_nul_is_one_sentence() -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile("station\x00.toml")
