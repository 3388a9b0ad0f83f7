"""The platform facts a simulated device puts on the wire: platform id (module prefixes, the ``s`` console reply),
USB vendor and product ids (device descriptor), product string, MCU family and radios, and the control-OUT data-stage
quirk.

Written from @particle/device-constants ``src/constants.json`` (ids, ``usb``/``dfu`` VID:PID pairs, ``baseMcu``,
``features``, quirks) as particle-usb reads it (``src/platforms.js``, ``src/device-base.js``); not taken from the
host's ``hardware.platforms``, so a host that gets an id wrong meets a device that does not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.simulated.errors import SimulationError

PARTICLE_VENDOR_ID = 0x2B04
"""Vendor id of every Particle device the simulator models (device-constants ``usb``/``dfu`` entries)."""
NORMAL_PRODUCT_BASE = 0xC000
DFU_PRODUCT_BASE = 0xD000
"""Product id = base + platform id: 0xC000 in normal mode, 0xD000 in DFU mode (device-constants)."""


class Family(enum.Enum):
    """device-constants ``baseMcu`` of the families the simulator models."""

    STM32F2 = "stm32f2xx"
    NRF52840 = "nrf52840"
    RTL872X = "rtl872x"


@dataclass(frozen=True)
class Board:
    """One simulated platform as the wire shows it."""

    name: str
    """device-constants name, e.g. ``boron``."""
    id: int
    product: str
    """USB iProduct in normal mode; DFU mode appends `` DFU Mode`` (Device OS ``hal/src/*/usbd_device.cpp``)."""
    family: Family
    wifi: bool = False
    cellular: bool = False

    @property
    def vendor_id(self) -> int:
        return PARTICLE_VENDOR_ID

    @property
    def product_id(self) -> int:
        return NORMAL_PRODUCT_BASE + self.id

    @property
    def dfu_product_id(self) -> int:
        return DFU_PRODUCT_BASE + self.id

    @property
    def gen3_or_later(self) -> bool:
        """nRF52840 and RTL872x: Device OS builds both with PLATFORM_GEN=3 (Device OS ``build/platform-id.mk``)."""
        return self.family is not Family.STM32F2

    @property
    def control_out_needs_data_stage(self) -> bool:
        """device-constants quirk ``controlOutTransfersRequireDataStage`` (normal mode of every RTL872x platform)."""
        return self.family is Family.RTL872X


_STM, _NRF, _RTL = Family.STM32F2, Family.NRF52840, Family.RTL872X

BOARDS: tuple[Board, ...] = (
    Board("photon", 6, "Photon", _STM, wifi=True),
    Board("p1", 8, "P1", _STM, wifi=True),
    Board("electron", 10, "Electron", _STM, cellular=True),
    Board("argon", 12, "Argon", _NRF, wifi=True),
    Board("boron", 13, "Boron", _NRF, cellular=True),
    Board("xenon", 14, "Xenon", _NRF),
    Board("esomx", 15, "E-SoM-X", _NRF, cellular=True),
    Board("asom", 22, "A-SoM", _NRF, wifi=True),
    Board("bsom", 23, "B SoM", _NRF, cellular=True),
    Board("xsom", 24, "X-SoM", _NRF),
    Board("b5som", 25, "B5 SoM", _NRF, cellular=True),
    Board("tracker", 26, "Tracker", _NRF, cellular=True),
    Board("trackerm", 28, "Tracker M", _RTL, wifi=True, cellular=True),
    Board("p2", 32, "P2", _RTL, wifi=True),
    Board("msom", 35, "M-SoM", _RTL, wifi=True, cellular=True),
    Board("electron2", 37, "Electron 2", _NRF, cellular=True),
    Board("sulu", 38, "Sulu", _RTL, wifi=True, cellular=True),
)
_BY_NAME = {b.name: b for b in BOARDS}


def board(name: str) -> Board:
    """The simulated platform of this device-constants name; SimulationError for one the simulator does not model."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise SimulationError(
            f"{name} cannot be simulated: only nRF52840, RTL872x and STM32F2 (Gen 2) platforms are modelled"
        ) from None
