"""One table of Particle platforms: id, names, MCU family, USB ids, radio, and where user firmware goes."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.errors import UnknownPlatformError

PARTICLE_VENDOR_ID = 0x2B04
"""Vendor id of every Particle device except the Spark Core (@particle/device-constants 4.2.1 src/constants.json)."""

SPARK_VENDOR_ID = 0x1D50
"""The Spark Core's vendor id."""


class McuFamily(enum.Enum):
    STM32F1 = "stm32f1xx"
    STM32F2 = "stm32f2xx"
    NRF52840 = "nrf52840"
    RTL872X = "rtl872x"
    QCM6490 = "qcm6490"


class Radio(enum.Flag):
    NONE = 0
    WIFI = enum.auto()
    CELLULAR = enum.auto()


class UserPartRule(enum.Enum):
    """How the user part is placed in flash (Device OS build/arm/linker/*/platform_flash.ld; v2.3.1 linker.ld files)."""

    FIXED = "fixed"
    """The user part starts at a fixed address taken from the binary's prefix."""
    NRF_TWO_SLOTS = "nrf-two-slots"
    """nRF52840: 128 K app at 0xD4000 (Device OS <= 3.0) or 256 K app at 0xB4000 (>= 3.1); 0xD4000 wins if valid."""
    END_ANCHORED = "end-anchored"
    """RTL872x: the user part ends at 0x08600000, so its start moves with its size."""
    MONOLITHIC = "monolithic"
    """Spark Core: one monolithic image."""
    NONE = "none"
    """Linux-based platforms: no user part over DFU."""


@dataclass(frozen=True)
class UserPartPlacement:
    rule: UserPartRule
    start: int | None = None
    """Fixed start address (FIXED) or the 256 K slot start (NRF_TWO_SLOTS)."""
    end: int | None = None
    """Exclusive end address (END_ANCHORED)."""
    max_size: int | None = None
    legacy_start: int | None = None
    """nRF52840 128 K slot (0xD4000) that wins over the 256 K slot when it holds a valid app."""
    legacy_max_size: int | None = None


@dataclass(frozen=True)
class Platform:
    id: int
    name: str
    """Device OS / device-constants name, e.g. ``boron``."""
    display_name: str
    product_names: tuple[str, ...]
    mcu: McuFamily
    generation: int
    """device-constants generation; host code branches on it (Wi-Fi requests, setup done)."""
    radio: Radio
    usb_vendor_id: int
    usb_product_id: int
    """Normal-mode product id."""
    dfu_product_id: int | None
    user_part: UserPartPlacement
    public: bool = True
    control_out_needs_data_stage: bool = False
    """Quirk Q: control OUT transfers need a one-byte data stage in normal mode (RTL872x)."""
    control_requests_supported: bool = True

    @property
    def is_cellular(self) -> bool:
        return Radio.CELLULAR in self.radio

    @property
    def is_wifi(self) -> bool:
        return Radio.WIFI in self.radio

    @property
    def gen3_or_later(self) -> bool:
        return self.mcu in (McuFamily.NRF52840, McuFamily.RTL872X)

    def __str__(self) -> str:
        return f"{self.display_name} ({self.name}, platform {self.id})"


_STM32_PHOTON_USER = UserPartPlacement(UserPartRule.FIXED, start=0x080A0000, max_size=128 * 1024)
_STM32_ELECTRON_USER = UserPartPlacement(UserPartRule.FIXED, start=0x08080000, max_size=128 * 1024)
_NRF_USER = UserPartPlacement(
    UserPartRule.NRF_TWO_SLOTS,
    start=0xB4000,
    max_size=256 * 1024,
    legacy_start=0xD4000,
    legacy_max_size=128 * 1024,
)
_RTL_USER = UserPartPlacement(UserPartRule.END_ANCHORED, end=0x08600000, max_size=2 * 1024 * 1024)
_CORE_USER = UserPartPlacement(UserPartRule.MONOLITHIC, start=0x08005000)
_WIFI, _CELL, _BOTH = Radio.WIFI, Radio.CELLULAR, Radio.WIFI | Radio.CELLULAR


def _p(
    pid: int,
    name: str,
    display: str,
    products: tuple[str, ...],
    mcu: McuFamily,
    gen: int,
    radio: Radio,
    user: UserPartPlacement,
    **extra: bool,
) -> Platform:
    rtl = mcu is McuFamily.RTL872X
    return Platform(
        id=pid,
        name=name,
        display_name=display,
        product_names=products,
        mcu=mcu,
        generation=gen,
        radio=radio,
        usb_vendor_id=PARTICLE_VENDOR_ID,
        usb_product_id=0xC000 + pid,
        dfu_product_id=0xD000 + pid,
        user_part=user,
        control_out_needs_data_stage=rtl,
        **extra,
    )


_NRF, _STM, _RTL = McuFamily.NRF52840, McuFamily.STM32F2, McuFamily.RTL872X

PLATFORMS: tuple[Platform, ...] = (
    Platform(
        id=0,
        name="core",
        display_name="Core",
        product_names=("Spark Core",),
        mcu=McuFamily.STM32F1,
        generation=1,
        radio=_WIFI,
        usb_vendor_id=SPARK_VENDOR_ID,
        usb_product_id=0x607D,
        dfu_product_id=0x607F,
        user_part=_CORE_USER,
    ),
    _p(6, "photon", "Photon", ("Photon", "P0"), _STM, 2, _WIFI, _STM32_PHOTON_USER),
    _p(8, "p1", "P1", ("P1",), _STM, 2, _WIFI, _STM32_PHOTON_USER),
    _p(
        10,
        "electron",
        "Electron",
        ("Electron", "E Series", "E310", "E313", "E314", "E402", "E404"),
        _STM,
        2,
        _CELL,
        _STM32_ELECTRON_USER,
    ),
    _p(12, "argon", "Argon", ("Argon",), _NRF, 3, _WIFI, _NRF_USER),
    _p(13, "boron", "Boron", ("Boron",), _NRF, 3, _CELL, _NRF_USER),
    _p(14, "xenon", "Xenon", ("Xenon",), _NRF, 3, Radio.NONE, _NRF_USER),
    _p(15, "esomx", "E-SoM-X", ("E-SoM-X", "E404X"), _NRF, 3, _CELL, _NRF_USER),
    _p(22, "asom", "A-SoM", ("A-SoM",), _NRF, 3, _WIFI, _NRF_USER, public=False),
    _p(23, "bsom", "B SoM", ("B SoM", "B402", "B404", "B404X"), _NRF, 3, _CELL, _NRF_USER),
    _p(24, "xsom", "X-SoM", ("X-SoM",), _NRF, 3, Radio.NONE, _NRF_USER, public=False),
    _p(25, "b5som", "B5 SoM", ("B5 SoM", "B523", "B524"), _NRF, 3, _CELL, _NRF_USER),
    _p(26, "tracker", "Tracker", ("Tracker SoM", "Tracker One", "Monitor One"), _NRF, 3, _CELL, _NRF_USER),
    _p(28, "trackerm", "Tracker M", ("Tracker M",), _RTL, 3, _BOTH, _RTL_USER),
    _p(32, "p2", "P2", ("P2", "Photon 2"), _RTL, 4, _WIFI, _RTL_USER),
    _p(35, "msom", "M-SoM", ("M-SoM", "M404", "M524", "M635", "Muon"), _RTL, 4, _BOTH, _RTL_USER),
    _p(37, "electron2", "Electron 2", ("Electron 2",), _NRF, 3, _CELL, _NRF_USER),
    _p(38, "sulu", "Sulu", ("Sulu",), _RTL, 4, _BOTH, _RTL_USER, public=False),
    Platform(
        id=42,
        name="tachyon",
        display_name="Tachyon",
        product_names=("Tachyon",),
        mcu=McuFamily.QCM6490,
        generation=-1,
        radio=_BOTH,
        usb_vendor_id=PARTICLE_VENDOR_ID,
        usb_product_id=0xC02A,
        dfu_product_id=None,
        user_part=UserPartPlacement(UserPartRule.NONE),
        control_requests_supported=False,
    ),
)

_ALIASES = {"photon2": "p2", "e-series": "electron", "eseries": "electron", "b-som": "bsom", "m-som": "msom"}
_BY_ID = {p.id: p for p in PLATFORMS}
_BY_NAME = {p.name: p for p in PLATFORMS}


def by_id(platform_id: int) -> Platform:
    """The platform with this Device OS platform id."""
    try:
        return _BY_ID[platform_id]
    except KeyError:
        raise UnknownPlatformError(f"unknown platform id {platform_id}") from None


def by_name(name: str) -> Platform:
    """The platform named ``name`` (Device OS name, alias such as ``photon2``, or a product name such as ``B404X``)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in _BY_NAME:
        return _BY_NAME[key]
    for platform in PLATFORMS:
        if any(key == product.lower() for product in platform.product_names):
            return platform
    known = ", ".join(p.name for p in PLATFORMS)
    raise UnknownPlatformError(f"unknown platform {name!r}; known platforms: {known}")


def parse_platform(text: str) -> Platform:
    """A platform from a name or a decimal id, as typed on a command line or in a profile."""
    candidate = text.strip()
    if candidate.isascii() and candidate.isdigit():  # str.isdigit() is also true for '²', which int() refuses
        return by_id(int(candidate))
    return by_name(text)


@dataclass(frozen=True)
class UsbMatch:
    platform: Platform
    dfu: bool


def by_usb_id(vendor_id: int, product_id: int) -> UsbMatch:
    """The platform and mode (normal or DFU) of a USB device with these ids."""
    for platform in PLATFORMS:
        if platform.usb_vendor_id != vendor_id:
            continue
        if platform.usb_product_id == product_id:
            return UsbMatch(platform, dfu=False)
        if platform.dfu_product_id == product_id:
            return UsbMatch(platform, dfu=True)
    raise UnknownPlatformError(f"USB device {vendor_id:04x}:{product_id:04x} is not a Particle device")


def is_particle_usb_id(vendor_id: int, product_id: int) -> bool:
    try:
        by_usb_id(vendor_id, product_id)
    except UnknownPlatformError:
        return False
    return True
