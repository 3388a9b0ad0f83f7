"""Where things live on each simulated MCU family: DFU memory layouts, module slots, DFU string indexes and the
DfuSe command list (Device OS ``bootloader/src/{nRF52840,rtl872x}/usbd_dfu*.{h,cpp}``, the STM32 bootloader of
Device OS v2.3.1 ``platform/MCU/STM32F2xx/STM32_USB_Device_Driver/*``, and the linker scripts
``build/arm/linker/{nrf52840,rtl872x}/platform_flash.ld``, ``modules/{photon,electron}/*/linker.ld``)."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.simulated.dfu_facts import DfuseCommand
from hardware.simulated.errors import SimulationError
from hardware.simulated.flash_layout import READ_ERASE_WRITE, READ_ONLY, READ_WRITE, FlashLayout, layout
from hardware.simulated.module_format import ModuleFunction
from hardware.simulated.platform_facts import Board, Family

_K = 1024
_PAGE = 4 * _K

NRF_INTERNAL = layout(
    "Internal Flash",
    0x00000000,
    [
        (1, _PAGE, READ_ONLY),  # MBR
        (47, _PAGE, READ_ERASE_WRITE),
        (192, _PAGE, READ_ERASE_WRITE),
        (4, _PAGE, READ_ERASE_WRITE),
        (4, _PAGE, READ_ERASE_WRITE),
        (8, _PAGE, READ_ONLY),  # 0xF8000-0xFFFFF: the end of the bootloader cannot be rewritten over DFU
    ],
)
RTL_INTERNAL = layout("Internal Flash", 0x08000000, [(2048, _PAGE, READ_ERASE_WRITE)])
STM32_INTERNAL = layout(
    "Internal Flash",
    0x08000000,
    [
        (3, 16 * _K, READ_ONLY),  # 0x08000000-0x0800BFFF: the bootloader
        (1, 16 * _K, READ_ERASE_WRITE),
        (1, 64 * _K, READ_ERASE_WRITE),
        (7, 128 * _K, READ_ERASE_WRITE),
    ],
    count_digits=2,
)
DCT_GEN3 = layout("DCT Flash", 0x00000000, [(1, 16 * _K, READ_WRITE)])
DCT_STM32 = layout("DCT Flash", 0x00000000, [(1, 16 * _K, READ_ERASE_WRITE)], count_digits=2)
P1_SERIAL_FLASH = layout("Serial Flash", 0x00000000, [(256, _PAGE, READ_ERASE_WRITE)], count_digits=2)

_NRF_8MB_EXTERNAL = frozenset({"b5som", "tracker", "esomx"})
"""nRF platforms whose external flash has 2048 pages instead of 1024."""

NRF_LEGACY_USER_START = 0xD4000
NRF_USER_START = 0xB4000
RTL_USER_END = 0x08600000


def nrf_external(pages: int) -> FlashLayout:
    return layout("External Flash", 0x80000000, [(pages, _PAGE, READ_ERASE_WRITE)])


def dfu_layouts(board: Board) -> tuple[FlashLayout, ...]:
    """The memories behind DFU alt settings 0, 1, (2) of this platform."""
    if board.family is Family.NRF52840:
        return NRF_INTERNAL, DCT_GEN3, nrf_external(2048 if board.name in _NRF_8MB_EXTERNAL else 1024)
    if board.family is Family.RTL872X:
        return RTL_INTERNAL, DCT_GEN3
    if board.name == "p1":
        return STM32_INTERNAL, DCT_STM32, P1_SERIAL_FLASH
    return STM32_INTERNAL, DCT_STM32


@dataclass(frozen=True)
class DfuStrings:
    """String descriptor indexes of the DFU-mode bootloader."""

    first_interface: int
    """iInterface of alt 0; the next alts count up from it."""
    error: int


def dfu_strings(board: Board) -> DfuStrings:
    """nRF52840: iInterface 6/7/8, error string 10; RTL872x: 5/6, error 7 (Device OS
    ``bootloader/src/{nRF52840,rtl872x}/usbd_dfu.h``)."""
    if board.family is Family.NRF52840:
        return DfuStrings(first_interface=6, error=10)
    if board.family is Family.RTL872X:
        return DfuStrings(first_interface=5, error=7)
    # The STM32 bootloader's string indexes are the simulator's choice (not confirmed in a public source).
    return DfuStrings(first_interface=4, error=7)


def dfuse_commands(board: Board) -> bytes:
    """What UPLOAD wValue 0 returns: the DfuSe commands the bootloader supports (``00 21 41 FA FB`` on nRF/RTL,
    Device OS ``bootloader/src/nRF52840/usbd_dfu.cpp``; the DfuSe 1.1a basic set on STM32)."""
    if board.gen3_or_later:
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


def module_slots(board: Board) -> tuple[ModuleSlot, ...]:
    """Module slots in boot-scan order: bootloader(s), system part(s), user part(s)."""
    boot, system, user = ModuleFunction.BOOTLOADER, ModuleFunction.SYSTEM_PART, ModuleFunction.USER_PART
    if board.family is Family.NRF52840:
        return (
            ModuleSlot(boot, 0xF4000, 48 * _K, 0x200),
            ModuleSlot(system, 0x28000, 560 * _K, 0x200),  # Device OS 6.2.0+
            ModuleSlot(system, 0x30000, 528 * _K, 0x200),  # up to 6.1.x
            ModuleSlot(user, NRF_LEGACY_USER_START, 128 * _K, 0),
            ModuleSlot(user, NRF_USER_START, 256 * _K, 0),
        )
    if board.family is Family.RTL872X:
        # Prebootloader sizes are the simulator's choice: only their start addresses are public
        # (Device OS bootloader/prebootloader/src/rtl872x/*/build.mk).
        return (
            ModuleSlot(boot, 0x08004000, 64 * _K, 0x20),
            ModuleSlot(boot, 0x08000000, 16 * _K, 0x20),
            ModuleSlot(boot, 0x08014000, 0x08060000 - 0x08014000, 0),
            ModuleSlot(system, 0x08060000, 1536 * _K, 0),
            ModuleSlot(user, None, 2048 * _K, 0, end=RTL_USER_END),
        )
    if board.family is Family.STM32F2:
        if board.name == "electron":
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
    raise SimulationError(f"{board.name} has no simulated module layout")


def user_part_dependency_index(board: Board) -> int:
    """The system part index a user part depends on: 2 on Gen 2, 1 elsewhere (the Tinker binaries in particle-cli
    ``assets/knownApps``)."""
    return 2 if board.family is Family.STM32F2 else 1


def has_ncp(board: Board) -> bool:
    """Argon and Tracker carry an ESP32 network co-processor reported as an NCP module (device-constants
    ``ncpFirmware``)."""
    return board.name in ("argon", "tracker")


def has_radio_stack(board: Board) -> bool:
    """nRF52840 platforms report the SoftDevice as a radio-stack module."""
    return board.family is Family.NRF52840
