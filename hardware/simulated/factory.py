"""The modules a new simulated device ships with (bootloader, system part(s), Tinker user part), built with the
project's module builder and written where the platform and Device OS version put them (reference §3.4, §5).

The device reads these binaries back with its own parser (``module_image``), so the builder and the device-side
reader check each other.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from hardware.firmware.format import ModuleFunction
from hardware.firmware_builder import build_module
from hardware.platforms import McuFamily, Platform
from hardware.simulated import versions
from hardware.simulated.flash import FlashMemory
from hardware.simulated.memory_map import (
    NRF_LEGACY_USER_START,
    NRF_USER_START,
    RTL_USER_END,
    user_part_dependency_index,
)

_K = 1024
TINKER_VERSION = 6
"""Module version of the factory user part (Tinker) the simulator ships."""


@dataclass(frozen=True)
class FactoryModule:
    """A module a new device ships with: what the simulator writes into flash before the first boot."""

    function: ModuleFunction
    index: int
    start: int | None
    prefix_offset: int
    size: int


def factory_modules(platform: Platform, system_version: int) -> tuple[FactoryModule, ...]:
    """Bootloader, system part(s) and user part (Tinker) placed where this platform and Device OS put them."""
    boot, system, user = ModuleFunction.BOOTLOADER, ModuleFunction.SYSTEM_PART, ModuleFunction.USER_PART
    if platform.mcu is McuFamily.NRF52840:
        system_start = 0x28000 if system_version >= 6200 else 0x30000
        user_start, user_index = (NRF_USER_START, 2) if system_version >= 3103 else (NRF_LEGACY_USER_START, 1)
        return (
            FactoryModule(boot, 0, 0xF4000, 0x200, 8 * _K),
            FactoryModule(system, 1, system_start, 0x200, 24 * _K),
            FactoryModule(user, user_index, user_start, 0, 8 * _K),
        )
    if platform.mcu is McuFamily.RTL872X:
        return (
            FactoryModule(boot, 0, 0x08004000, 0x20, 8 * _K),
            FactoryModule(boot, 1, 0x08000000, 0x20, 4 * _K),
            FactoryModule(boot, 2, 0x08014000, 0, 4 * _K),
            FactoryModule(system, 1, 0x08060000, 0, 24 * _K),
            FactoryModule(user, 1, None, 0, 12 * _K),
        )
    if platform.name == "electron":
        # File part1 is index 3 at 0x08060000, part2 index 1 at 0x08020000, part3 index 2 at 0x08040000 (§3.4).
        return (
            FactoryModule(boot, 0, 0x08000000, 0x184, 8 * _K),
            FactoryModule(system, 1, 0x08020000, 0x184, 16 * _K),
            FactoryModule(system, 2, 0x08040000, 0x184, 16 * _K),
            FactoryModule(system, 3, 0x08060000, 0x184, 16 * _K),
            FactoryModule(user, 1, 0x08080000, 0, 8 * _K),
        )
    return (
        FactoryModule(boot, 0, 0x08000000, 0x184, 8 * _K),
        FactoryModule(system, 1, 0x08020000, 0x184, 16 * _K),
        FactoryModule(system, 2, 0x08060000, 0x184, 16 * _K),
        FactoryModule(user, 1, 0x080A0000, 0, 8 * _K),
    )


def write_factory_modules(
    memory: FlashMemory, platform: Platform, device_os: str, with_user_part: bool, seed: str
) -> None:
    system = versions.system_module_version(device_os)
    boot = versions.bootloader_module_version(device_os)
    dep_index = user_part_dependency_index(platform)
    for spec in factory_modules(platform, system):
        user = spec.function is ModuleFunction.USER_PART
        if user and not with_user_part:
            continue
        start = spec.start if spec.start is not None else RTL_USER_END - spec.size
        image = build_module(
            platform,
            int(spec.function),
            spec.index,
            TINKER_VERSION if user else boot if spec.function is ModuleFunction.BOOTLOADER else system,
            start_address=start,
            size=spec.size,
            dependencies=[(int(ModuleFunction.SYSTEM_PART), dep_index, system)] if user else [],
            product_id=platform.id if user else None,
            product_version=TINKER_VERSION if user else None,
            prefix_offset=spec.prefix_offset,
            seed=zlib.crc32(f"{seed}/{platform.name}".encode()),
        )
        memory.program(start, image)
