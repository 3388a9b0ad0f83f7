"""The profile's [protection] section: defaults, choices and the refusals, each one sentence naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.profile import ProfileError
from station.config.profile_loader import load_profile
from station.config.protection import OnProtected

BASE = """[station]
name = "s"

[product]
id = 1234
platform = "boron"

[firmware]
product_version = 3
{firmware}
[cloud]
credentials = "env:PARTICLE_TOKEN"
"""


def profile(tmp_path: Path, protection: str, firmware: str = "") -> Path:
    path = tmp_path / "station.toml"
    path.write_text(BASE.format(firmware=firmware) + "\n[protection]\n" + protection, encoding="utf-8")
    return path


def test_defaults_refuse_protected_devices_and_protect_nothing(tmp_path: Path) -> None:
    settings = load_profile(profile(tmp_path, "")).protection
    assert settings.on_protected is OnProtected.REFUSE and not settings.protect_at_end and not settings.involved


def test_rework_and_protect_at_end_with_a_bootloader(tmp_path: Path) -> None:
    text = 'on_protected = "rework"\nprotect_at_end = true\nbootloader = "boot.bin"\n'
    settings = load_profile(profile(tmp_path, text, 'minimum_device_os = "6.2.0"\n')).protection
    assert settings.on_protected is OnProtected.REWORK and settings.protect_at_end
    assert settings.bootloader == (tmp_path / "boot.bin").resolve()


@pytest.mark.parametrize(
    ("protection", "firmware", "message"),
    [
        ('on_protected = "ignore"\n', "", "on_protected"),
        ("protect_at_end = 1\n", "", "true or false"),
        ("protect_at_end = true\n", "", "needs the bootloader"),
        ('on_protected = "rework"\n', 'minimum_device_os = "6.0.0"\n', "6.1.1"),
        ("colour = 1\n", "", "colour"),
    ],
)
def test_refusals_name_the_key(tmp_path: Path, protection: str, firmware: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_profile(profile(tmp_path, protection, firmware))


def test_profile_refuses_development_true_with_protect_at_end(tmp_path: Path) -> None:
    # The unit's update would mark it a development device again after protect_at_end cleared the flag.
    source = Path(__file__).parents[3] / "fixtures" / "profiles" / "boron-protected.toml"
    text = source.read_text(encoding="utf-8")
    assert "development = false" in text
    path = source.parent / f".tmp-{tmp_path.name}.toml"  # beside the sample: its relative file names still hold
    path.write_text(text.replace("development = false", "development = true", 1), encoding="utf-8")
    try:
        with pytest.raises(ProfileError) as info:
            load_profile(path)
    finally:
        path.unlink()
    assert "steps.development" in str(info.value) and "protect_at_end" in str(info.value)
