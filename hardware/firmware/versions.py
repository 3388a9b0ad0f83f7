"""Map Device OS versions (``6.2.0``) to the module versions in binaries and on devices (``6200``), both ways.

The mapping is a lookup table from Device OS's build files (modules/shared/system_module_version.mk and
build/version.mk at each release tag), not a formula: e.g. 3.0.0 is 3005 and 1.5.2 is 1512.
"""

from __future__ import annotations

import re

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
"""Device OS version -> system part / user-part dependency module version."""

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
"""Device OS version -> bootloader module version (6.0.0 and 6.1.0 share 3000)."""

_SYSTEM_BY_MODULE = {module: name for name, module in SYSTEM_MODULE_VERSIONS.items()}
_BOOTLOADER_BY_MODULE: dict[int, str] = {}
for _name, _module in BOOTLOADER_MODULE_VERSIONS.items():
    _BOOTLOADER_BY_MODULE.setdefault(_module, _name)

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def module_version_to_device_os(version: int) -> str | None:
    """The Device OS release whose system part has this module version, or None when the table lacks it."""
    return _SYSTEM_BY_MODULE.get(version)


def device_os_to_module_version(device_os: str) -> int | None:
    """The system module version of a Device OS release (``"6.2.0"`` -> 6200), or None when the table lacks it."""
    return SYSTEM_MODULE_VERSIONS.get(device_os.strip().removeprefix("v"))


def bootloader_version_to_device_os(version: int) -> str | None:
    """The (first) Device OS release that ships this bootloader module version, or None when unknown."""
    return _BOOTLOADER_BY_MODULE.get(version)


def device_os_to_bootloader_version(device_os: str) -> int | None:
    """The bootloader module version of a Device OS release (``"6.2.0"`` -> 3100), or None when unknown."""
    return BOOTLOADER_MODULE_VERSIONS.get(device_os.strip().removeprefix("v"))


def parse_semver(text: str) -> tuple[int, int, int] | None:
    """``"6.2.0"`` -> (6, 2, 0); a pre-release or build suffix is ignored; None when it is not a version."""
    match = _SEMVER.match(text.strip())
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def estimate_module_version(device_os: str) -> int | None:
    """The module version of a Device OS release: from the table, else estimated as major*1000 + minor*100 + patch.

    The estimate is a lower bound for recent releases (5.8.2 -> 5802, 6.1.1 -> 6101); it lets the station compare
    releases newer than its table. None when ``device_os`` is not a version at all.
    """
    known = device_os_to_module_version(device_os)
    if known is not None:
        return known
    parts = parse_semver(device_os)
    if parts is None:
        return None
    major, minor, patch = parts
    return major * 1000 + minor * 100 + patch


def describe_system_version(version: int) -> str:
    """``6200`` -> ``Device OS 6.2.0 (module version 6200)``; unknown ones say so."""
    name = module_version_to_device_os(version)
    if name is None:
        return f"module version {version} (a Device OS release this station does not know)"
    return f"Device OS {name} (module version {version})"
