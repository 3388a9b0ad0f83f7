"""The platform table: every platform of @particle/device-constants 4.2.1, with its USB ids and user-part rule."""

from __future__ import annotations

import pytest

from hardware import platforms
from hardware.errors import UnknownPlatformError
from hardware.platforms import McuFamily, UserPartRule

REFERENCE = {
    # name: (id, mcu, generation, cellular, wifi)
    "core": (0, McuFamily.STM32F1, 1, False, True),
    "photon": (6, McuFamily.STM32F2, 2, False, True),
    "p1": (8, McuFamily.STM32F2, 2, False, True),
    "electron": (10, McuFamily.STM32F2, 2, True, False),
    "argon": (12, McuFamily.NRF52840, 3, False, True),
    "boron": (13, McuFamily.NRF52840, 3, True, False),
    "xenon": (14, McuFamily.NRF52840, 3, False, False),
    "esomx": (15, McuFamily.NRF52840, 3, True, False),
    "asom": (22, McuFamily.NRF52840, 3, False, True),
    "bsom": (23, McuFamily.NRF52840, 3, True, False),
    "b5som": (25, McuFamily.NRF52840, 3, True, False),
    "tracker": (26, McuFamily.NRF52840, 3, True, False),
    "trackerm": (28, McuFamily.RTL872X, 3, True, True),
    "p2": (32, McuFamily.RTL872X, 4, False, True),
    "msom": (35, McuFamily.RTL872X, 4, True, True),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_reference_platform_has_its_facts(name: str) -> None:
    pid, mcu, generation, cellular, wifi = REFERENCE[name]
    platform = platforms.by_name(name)
    assert platform.id == pid
    assert platform.mcu is mcu
    assert platform.generation == generation
    assert platform.is_cellular is cellular
    assert platform.is_wifi is wifi
    assert platforms.by_id(pid) is platform


@pytest.mark.parametrize("name", sorted(set(REFERENCE) - {"core"}))
def test_usb_ids_follow_the_c000_d000_pattern(name: str) -> None:
    platform = platforms.by_name(name)
    assert platform.usb_vendor_id == 0x2B04
    assert platform.usb_product_id == 0xC000 + platform.id
    assert platform.dfu_product_id == 0xD000 + platform.id
    assert platforms.by_usb_id(0x2B04, 0xC000 + platform.id) == platforms.UsbMatch(platform, dfu=False)
    assert platforms.by_usb_id(0x2B04, 0xD000 + platform.id) == platforms.UsbMatch(platform, dfu=True)


def test_spark_core_uses_its_own_vendor_id() -> None:
    match = platforms.by_usb_id(0x1D50, 0x607F)
    assert match.platform.name == "core"
    assert match.dfu is True
    assert platforms.by_usb_id(0x1D50, 0x607D).dfu is False


def test_unknown_usb_id_is_not_a_particle_device() -> None:
    with pytest.raises(UnknownPlatformError, match="not a Particle device"):
        platforms.by_usb_id(0x2B04, 0xC0FF)
    assert not platforms.is_particle_usb_id(0x1234, 0xC00D)


def test_aliases_and_product_names_find_the_platform() -> None:
    assert platforms.by_name("Photon2").name == "p2"
    assert platforms.by_name("B404X").name == "bsom"
    assert platforms.by_name("E Series").name == "electron"
    assert platforms.by_name(" M-SoM ").name == "msom"
    assert platforms.parse_platform("13").name == "boron"


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownPlatformError, match="known platforms: core, photon"):
        platforms.by_name("toaster")
    with pytest.raises(UnknownPlatformError, match="unknown platform id 99"):
        platforms.by_id(99)


def test_user_part_rules_per_mcu_family() -> None:
    boron = platforms.by_name("boron").user_part
    assert boron.rule is UserPartRule.NRF_TWO_SLOTS
    assert (boron.start, boron.legacy_start) == (0xB4000, 0xD4000)
    assert platforms.by_name("p2").user_part.rule is UserPartRule.END_ANCHORED
    assert platforms.by_name("p2").user_part.end == 0x08600000
    assert platforms.by_name("photon").user_part.start == 0x080A0000
    assert platforms.by_name("electron").user_part.start == 0x08080000
    assert platforms.by_name("core").user_part.rule is UserPartRule.MONOLITHIC


def test_rtl872x_needs_a_data_stage_on_control_out() -> None:
    assert platforms.by_name("p2").control_out_needs_data_stage
    assert not platforms.by_name("boron").control_out_needs_data_stage


def test_a_unicode_digit_is_an_unknown_platform_not_a_crash() -> None:
    with pytest.raises(UnknownPlatformError):
        platforms.parse_platform("²")
