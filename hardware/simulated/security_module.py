"""The SECURITY_MODE suffix extension of a bootloader module, as a simulated device reads it at boot (protected iff
present with mode 1) and as the simulator writes it to make a device protected or open.

Facts: Device OS dynalib/inc/module_info.h (extension type 0x0013, type u16 / length u16 / mode u8 [/ DER
certificate]; MODULE_INFO_SECURITY_MODE_PROTECTED = 1) and build/arm/linker/linker_module_end.ld (suffix extensions
sit in front of the 36-byte base suffix; the suffix size, the prefix's end address, SHA-256 and CRC-32 cover them).
The host's own writer is hardware/firmware/protected_bootloader.py; the two check each other.
"""

from __future__ import annotations

import hashlib
import struct

from hardware.simulated import protection_facts as pf
from hardware.simulated.module_format import (
    CRC_SIZE,
    EXTENSION_HEADER,
    PRODUCT_DATA_BODY,
    SHA256_FROM_END,
    SUFFIX_BASE_SIZE,
    SUFFIX_SIZE_FROM_END,
    SUFFIX_WITH_PRODUCT_SIZE,
    ExtensionType,
    crc32,
)
from hardware.simulated.module_image import ModuleImage

_END_ADDRESS_OFFSET = 4
"""module_end_address is the prefix's second u32."""


def _suffix_size(data: bytes) -> int:
    return int.from_bytes(data[-SUFFIX_SIZE_FROM_END:-CRC_SIZE], "little")


def _extensions(data: bytes) -> list[tuple[int, bytes]]:
    """(type, whole record) of each suffix extension, in order."""
    size = _suffix_size(data)
    if size <= SUFFIX_WITH_PRODUCT_SIZE or size + CRC_SIZE > len(data):
        return []
    region = data[len(data) - CRC_SIZE - size : len(data) - CRC_SIZE - SUFFIX_BASE_SIZE]
    found, position = [], 0
    while position + EXTENSION_HEADER.size <= len(region):
        kind, length = EXTENSION_HEADER.unpack_from(region, position)
        if kind == ExtensionType.INVALID or length < EXTENSION_HEADER.size or position + length > len(region):
            break
        found.append((kind, region[position : position + length]))
        position += length
        if kind == ExtensionType.END:
            break
    return found


def security_mode(data: bytes) -> int:
    """The SECURITY_MODE value in a module's suffix (0 = none when there is no such extension)."""
    for kind, record in _extensions(data):
        if kind == pf.SECURITY_MODE_EXTENSION and len(record) > EXTENSION_HEADER.size:
            return record[EXTENSION_HEADER.size]
    return pf.SECURITY_MODE_NONE


def with_security_mode(data: bytes, protected: bool) -> bytes:
    """The module with its SECURITY_MODE extension added (protected) or removed, resealed."""
    image = ModuleImage.parse(data)
    data = image.data
    size = _suffix_size(data)
    head_start = len(data) - CRC_SIZE - size
    base = data[len(data) - CRC_SIZE - SUFFIX_BASE_SIZE : len(data) - SHA256_FROM_END]  # the reserved u16
    if size == SUFFIX_WITH_PRODUCT_SIZE:
        product_id, product_version = struct.unpack_from("<HH", data, head_start)
        body = PRODUCT_DATA_BODY.pack(0xFFFF, product_id, product_version)
        records = [EXTENSION_HEADER.pack(ExtensionType.PRODUCT_DATA, EXTENSION_HEADER.size + len(body)) + body]
    else:
        records = [r for k, r in _extensions(data) if k not in (pf.SECURITY_MODE_EXTENSION, ExtensionType.END)]
    if protected:
        records.insert(0, EXTENSION_HEADER.pack(pf.SECURITY_MODE_EXTENSION, 5) + bytes([pf.SECURITY_MODE_PROTECTED]))
    head = b"".join(records)
    if len(head) == SUFFIX_WITH_PRODUCT_SIZE - SUFFIX_BASE_SIZE:
        head += EXTENSION_HEADER.pack(ExtensionType.END, EXTENSION_HEADER.size)  # 40 would read as legacy data
    new_size = SUFFIX_BASE_SIZE + len(head)
    body_bytes = bytearray(data[:head_start] + head + base)
    total = len(body_bytes) + 32 + 2 + CRC_SIZE
    end_at = image.prefix_offset + _END_ADDRESS_OFFSET
    struct.pack_into("<I", body_bytes, end_at, image.prefix.start + total - CRC_SIZE)
    unsealed = bytes(body_bytes) + hashlib.sha256(body_bytes).digest() + struct.pack("<H", new_size)
    return unsealed + crc32(unsealed).to_bytes(CRC_SIZE, "big")
