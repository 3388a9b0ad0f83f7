"""The profile's ``[protection]`` section: what the line does with a Protected Device (Device Protection) that
arrives, and whether it protects each unit before it leaves.

    [protection]
    on_protected = "refuse"      # or "rework": Service Mode through the cloud, provision, back to protected
    protect_at_end = false       # true: flash the protected bootloader, clear the development flag
    bootloader = "boron-bootloader@6.2.0.bin"   # when the Device OS bundle holds no bootloader

A Protected Device cannot run Device OS below 6.1.1 (particle-cli src/lib/flash-helper.js: "Cannot downgrade Device
OS below version 6.1.1 on a Protected Device"), so a profile that involves protection refuses a lower minimum.
Whether the product has Device Protection is the cloud's to say (``product.device_protection``); the lot checks it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from hardware.firmware import DeviceOsVersion
from station.config.toml_reader import TomlTable

MIN_PROTECTED_DEVICE_OS = "6.1.1"
KNOWN_KEYS = {"on_protected", "protect_at_end", "bootloader"}


class OnProtected(enum.Enum):
    REFUSE = "refuse"
    """The unit FAILs (reason code device_protected) with what to do."""
    REWORK = "rework"
    """Service Mode through the cloud handshake, provisioned as usual, back to protected before it leaves."""


@dataclass(frozen=True)
class ProtectionSettings:
    on_protected: OnProtected = OnProtected.REFUSE
    protect_at_end: bool = False
    bootloader: Path | None = None
    """The bootloader to protect at the end when the Device OS bundle holds none."""

    @property
    def involved(self) -> bool:
        """Whether the line changes protection: it reworks Protected Devices or protects units."""
        return self.protect_at_end or self.on_protected is OnProtected.REWORK


def parse_protection(
    table: TomlTable, base: Path, *, minimum_device_os: str | None, bundle: tuple[Path, ...]
) -> ProtectionSettings:
    """The [protection] section (defaults when absent), checked against the firmware section."""
    settings = ProtectionSettings(
        on_protected=table.choice("on_protected", OnProtected, OnProtected.REFUSE),
        protect_at_end=table.boolean("protect_at_end", False),
        bootloader=(base / name).resolve() if (name := table.path_text("bootloader")) else None,
    )
    too_old = minimum_device_os is not None and DeviceOsVersion.parse(minimum_device_os) < DeviceOsVersion.parse(
        MIN_PROTECTED_DEVICE_OS
    )
    if settings.involved and too_old:
        key = "protect_at_end" if settings.protect_at_end else "on_protected"
        raise table.fail(
            key,
            f"needs firmware.minimum_device_os {MIN_PROTECTED_DEVICE_OS} or later (a Protected Device cannot run "
            f"Device OS below {MIN_PROTECTED_DEVICE_OS}), got {minimum_device_os}",
        )
    if settings.protect_at_end and settings.bootloader is None and not bundle:
        raise table.fail(
            "protect_at_end",
            "needs the bootloader to protect: name it in `bootloader = \"...bin\"` or in firmware.device_os_bundle",
        )
    return settings
