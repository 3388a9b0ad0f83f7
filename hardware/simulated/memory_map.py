"""Where things live on each simulated MCU family: DFU memory layouts (§3.2), module slots (§3.4), DFU string
indexes and the DfuSe command list."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.firmware.format import ModuleFunction
from hardware.platforms import McuFamily, Platform
from hardware.simulated.errors import SimulationError
from hardware.usb.protocol import DfuseCommand

_K = 1024

NRF_INTERNAL = "@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka"
NRF_EXTERNAL = "@External Flash   /0x80000000/{pages}*004Kg"
RTL_INTERNAL = "@Internal Flash   /0x08000000/2048*004Kg"
STM32_INTERNAL = "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg"
DCT_GEN3 = "@DCT Flash   /0x00000000/1*016Ke"
DCT_STM32 = "@DCT Flash   /0x00000000/01*016Kg"
P1_SERIAL_FLASH = "@Serial Flash   /0x00000000/256*004Kg"

_NRF_8MB_EXTERNAL = frozenset({"b5som", "tracker", "esomx"})
"""nRF platforms whose external flash has 2048 pages instead of 1024 (§3.2)."""

NRF_LEGACY_USER_START = 0xD4000
NRF_USER_START = 0xB4000
RTL_USER_END = 0x08600000


def dfu_layouts(platform: Platform) -> tuple[str, ...]:
    """The iInterface strings of DFU alt settings 0, 1, (2) for this platform."""
    if platform.mcu is McuFamily.NRF52840:
        pages = 2048 if platform.name in _NRF_8MB_EXTERNAL else 1024
        return NRF_INTERNAL, DCT_GEN3, NRF_EXTERNAL.format(pages=pages)
    if platform.mcu is McuFamily.RTL872X:
        return RTL_INTERNAL, DCT_GEN3
    if platform.mcu is McuFamily.STM32F2:
        if platform.name == "p1":
            return STM32_INTERNAL, DCT_STM32, P1_SERIAL_FLASH
        return STM32_INTERNAL, DCT_STM32
    raise SimulationError(
        f"{platform} cannot be simulated: only nRF52840, RTL872x and STM32F2 (Gen 2) platforms are modelled"
    )


@dataclass(frozen=True)
class DfuStrings:
    """String descriptor indexes of the DFU-mode bootloader."""

    first_interface: int
    """iInterface of alt 0; the next alts count up from it."""
    error: int


def dfu_strings(platform: Platform) -> DfuStrings:
    if platform.mcu is McuFamily.NRF52840:
        return DfuStrings(first_interface=6, error=10)
    if platform.mcu is McuFamily.RTL872X:
        return DfuStrings(first_interface=5, error=7)
    # STM32 bootloader string indexes are not in the reference (§7); these are the simulator's choice.
    return DfuStrings(first_interface=4, error=7)


def dfuse_commands(platform: Platform) -> bytes:
    """What UPLOAD wValue 0 returns: the DfuSe commands the bootloader supports."""
    if platform.gen3_or_later:
        return bytes(
            [
                DfuseCommand.GET_COMMANDS,
                DfuseCommand.SET_ADDRESS,
                DfuseCommand.ERASE,
                DfuseCommand.ENTER_SAFE_MODE,
                DfuseCommand.CLEAR_SECURITY_OVERRIDE,
            ]
        )
    return bytes([DfuseCommand.GET_COMMANDS, DfuseCommand.SET_ADDRESS, DfuseCommand.ERASE])


@dataclass(frozen=True)
class ModuleSlot:
    """A place in internal flash (DFU alt 0) where the device looks for a module when it boots."""

    function: ModuleFunction
    start: int | None
    """Flash address of the module's first byte; None for the RTL872x user part, which is anchored at ``end``."""
    max_size: int
    prefix_offset: int
    end: int | None = None


def module_slots(platform: Platform) -> tuple[ModuleSlot, ...]:
    """Module slots in boot-scan order: bootloader(s), system part(s), user part(s)."""
    boot, system, user = ModuleFunction.BOOTLOADER, ModuleFunction.SYSTEM_PART, ModuleFunction.USER_PART
    if platform.mcu is McuFamily.NRF52840:
        return (
            ModuleSlot(boot, 0xF4000, 48 * _K, 0x200),
            ModuleSlot(system, 0x28000, 560 * _K, 0x200),  # Device OS 6.2.0+
            ModuleSlot(system, 0x30000, 528 * _K, 0x200),  # up to 6.1.x
            ModuleSlot(user, NRF_LEGACY_USER_START, 128 * _K, 0),
            ModuleSlot(user, NRF_USER_START, 256 * _K, 0),
        )
    if platform.mcu is McuFamily.RTL872X:
        # Prebootloader sizes are the simulator's choice: the reference gives only their start addresses.
        return (
            ModuleSlot(boot, 0x08004000, 64 * _K, 0x20),
            ModuleSlot(boot, 0x08000000, 16 * _K, 0x20),
            ModuleSlot(boot, 0x08014000, 0x08060000 - 0x08014000, 0),
            ModuleSlot(system, 0x08060000, 1536 * _K, 0),
            ModuleSlot(user, None, 2048 * _K, 0, end=RTL_USER_END),
        )
    if platform.mcu is McuFamily.STM32F2:
        if platform.name == "electron":
            return (
                ModuleSlot(boot, 0x08000000, 16 * _K, 0x184),
                ModuleSlot(system, 0x08020000, 128 * _K, 0x184),
                ModuleSlot(system, 0x08040000, 128 * _K, 0x184),
                ModuleSlot(system, 0x08060000, 128 * _K, 0x184),
                ModuleSlot(user, 0x08080000, 128 * _K, 0),
            )
        return (
            ModuleSlot(boot, 0x08000000, 16 * _K, 0x184),
            ModuleSlot(system, 0x08020000, 256 * _K, 0x184),
            ModuleSlot(system, 0x08060000, 256 * _K, 0x184),
            ModuleSlot(user, 0x080A0000, 128 * _K, 0),
        )
    raise SimulationError(f"{platform} has no simulated module layout")


def user_part_dependency_index(platform: Platform) -> int:
    """The system part index a user part depends on: 2 on Gen 2, 1 elsewhere (§3.4)."""
    return 2 if platform.mcu is McuFamily.STM32F2 else 1


def has_ncp(platform: Platform) -> bool:
    """Argon and Tracker carry an ESP32 network co-processor reported as an NCP module (dc ``ncpFirmware``)."""
    return platform.name in ("argon", "tracker")


def has_radio_stack(platform: Platform) -> bool:
    """nRF52840 platforms report the SoftDevice as a radio-stack module."""
    return platform.mcu is McuFamily.NRF52840
