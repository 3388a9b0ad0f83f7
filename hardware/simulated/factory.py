"""The modules a new simulated device ships with (bootloader, system part(s), Tinker user part), written with the
simulator's own module writer where the platform and Device OS version put them (Device OS linker scripts
``build/arm/linker/{nrf52840,rtl872x}/platform_flash.ld`` @v6.1.1/@v6.2.0, v2.3.1 ``modules/{photon,electron}/*/
linker.ld``; particle-cli ``assets/knownApps`` for Tinker).
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.simulated import versions
from hardware.simulated.flash import FlashMemory
from hardware.simulated.memory_map import (
    NRF_LEGACY_USER_START,
    NRF_USER_START,
    RTL_USER_END,
    user_part_dependency_index,
)
from hardware.simulated.module_format import ModuleFunction
from hardware.simulated.module_writer import ModuleSpec, write_module
from hardware.simulated.platform_facts import Board, Family

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


def factory_modules(board: Board, system_version: int) -> tuple[FactoryModule, ...]:
    """Bootloader, system part(s) and user part (Tinker) placed where this platform and Device OS put them."""
    boot, system, user = ModuleFunction.BOOTLOADER, ModuleFunction.SYSTEM_PART, ModuleFunction.USER_PART
    if board.family is Family.NRF52840:
        # The nRF system part moved from 0x30000 to 0x28000 in 6.2.0; user parts went from the 128 K slot at
        # 0xD4000 to the 256 K slot at 0xB4000 with 3.1.0 (module version 3103).
        system_start = 0x28000 if system_version >= versions.SYSTEM_MODULE_VERSIONS["6.2.0"] else 0x30000
        large_apps = system_version >= versions.SYSTEM_MODULE_VERSIONS["3.1.0"]
        user_start, user_index = (NRF_USER_START, 2) if large_apps else (NRF_LEGACY_USER_START, 1)
        return (
            FactoryModule(boot, 0, 0xF4000, 0x200, 8 * _K),
            FactoryModule(system, 1, system_start, 0x200, 24 * _K),
            FactoryModule(user, user_index, user_start, 0, 8 * _K),
        )
    if board.family is Family.RTL872X:
        return (
            FactoryModule(boot, 0, 0x08004000, 0x20, 8 * _K),
            FactoryModule(boot, 1, 0x08000000, 0x20, 4 * _K),
            FactoryModule(boot, 2, 0x08014000, 0, 4 * _K),
            FactoryModule(system, 1, 0x08060000, 0, 24 * _K),
            FactoryModule(user, 1, None, 0, 12 * _K),
        )
    if board.name == "electron":
        # File part1 is index 3 at 0x08060000, part2 index 1 at 0x08020000, part3 index 2 at 0x08040000
        # (Device OS v2.3.1 modules/electron/README.md).
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


def write_factory_modules(memory: FlashMemory, board: Board, device_os: str, with_user_part: bool, seed: str) -> None:
    system = versions.system_module_version(device_os)
    boot = versions.bootloader_module_version(device_os)
    dep_index = user_part_dependency_index(board)
    for spec in factory_modules(board, system):
        user = spec.function is ModuleFunction.USER_PART
        if user and not with_user_part:
            continue
        start = spec.start if spec.start is not None else RTL_USER_END - spec.size
        version = TINKER_VERSION if user else boot if spec.function is ModuleFunction.BOOTLOADER else system
        image = write_module(
            ModuleSpec(
                platform_id=board.id,
                function=spec.function,
                index=spec.index,
                version=version,
                start=start,
                size=spec.size,
                prefix_offset=spec.prefix_offset,
                dependencies=[(ModuleFunction.SYSTEM_PART, dep_index, system)] if user else [],
                # Tinker since 4.0.0: PRODUCT_VERSION(x) stores x with product id = platform id.
                product=(board.id, TINKER_VERSION) if user else None,
                dynamic_location=user and board.family is Family.RTL872X,
            ),
            seed=f"{seed}/{board.name}/{spec.function}/{spec.index}/{start}".encode(),
        )
        memory.program(start, image)
