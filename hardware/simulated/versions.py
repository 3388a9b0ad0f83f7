"""Device OS release ↔ module version lookups for the simulated module tables (reference §5).

The release tables are the host's (``hardware.firmware.versions``); what a simulated device does with a release the
tables do not list, and the versions of its off-flash modules, are the simulator's own choices.
"""

from __future__ import annotations

import re

from hardware.firmware.versions import BOOTLOADER_MODULE_VERSIONS, SYSTEM_MODULE_VERSIONS
from hardware.simulated.errors import SimulationError

PRE_5_BOOTLOADER_VERSION = 1100
"""Bootloader version the simulator reports below Device OS 5.0.0 (not in the reference; the simulator's choice)."""

RADIO_STACK_VERSION = 202
"""SoftDevice module version reported on nRF52840 (the simulator's choice)."""
NCP_MODULE_VERSION = 7
"""ESP32 NCP module version on Argon/Tracker (the simulator's choice); request 31 reports it as ``0.0.7``."""

BOOTLOADER_6_2_0 = BOOTLOADER_MODULE_VERSIONS["6.2.0"]
"""From this bootloader on, DFU mode serves the 0xFA device-state string (§3.2) and erases the 0xD4000 page after
a valid DFU write at 0xB4000 (§3.4)."""

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

