"""Device OS versions: the one parser and value type (``DeviceOsVersion``), the version cut-offs of device
behaviour, and the map from releases (``6.2.0``) to the module versions in binaries and on devices (``6200``).

The module-version mapping is a lookup table from Device OS's build files (modules/shared/system_module_version.mk and
build/version.mk at each release tag), not a formula: e.g. 3.0.0 is 3005 and 1.5.2 is 1512.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

Release = tuple[int, int, int]
"""A release as (major, minor, patch): the form of the cut-offs where device behaviour changes."""

_IDENTIFIER = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_PRERELEASE = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*")
_BUILD = re.compile(r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*")
_VERSION = re.compile(
    rf"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-({_PRERELEASE.pattern}))?(?:\+({_BUILD.pattern}))?"
)


@functools.total_ordering
@dataclass(frozen=True)
class DeviceOsVersion:
    """A Device OS version such as ``5.9.0`` or ``6.0.0-rc.1``, ordered by semantic-versioning precedence.

    A pre-release sorts before its release (``6.0.0-rc.1 < 6.0.0``), its dot-separated identifiers compare
    numerically when numeric (``rc.2 < rc.10``) and numeric ones before alphanumeric ones; build metadata
    (``+…``) is kept for printing but takes no part in ordering or equality. For the cut-offs where device
    behaviour changes use ``reaches``: there a pre-release counts as its release.
    """

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if min(self.major, self.minor, self.patch) < 0:
            raise ValueError(f"a Device OS version has no negative numbers, got {self.release}")
        if self.prerelease and not _PRERELEASE.fullmatch(self.prerelease):
            raise ValueError(f"{self.prerelease!r} is not a pre-release tag such as 'rc.1'")
        if self.build and not _BUILD.fullmatch(self.build):
            raise ValueError(f"{self.build!r} is not build metadata such as 'build.5'")

    @classmethod
    def parse(cls, text: str) -> DeviceOsVersion:
        """``"6.2.0"``, ``"6.0.0-rc.1"`` or ``"v5.8.2"``; a ValueError says what is expected."""
        version = cls.parse_or_none(text)
        if version is None:
            raise ValueError(f"{text!r} is not a Device OS version (expected X.Y.Z or X.Y.Z-tag)")
        return version

    @classmethod
    def parse_or_none(cls, text: str) -> DeviceOsVersion | None:
        """Like ``parse``, but None when ``text`` is not a version."""
        match = _VERSION.fullmatch(text.strip())
        if match is None:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3]), match[4] or "", match[5] or "")

    @property
    def release(self) -> Release:
        return (self.major, self.minor, self.patch)

    def reaches(self, cutoff: Release) -> bool:
        """Whether this version has what changed in release ``cutoff``; a pre-release of it counts as the release."""
        return self.release >= cutoff

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        identifiers = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in self.prerelease.split(".") if part
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, identifiers)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DeviceOsVersion):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        return f"{text}+{self.build}" if self.build else text


SETUP_DONE_ALWAYS_FROM: Release = (4, 0, 0)
"""From Device OS 4.0.0 a Gen 3 device always reports setup done: set-setup-done(true) is a no-op, (false) is
NOT_SUPPORTED and is-setup-done is always true (Device OS system/src/system_control_internal.cpp, 73/74)."""


def always_reports_setup_done(device_os: DeviceOsVersion) -> bool:
    """Whether a Gen 3 device on ``device_os`` has no setup-done flag left to set (Device OS 4.0.0 and later)."""
    return device_os.reaches(SETUP_DONE_ALWAYS_FROM)


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


def estimate_module_version(device_os: str) -> int | None:
    """The module version of a Device OS release: from the table, else estimated as major*1000 + minor*100 + patch.

    The estimate is a lower bound for recent releases (5.8.2 -> 5802, 6.1.1 -> 6101); it lets the station compare
    releases newer than its table. None when ``device_os`` is not a version at all.
    """
    known = device_os_to_module_version(device_os)
    if known is not None:
        return known
    version = DeviceOsVersion.parse_or_none(device_os)
    if version is None:
        return None
    return version.major * 1000 + version.minor * 100 + version.patch


def describe_system_version(version: int) -> str:
    """``6200`` -> ``Device OS 6.2.0 (module version 6200)``; unknown ones say so."""
    name = module_version_to_device_os(version)
    if name is None:
        return f"module version {version} (a Device OS release this station does not know)"
    return f"Device OS {name} (module version {version})"
