"""The station profile: a valid file loads into typed settings; every mistake names its key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.profile import ClaimMode, ProfileError, SimActivationPolicy, hash_pin, verify_pin
from station.config.profile_loader import load_profile

FIXTURE = Path(__file__).parents[3] / "fixtures" / "profiles" / "boron-line.toml"
SHA = "ab" * 32

GOOD = f"""
[station]
name = "Line 1"

[product]
id = 12345
platform = "boron"

[firmware]
file = "fw.bin"
sha256 = "{SHA.upper()}"

[steps]
claim = "product-owner"
groups = ["line-a", "{{date}}"]

[cloud]
credentials = "env:PARTICLE"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def test_example_profile_loads() -> None:
    profile = load_profile(FIXTURE)
    assert profile.product_id == 12345
    assert profile.platform.name == "boron"
    assert profile.steps.claim is ClaimMode.PRODUCT_OWNER
    assert profile.slots.count == 2
    assert profile.operator.check("4321")
    assert not profile.operator.check("1234")


def test_minimal_profile_gets_defaults_and_resolves_paths(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD))
    assert profile.firmware.file == (tmp_path / "fw.bin").resolve()
    assert profile.firmware.sha256 == SHA
    assert profile.steps.sim_activation is SimActivationPolicy.AUTO
    assert profile.steps.groups == ("line-a", "{date}")
    assert profile.cloud.base_url == "https://api.particle.io"
    assert profile.log_folder == (tmp_path / "station-data").resolve()
    assert profile.lot_name(date="20261124", seq=7) == "12345-20261124-007"
    assert not profile.operator.enabled


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('platform = "boron"', 'platform = "toaster"', r"line 7: product.platform: unknown platform 'toaster'"),
        (f'sha256 = "{SHA.upper()}"', 'sha256 = "abc"', r"line 11: firmware.sha256: must be the 64 hex"),
        ('claim = "product-owner"', 'claim = "someone"', r"line 14: steps.claim: must be one of 'off'"),
        ('groups = ["line-a", "{date}"]', 'groups = ["Line A"]', r"line 15: steps.groups: .*not a valid group name"),
        ('credentials = "env:PARTICLE"', 'credentials = "hunter2"', r"line 18: cloud.credentials: must be"),
        ("id = 12345", 'id = "12345"', r"line 6: product.id: must be a whole number"),
        ('name = "Line 1"', 'name = "Line 1"\ncolour = "red"', r"line 4: station.colour: unknown key"),
    ],
)
def test_errors_name_the_key_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(ProfileError, match=message):
        load_profile(write(tmp_path, GOOD.replace(old, new)))


def test_firmware_file_without_pinned_sha_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace(f'sha256 = "{SHA.upper()}"\n', "")
    with pytest.raises(ProfileError, match="firmware.sha256: missing; the station refuses"):
        load_profile(write(tmp_path, text))


def test_sim_always_on_a_wifi_platform_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('platform = "boron"', 'platform = "argon"').replace(
        'claim = "product-owner"', 'claim = "product-owner"\nsim_activation = "always"'
    )
    with pytest.raises(ProfileError, match="steps.sim_activation: is \"always\" but Argon"):
        load_profile(write(tmp_path, text))


def test_claim_to_account_needs_the_account(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="steps.claim_account: missing"):
        load_profile(write(tmp_path, GOOD.replace('claim = "product-owner"', 'claim = "account"')))


def test_plain_pin_in_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="never the PIN itself"):
        load_profile(write(tmp_path, GOOD + '\n[operator]\nengineer_pin_hash = "4321"\n'))


def test_syntax_error_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(write(tmp_path, "[station\nname = 1"))
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "nope.toml")


def test_pin_hash_round_trip_and_salting() -> None:
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first)
    assert not verify_pin("2468", "garbage")
