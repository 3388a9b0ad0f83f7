"""Device OS release ↔ module version lookups for the simulated module tables (reference §5)."""

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

PRE_5_BOOTLOADER_VERSION = 1100
"""Bootloader version the simulator reports below Device OS 5.0.0 (not in the reference; the simulator's choice)."""

RADIO_STACK_VERSION = 202
"""SoftDevice module version reported on nRF52840 (the simulator's choice)."""
NCP_MODULE_VERSION = 7
"""ESP32 NCP module version on Argon/Tracker (the simulator's choice); request 31 reports it as ``0.0.7``."""

BOOTLOADER_6_2_0 = 3100
"""From this bootloader on, DFU mode serves the 0xFA device-state string (§3.2) and erases the 0xD4000 page after
a valid DFU write at 0xB4000 (§3.4)."""

_BY_MODULE_VERSION = {number: name for name, number in SYSTEM_MODULE_VERSIONS.items()}
_NUMERIC = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def version_tuple(text: str) -> tuple[int, int, int]:
    """``6.2.0`` → (6, 2, 0); a pre-release suffix is ignored."""
    match = _NUMERIC.match(text)
    if not match:
        raise SimulationError(f"Device OS version {text!r} is not of the form X.Y.Z")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def system_module_version(device_os: str) -> int:
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


def device_os_for_module_version(number: int) -> str | None:
    """The Device OS release whose system part carries this module version, if the table knows it."""
    return _BY_MODULE_VERSION.get(number)
