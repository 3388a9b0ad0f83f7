"""Device OS <-> module version tables and the format's named constants."""

from __future__ import annotations

import pytest

from hardware.firmware import (
    ModuleFunction,
    bootloader_version_to_device_os,
    describe_system_version,
    device_os_to_bootloader_version,
    device_os_to_module_version,
    estimate_module_version,
    flag_names,
    module_version_to_device_os,
    parse_semver,
)


@pytest.mark.parametrize(
    ("device_os", "module"),
    [("6.2.0", 6200), ("3.0.0", 3005), ("3.1.0", 3103), ("1.5.2", 1512), ("0.8.0-rc.27", 326), ("5.9.0", 5901)],
)
def test_system_module_versions_come_from_the_table(device_os: str, module: int):
    assert device_os_to_module_version(device_os) == module
    assert module_version_to_device_os(module) == device_os


def test_unknown_module_version_has_no_device_os():
    assert module_version_to_device_os(6199) is None
    assert device_os_to_module_version("9.9.9") is None


def test_bootloader_versions_come_from_their_own_table():
    assert device_os_to_bootloader_version("6.2.0") == 3100
    assert bootloader_version_to_device_os(3100) == "6.2.0"
    assert bootloader_version_to_device_os(3000) == "6.0.0"


def test_estimate_uses_the_table_first_then_the_version_numbers():
    assert estimate_module_version("3.0.0") == 3005
    assert estimate_module_version("6.3.0") == 6300
    assert estimate_module_version("v6.4.1-rc.2") == 6401
    assert estimate_module_version("abc") is None


def test_parse_semver_ignores_prerelease():
    assert parse_semver("5.8.2-rc.1") == (5, 8, 2)
    assert parse_semver("5.8") is None


def test_describe_system_version_says_when_it_is_unknown():
    assert describe_system_version(6200) == "Device OS 6.2.0 (module version 6200)"
    assert "does not know" in describe_system_version(1)


def test_module_function_names():
    assert [f.short_name for f in ModuleFunction] == [
        "none",
        "resource",
        "bootloader",
        "monolithic",
        "system",
        "user",
        "settings",
        "ncp",
        "radio_stack",
        "asset",
    ]
    assert ModuleFunction.NCP.letter == "c" and ModuleFunction.ASSET.letter == "t"
    assert ModuleFunction.USER_PART.description == "user part"


def test_flag_names_include_unknown_bits():
    assert flag_names(0x11) == ["drop_module_info", "prefix_extensions"]
    assert flag_names(0x40) == ["unknown_0x40"]
    assert flag_names(0) == []
