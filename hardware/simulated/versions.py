"""Device OS release <-> module version tables of the simulated devices, and the versions of their off-flash modules.

The simulator keeps its own copy of the release tables (Device OS ``modules/shared/system_module_version.mk`` and
``build/version.mk`` at each release tag), not the host's ``hardware.firmware.versions``: the module versions it
reports are what a device says, and the host must map them back on its own.
"""

from __future__ import annotations

import re

from hardware.simulated.errors import SimulationError

SYSTEM_MODULE_VERSIONS: dict[str, int] = {
    "0.8.0-rc.27": 326,
    "1.1.0": 1102,
    "1.5.2": 1512,
    "2.3.1": 2302,
    "3.0.0": 3005,
    "3.1.0": 3103,
    "3.3.1": 3302,
    "4.0.0": 4003,
    "4.2.0": 4200,
    "5.0.0": 5002,
    "5.0.1": 5003,
    "5.3.0": 5300,
    "5.3.1": 5301,
    "5.5.0": 5501,
    "5.6.0": 5600,
    "5.7.0": 5700,
    "5.8.0": 5800,
    "5.8.2": 5802,
    "5.9.0": 5901,
    "6.0.0": 6000,
    "6.1.0": 6100,
    "6.1.1": 6101,
    "6.2.0": 6200,
}
"""Release -> system part module version (Device OS ``modules/shared/system_module_version.mk`` per tag): a lookup,
not a formula (3.0.0 is 3005, 1.5.2 is 1512)."""

BOOTLOADER_MODULE_VERSIONS: dict[str, int] = {
    "5.0.0": 2000,
    "5.0.1": 2001,
    "5.3.0": 2100,
    "5.5.0": 2300,
    "5.9.0": 2700,
    "6.0.0": 3000,
    "6.1.0": 3000,
    "6.1.1": 3001,
    "6.2.0": 3100,
}
"""Release -> bootloader module version (Device OS ``modules/shared/system_module_version.mk`` per tag)."""

_RELEASE_OF_SYSTEM_VERSION = {number: name for name, number in SYSTEM_MODULE_VERSIONS.items()}

PRE_5_BOOTLOADER_VERSION = 1100
"""Bootloader version the simulator reports below Device OS 5.0.0 (the simulator's choice)."""

RADIO_STACK_VERSION = 202
"""SoftDevice module version reported on nRF52840 (the simulator's choice)."""
NCP_MODULE_VERSION = 7
"""ESP32 NCP module version on Argon/Tracker (the simulator's choice); request 31 reports it as ``0.0.7``."""

BOOTLOADER_6_2_0 = BOOTLOADER_MODULE_VERSIONS["6.2.0"]
"""From this bootloader on, DFU mode serves the 0xFA device-state string and erases the 0xD4000 page after
a valid DFU write at 0xB4000 (Device OS ``bootloader/src/nRF52840/usbd_dfu.cpp``, ``usbd_dfu_mal.cpp``)."""

_NUMERIC = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def version_tuple(text: str) -> tuple[int, int, int]:
    """``6.2.0`` → (6, 2, 0); a pre-release suffix is ignored."""
    match = _NUMERIC.match(text)
    if not match:
        raise SimulationError(f"Device OS version {text!r} is not of the form X.Y.Z")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def system_module_version(device_os: str) -> int:
    """The system module version of a release the table lists; a SimulationError names the ones it does."""
    try:
        return SYSTEM_MODULE_VERSIONS[device_os]
    except KeyError:
        known = ", ".join(SYSTEM_MODULE_VERSIONS)
        raise SimulationError(
            f"Device OS {device_os!r} has no known module version; simulate one of: {known}"
        ) from None


def bootloader_module_version(device_os: str) -> int:
    """The bootloader shipped with a release: the nearest listed release at or below it."""
    wanted = version_tuple(device_os)
    best: tuple[tuple[int, int, int], int] | None = None
    for name, number in BOOTLOADER_MODULE_VERSIONS.items():
        release = version_tuple(name)
        if release <= wanted and (best is None or release > best[0]):
            best = (release, number)
    return best[1] if best else PRE_5_BOOTLOADER_VERSION


def release_of_system_version(version: int) -> str | None:
    """The release whose system part has this module version, or None when the table does not list it."""
    return _RELEASE_OF_SYSTEM_VERSION.get(version)
