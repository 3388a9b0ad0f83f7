"""The flash of a simulated device and the firmware in it: one FlashMemory per DFU alt setting, the factory
modules, the module table read at boot, the Device OS release it implies, and an update staged for the next boot.

Not thread-safe on its own: the owning device's lock guards it.
"""

from __future__ import annotations

from hardware.simulated import memory_map, versions
from hardware.simulated.errors import SimulationError
from hardware.simulated.factory import write_factory_modules
from hardware.simulated.faults import damage
from hardware.simulated.flash import FlashAccessError, FlashMemory
from hardware.simulated.module_format import ModuleFunction
from hardware.simulated.module_image import ModuleImage
from hardware.simulated.module_table import ModuleRecord, read_module_table
from hardware.simulated.platform_facts import Board
from hardware.simulated.test_firmware import TestFirmwareManifest, find_manifest


class FirmwareStore:
    """Flash memories and module table of one device; ``label`` names the device in error messages."""

    def __init__(self, board: Board, device_os: str, *, user_part: bool, seed: str, label: str) -> None:
        self.board = board
        self.label = label
        # The DCT (alt 1) is rewritten in place by Device OS; the other memories behave like NOR flash.
        self.memories = {
            alt: FlashMemory(layout, nor=alt != 1) for alt, layout in enumerate(memory_map.dfu_layouts(board))
        }
        self.device_os = device_os
        self.ncp_version = versions.NCP_MODULE_VERSION if memory_map.has_ncp(board) else None
        self.modules: tuple[ModuleRecord, ...] = ()
        self.pending_update: ModuleImage | None = None
        self.test_firmware: TestFirmwareManifest | None = None
        """The manifest of the running user part when it is test firmware (read at every scan), else None."""
        write_factory_modules(self.memories[0], board, device_os, user_part, seed)

    def memory(self, alt: int = 0) -> FlashMemory:
        try:
            return self.memories[alt]
        except KeyError:
            raise SimulationError(f"{self.label} has DFU alt settings 0..{len(self.memories) - 1}, not {alt}") from None

    # --- what the module table says ------------------------------------------------------------------------------

    @property
    def bootloader_version(self) -> int | None:
        return next((m.version for m in self.modules if m.function is ModuleFunction.BOOTLOADER and m.index == 0), None)

    @property
    def running_user_part(self) -> ModuleRecord | None:
        """The user part that boots: the first intact one in slot order (on nRF52840 the 0xD4000 app wins over the
        0xB4000 one, as its bootloader decides; Device OS ``bootloader/src/nRF52840``)."""
        return next((m for m in self.modules if m.function is ModuleFunction.USER_PART and m.integrity_ok), None)

    @property
    def system_ok(self) -> bool:
        """An intact, valid system part: without one the bootloader stays in DFU mode."""
        return any(m.function is ModuleFunction.SYSTEM_PART and m.valid for m in self.modules)

    @property
    def user_ok(self) -> bool:
        """A user part that runs; otherwise Device OS boots into safe mode."""
        user = self.running_user_part
        return user is not None and user.valid

    # --- changing it ---------------------------------------------------------------------------------------------

    def install(self, image: ModuleImage, *, corrupt: bool = False) -> None:
        """Write a module where its prefix says (NCP, radio stack and assets live outside the modelled flash)."""
        prefix = image.prefix
        if prefix.function == ModuleFunction.NCP:
            self.ncp_version = prefix.version
            return
        if prefix.function in (ModuleFunction.ASSET, ModuleFunction.RADIO_STACK):
            return
        memory = self.memories[0]
        memory.erase_covering(prefix.start, len(image.data))
        memory.program(prefix.start, damage(image.data) if corrupt else image.data)

    def apply_pending(self, *, corrupt: bool) -> None:
        """At boot: install the staged update, if any (``corrupt``: a write fault damages it)."""
        if self.pending_update is not None:
            self.install(self.pending_update, corrupt=corrupt)
            self.pending_update = None

    def scan(self) -> None:
        """Read the module table as the device does at boot, and the release its system part implies."""
        self.modules = read_module_table(self.memories[0].read, self.board, self.ncp_version)
        intact = [m for m in self.modules if m.function is ModuleFunction.SYSTEM_PART and m.integrity_ok]
        if intact:
            known = versions.release_of_system_version(min(intact, key=lambda m: m.index).version)
            self.device_os = known or self.device_os
        self.test_firmware = self._test_manifest()

    def _test_manifest(self) -> TestFirmwareManifest | None:
        user = self.running_user_part
        if user is None or not user.size:
            return None
        try:
            return find_manifest(self.memories[0].read(user.start, user.size))
        except FlashAccessError:
            return None
