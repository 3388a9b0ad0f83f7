"""The Particle module binary format as a simulated device reads and writes it: the 24-byte prefix, the suffix read
backwards from the CRC, the suffix extensions it needs, module functions, stores and validity bits.

Written from Device OS ``dynalib/inc/module_info.h`` / ``module_info.inc`` and ``build/arm/linker/
linker_module_end.ld``, and binary-version-reader ``lib/HalModuleParser.js`` / ``lib/ModuleInfo.js``; not imported
from the host's ``hardware.firmware``, so the host's parser and the device's reader check each other.
"""

from __future__ import annotations

import enum
import struct
import zlib

# --- Prefix (module_info_t, little-endian) -------------------------------------------------------------------------

PREFIX = struct.Struct("<IIBBHHBB")
"""module_start_address, module_end_address (exclusive; the CRC is stored there), reserved (MCU target on Gen 3),
flags, module_version, platform_id, module_function, module_index (module_info.h)."""
DEPENDENCY = struct.Struct("<BBH")
"""module_function, module_index, module_version of a dependency (module_info.h)."""
DEPENDENCY_OFFSETS = (16, 20)
"""The prefix holds two dependencies; an absent one is all zero (module_info.h)."""
PREFIX_SIZE = PREFIX.size + DEPENDENCY.size * len(DEPENDENCY_OFFSETS)

PREFIX_OFFSETS = (0, 0x200, 0x184, 0x20, 0x10C)
"""Where a module's prefix sits in its file: 0 user parts, NCP, radio stack, RTL872x system part; 0x200 nRF52840
system part and bootloader; 0x184 STM32 system parts and bootloader; 0x20 RTL872x bootloader and prebootloader-mbr;
0x10C Spark Core (Device OS linker scripts ``build/arm/linker/*``; binary-version-reader HalModuleParser.js)."""


class ModuleFunction(enum.IntEnum):
    """``module_function`` (module_info.h)."""

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


class ModuleStore(enum.IntEnum):
    """Where a module lives (module_info.h)."""

    MAIN = 0
    FACTORY = 1
    BACKUP = 2
    SCRATCHPAD = 3


class ModuleValidity(enum.IntFlag):
    """Validation bits a device reports per module (module_info.h; binary-version-reader ModuleInfo.js)."""

    NONE = 0
    INTEGRITY = 0x02
    DEPENDENCIES = 0x04
    RANGE = 0x08
    PLATFORM = 0x10


# --- Suffix (linker_module_end.ld; binary-version-reader HalModuleParser.js) ---------------------------------------

CRC_SIZE = 4
"""CRC-32 (zlib/IEEE) over the whole file but its last four bytes, stored big-endian in them."""
SUFFIX_SIZE_FROM_END = 6
"""u16 LE suffix size (CRC not counted), just before the CRC."""
SHA256_FROM_END = 38
"""32-byte SHA-256 over [0, len - 38) (the "fwUniqueId"), before the suffix size."""
SUFFIX_BASE_SIZE = 36
"""reserved u16, SHA-256, suffix size u16: the suffix without product data."""
SUFFIX_WITH_PRODUCT_SIZE = 40
"""Base suffix preceded by product id u16 and product version u16 (at -44 and -42 from the end)."""
PRODUCT_ID_FROM_END = 44
PRODUCT_NOT_SET = 0xFFFF
"""What the linker writes for product id and version without PRODUCT_VERSION()."""


class ExtensionType(enum.IntEnum):
    """Type u16 of a suffix extension (module_info.h); each extension is type u16,
    length u16 (header included), body."""

    END = 0x0000
    PRODUCT_DATA = 0x0001
    DYNAMIC_LOCATION = 0x0002
    SECURITY_MODE = 0x0013
    INVALID = 0xFFFF


EXTENSION_HEADER = struct.Struct("<HH")
PRODUCT_DATA_BODY = struct.Struct("<HHH")
"""u16 0xFFFF, u16 product id, u16 product version (PRODUCT_DATA, 10 bytes with its header)."""
DYNAMIC_LOCATION_BODY = struct.Struct("<III")
"""u32 module start, u32 dynalib load address, u32 dynalib start (DYNAMIC_LOCATION, 16 bytes with its header)."""


def crc32(data: bytes) -> int:
    """The module CRC: zlib's CRC-32 (polynomial 0x04C11DB7 reflected, init and final XOR 0xFFFFFFFF)."""
    return zlib.crc32(data) & 0xFFFFFFFF


def crc_matches(image: bytes) -> bool:
    if len(image) < CRC_SIZE:
        return False
    return crc32(image[:-CRC_SIZE]) == int.from_bytes(image[-CRC_SIZE:], "big")
