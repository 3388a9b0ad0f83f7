"""The Particle module binary format's constants: module functions, stores, flags, extension types and sizes.

Facts: Device OS 6.2.0 dynalib/inc/module_info.h and build/arm/linker/linker_module_end.ld (prefix, suffix,
extensions); binary-version-reader 3.1.3 lib/ModuleInfo.js; Device OS linker files (flash placement).
"""

from __future__ import annotations

import enum

PREFIX_SIZE = 24
"""``module_info_t``: start, end, reserved, flags, version, platform, function, index, two dependencies."""

CRC_SIZE = 4
SHA256_SIZE = 32
SUFFIX_BASE_SIZE = 36
"""Suffix without product data: reserved u16, SHA-256, suffix size u16 (the CRC is not counted)."""
SUFFIX_WITH_PRODUCT_SIZE = 40
"""Legacy suffix with product id and version in front of the base suffix."""
RTL872X_EXTENDED_SUFFIX_SIZE = 62
"""RTL872x user parts: DYNAMIC_LOCATION (16) + PRODUCT_DATA (10) extensions + base suffix (36)."""
EXTENSION_HEADER_SIZE = 4
"""Every extension starts with type u16 and length u16; the length includes these four bytes."""

PRODUCT_NOT_SET = 0xFFFF
"""The linker fills product id and version with 0xFFFF when the app sets no PRODUCT_VERSION()."""

# Offsets counted back from the end of the file (Device OS dynalib/inc/module_info.h, module_info_suffix_t).
CRC_FROM_END = 4
SUFFIX_SIZE_FROM_END = 6
SHA256_FROM_END = 38
RESERVED_FROM_END = 40
PRODUCT_VERSION_FROM_END = 42
PRODUCT_ID_FROM_END = 44

BUILD_PLACEHOLDER_CRC = bytes.fromhex("78563412")
"""What an unfinished build leaves in the CRC field: u32 0x12345678 written little-endian."""
BUILD_PLACEHOLDER_SHA256 = bytes(range(1, 33))
"""What an unfinished build leaves in the SHA-256 field: bytes 0x01..0x20."""

MAX_MODULE_FILE_SIZE = 16 * 1024 * 1024
"""Refuse anything larger: the largest Particle module (RTL872x system part) is 1.5 MB."""

PROBE_LIMIT = 8 * 1024
"""binary-version-reader probes every 4-byte offset up to 8 KB when no well-known prefix offset fits."""


class ModuleFunction(enum.IntEnum):
    """What a module is (``module_function`` in the prefix)."""

    NONE = 0
    RESOURCE = 1
    BOOTLOADER = 2
    MONOLITHIC = 3
    SYSTEM_PART = 4
    USER_PART = 5
    SETTINGS = 6
    NCP = 7
    RADIO_STACK = 8
    ASSET = 9

    @property
    def short_name(self) -> str:
        """Lower-case machine name, e.g. ``user`` or ``radio_stack`` (used in JSON output)."""
        return _SHORT_NAMES[self]

    @property
    def description(self) -> str:
        """Words for people, e.g. ``user part`` or ``NCP firmware``."""
        return _DESCRIPTIONS[self]

    @property
    def letter(self) -> str:
        """The one-letter code used by the serial console and binary-version-reader (``_`` when it has none)."""
        return _LETTERS[self]


_SHORT_NAMES = {
    ModuleFunction.NONE: "none",
    ModuleFunction.RESOURCE: "resource",
    ModuleFunction.BOOTLOADER: "bootloader",
    ModuleFunction.MONOLITHIC: "monolithic",
    ModuleFunction.SYSTEM_PART: "system",
    ModuleFunction.USER_PART: "user",
    ModuleFunction.SETTINGS: "settings",
    ModuleFunction.NCP: "ncp",
    ModuleFunction.RADIO_STACK: "radio_stack",
    ModuleFunction.ASSET: "asset",
}
_DESCRIPTIONS = {
    ModuleFunction.NONE: "no function",
    ModuleFunction.RESOURCE: "resource",
    ModuleFunction.BOOTLOADER: "bootloader",
    ModuleFunction.MONOLITHIC: "monolithic firmware",
    ModuleFunction.SYSTEM_PART: "system part",
    ModuleFunction.USER_PART: "user part",
    ModuleFunction.SETTINGS: "settings",
    ModuleFunction.NCP: "NCP firmware",
    ModuleFunction.RADIO_STACK: "radio stack",
    ModuleFunction.ASSET: "asset",
}
_LETTERS = {
    ModuleFunction.NONE: "n",
    ModuleFunction.RESOURCE: "r",
    ModuleFunction.BOOTLOADER: "b",
    ModuleFunction.MONOLITHIC: "m",
    ModuleFunction.SYSTEM_PART: "s",
    ModuleFunction.USER_PART: "u",
    ModuleFunction.SETTINGS: "_",
    ModuleFunction.NCP: "c",
    ModuleFunction.RADIO_STACK: "a",
    ModuleFunction.ASSET: "t",
}


class ModuleKind(enum.Enum):
    """How the station treats a module: what it is and so how and where it gets flashed."""

    BOOTLOADER = "bootloader"
    SYSTEM_PART = "system_part"
    USER_PART = "user_part"
    NCP = "ncp"
    RADIO_STACK = "radio_stack"
    ASSET = "asset"
    MONOLITHIC = "monolithic"
    OTHER = "other"
    """Resource, settings or no function: nothing the station flashes."""


KIND_OF_FUNCTION = {
    ModuleFunction.BOOTLOADER: ModuleKind.BOOTLOADER,
    ModuleFunction.SYSTEM_PART: ModuleKind.SYSTEM_PART,
    ModuleFunction.USER_PART: ModuleKind.USER_PART,
    ModuleFunction.NCP: ModuleKind.NCP,
    ModuleFunction.RADIO_STACK: ModuleKind.RADIO_STACK,
    ModuleFunction.ASSET: ModuleKind.ASSET,
    ModuleFunction.MONOLITHIC: ModuleKind.MONOLITHIC,
}


class ModuleStore(enum.IntEnum):
    """Where a module lives on the device (module info from the device, not the file)."""

    MAIN = 0
    FACTORY = 1
    BACKUP = 2
    SCRATCHPAD = 3


class ModuleFlag(enum.IntFlag):
    """``flags`` byte of the prefix."""

    NONE = 0
    DROP_MODULE_INFO = 0x01
    """The first 24 bytes (the prefix) are not written to flash, e.g. the nRF SoftDevice."""
    COMPRESSED = 0x02
    COMBINED = 0x04
    ENCRYPTED = 0x08
    PREFIX_EXTENSIONS = 0x10
    """Extensions follow the prefix and end with an END extension."""


def flag_names(flags: int) -> list[str]:
    """Lower-case names of the set flags, e.g. ``["drop_module_info"]``; unknown bits as ``unknown_0x40``."""
    names: list[str] = []
    for bit in range(8):
        value = 1 << bit
        if not flags & value:
            continue
        try:
            member = ModuleFlag(value)
        except ValueError:
            member = None
        names.append(member.name.lower() if member is not None and member.name else f"unknown_{value:#04x}")
    return names


class ModuleValidity(enum.IntFlag):
    """Validation bits a device reports per module (binary-version-reader uses the same values)."""

    NONE = 0
    INTEGRITY = 0x02
    DEPENDENCIES = 0x04
    RANGE = 0x08
    PLATFORM = 0x10
    PRODUCT = 0x20
    DEPENDENCIES_FULL = 0x40


class ExtensionType(enum.IntEnum):
    """Type field of a prefix or suffix extension."""

    END = 0x0000
    PRODUCT_DATA = 0x0001
    DYNAMIC_LOCATION = 0x0002
    DEPENDENCY = 0x0003
    HASH = 0x0010
    NAME = 0x0011
    ASSET_DEPENDENCY = 0x0012
    SECURITY_MODE = 0x0013
    ASSET_TYPE = 0x0014
    INVALID = 0xFFFF
    """Erased flash: parsing stops here."""


class HashType(enum.IntEnum):
    SHA256 = 0


class SecurityMode(enum.IntEnum):
    NONE = 0
    PROTECTED = 1


class AssetType(enum.IntEnum):
    DEFAULT = 0
    ENV_VARS_APP = 1
    ENV_VARS_SNAPSHOT = 2


PREFIX_OFFSETS = (0, 0x200, 0x184, 0x20, 0xC0, 0x10C)
"""Well-known prefix offsets, tried first (binary-version-reader 3.1.3 lib/HalModuleParser.js; Device OS linker
files): 0 user/NCP/radio/asset/RTL system part; 0x200 nRF52840 system part and bootloader; 0x184 STM32 system parts
and bootloader; 0x20 RTL872x bootloader; 0xC0 seen by binary-version-reader; 0x10C Spark Core monolithic."""

RTL872X_USER_PART_END = 0x08600000
"""RTL872x user parts are placed so that they end here: start = 0x08600000 - size."""

NRF52840_LEGACY_SLOT_INVALIDATION_MIN_VERSION = 3103
"""From this system dependency (Device OS 3.1.0) a user part goes to 0xB4000 and the 0xD4000 slot must be erased."""
