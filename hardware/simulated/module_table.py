"""The module table a simulated device builds at boot: it reads each module slot of its flash, checks prefix,
range, platform and CRC, then resolves dependencies — as Device OS does before reporting request 90."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from hardware.simulated import memory_map, versions
from hardware.simulated.flash import FlashAccessError
from hardware.simulated.memory_map import ModuleSlot
from hardware.simulated.module_format import CRC_SIZE, PREFIX_SIZE, ModuleFunction, ModuleStore, ModuleValidity
from hardware.simulated.module_image import Dependency, ModuleImage, ModulePrefix, dynamic_start
from hardware.simulated.platform_facts import Board

ReadFlash = Callable[[int, int], bytes]

ALL_CHECKS = ModuleValidity.INTEGRITY | ModuleValidity.DEPENDENCIES | ModuleValidity.RANGE | ModuleValidity.PLATFORM
_SCAN_STEP = 4096
_TAIL = 128


@dataclass(frozen=True)
class ModuleRecord:
    """One row of the device's module table."""

    function: ModuleFunction
    index: int
    version: int
    start: int
    size: int
    """Bytes of the module image including its CRC."""
    max_size: int
    dependencies: tuple[Dependency, ...]
    sha256: bytes
    checked: ModuleValidity
    passed: ModuleValidity
    store: ModuleStore = ModuleStore.MAIN
    product: tuple[int, int] | None = None

    @property
    def valid(self) -> bool:
        return self.passed == self.checked

    @property
    def integrity_ok(self) -> bool:
        return ModuleValidity.INTEGRITY in self.passed


def virtual_module(function: ModuleFunction, index: int, version: int, board: Board) -> ModuleRecord:
    """A module that lives outside the scanned flash (SoftDevice, NCP firmware on a co-processor)."""
    digest = hashlib.sha256(f"{board.name}/{function.name}/{index}/{version}".encode()).digest()
    return ModuleRecord(function, index, version, 0, 0, 0, (), digest, ALL_CHECKS, ALL_CHECKS)


def _record(image_data: bytes, prefix: ModulePrefix, slot: ModuleSlot, board: Board) -> ModuleRecord:
    image = ModuleImage(image_data, prefix, slot.prefix_offset)
    passed = ModuleValidity.RANGE | ModuleValidity.DEPENDENCIES
    if prefix.platform_id == board.id:
        passed |= ModuleValidity.PLATFORM
    if image.crc_ok:
        passed |= ModuleValidity.INTEGRITY
    return ModuleRecord(
        function=ModuleFunction(prefix.function),
        index=prefix.index,
        version=prefix.version,
        start=prefix.start,
        size=prefix.image_size,
        max_size=slot.max_size,
        dependencies=prefix.dependencies,
        sha256=image.sha256,
        checked=ALL_CHECKS,
        passed=passed,
        product=image.product,
    )


def _read_at(read: ReadFlash, start: int, slot: ModuleSlot, board: Board) -> ModuleRecord | None:
    try:
        prefix = ModulePrefix.unpack(read(start + slot.prefix_offset, PREFIX_SIZE))
    except FlashAccessError:  # the slot lies outside this memory: nothing there
        return None
    if not prefix.plausible() or prefix.start != start or prefix.function != slot.function:
        return None
    if prefix.image_size > slot.max_size:
        return None
    return _record(read(start, prefix.image_size), prefix, slot, board)


def _end_anchored_start(read: ReadFlash, slot: ModuleSlot) -> int | None:
    """RTL872x user part: its suffix names its start (DYNAMIC_LOCATION); else look for a prefix that ends here."""
    assert slot.end is not None
    located = dynamic_start(read(slot.end - _TAIL, _TAIL))
    if located is not None:
        return located
    for start in range(slot.end - _SCAN_STEP, slot.end - slot.max_size - 1, -_SCAN_STEP):
        head = read(start, 8)
        if int.from_bytes(head[:4], "little") == start and int.from_bytes(head[4:], "little") == slot.end - CRC_SIZE:
            return start
    return None


def scan_slot(read: ReadFlash, slot: ModuleSlot, board: Board) -> ModuleRecord | None:
    start = slot.start if slot.start is not None else _end_anchored_start(read, slot)
    if start is None:
        return None
    return _read_at(read, start, slot, board)


def resolve_dependencies(records: Iterable[ModuleRecord]) -> tuple[ModuleRecord, ...]:
    """Clear the DEPENDENCIES bit of every module whose dependencies are not met by an intact module."""
    rows = tuple(records)
    resolved = []
    for row in rows:
        met = all(
            any(
                other.function == dep.function
                and other.index == dep.index
                and other.version >= dep.version
                and other.integrity_ok
                for other in rows
            )
            for dep in row.dependencies
        )
        passed = row.passed | ModuleValidity.DEPENDENCIES if met else row.passed & ~ModuleValidity.DEPENDENCIES
        resolved.append(replace(row, passed=passed))
    return tuple(resolved)


def read_module_table(read: ReadFlash, board: Board, ncp_version: int | None) -> tuple[ModuleRecord, ...]:
    """What the device reports at boot: bootloaders, the best system part per index, the user part that runs
    (the first intact one in slot order, so nRF52840's 0xD4000 app beats 0xB4000), then off-flash modules."""
    found = [r for slot in memory_map.module_slots(board) if (r := scan_slot(read, slot, board))]
    rows: list[ModuleRecord] = [m for m in found if m.function is ModuleFunction.BOOTLOADER]
    systems: dict[int, ModuleRecord] = {}
    for row in (m for m in found if m.function is ModuleFunction.SYSTEM_PART):
        best = systems.get(row.index)
        if best is None or (row.integrity_ok, row.version) > (best.integrity_ok, best.version):
            systems[row.index] = row
    rows += sorted(systems.values(), key=lambda m: m.index)
    users = [m for m in found if m.function is ModuleFunction.USER_PART]
    user = next((m for m in users if m.integrity_ok), users[0] if users else None)
    rows += [user] if user else []
    if memory_map.has_radio_stack(board):
        rows.append(virtual_module(ModuleFunction.RADIO_STACK, 0, versions.RADIO_STACK_VERSION, board))
    if ncp_version is not None:
        rows.append(virtual_module(ModuleFunction.NCP, 0, ncp_version, board))
    return resolve_dependencies(rows)
