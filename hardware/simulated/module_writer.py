"""Write the module binaries a simulated device ships with, in the format its own reader (``module_image``)
understands: vector table, 24-byte prefix, filler "code", suffix (product data or the RTL872x extended suffix),
SHA-256 and CRC-32.

The layout follows Device OS ``dynalib/inc/module_info.h`` and ``build/arm/linker/linker_module_end.ld``; the host's
module builder (``hardware/firmware_builder.py``) is a separate implementation, so factory modules written here are
read back by the host's parser as an independent check.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from hardware.simulated.module_format import (
    CRC_SIZE,
    DEPENDENCY,
    DYNAMIC_LOCATION_BODY,
    EXTENSION_HEADER,
    PREFIX,
    PREFIX_SIZE,
    PRODUCT_DATA_BODY,
    PRODUCT_NOT_SET,
    SHA256_FROM_END,
    SUFFIX_BASE_SIZE,
    ExtensionType,
    crc32,
)

STACK_TOP = 0x20040000
"""Initial stack pointer written in front of a prefix that does not sit at offset 0, as in a Cortex-M vector table."""
DYNALIB_START = 0x02000000
"""Synthetic dynalib run address of the RTL872x DYNAMIC_LOCATION extension (PSRAM base)."""


@dataclass(frozen=True)
class ModuleSpec:
    platform_id: int
    function: int
    index: int
    version: int
    start: int
    size: int
    prefix_offset: int = 0
    dependencies: Sequence[tuple[int, int, int]] = ()
    """(function, index, version) of at most two modules this one needs."""
    product: tuple[int, int] | None = None
    """(product id, product version) in the suffix; None writes the base suffix only."""
    dynamic_location: bool = False
    """RTL872x user parts: DYNAMIC_LOCATION then PRODUCT_DATA extensions (62-byte suffix), product fields at -44/-42."""


def _prefix(spec: ModuleSpec) -> bytes:
    head = PREFIX.pack(
        spec.start, spec.start + spec.size - CRC_SIZE, 0, 0, spec.version, spec.platform_id, spec.function, spec.index
    )
    deps = [DEPENDENCY.pack(*dep) for dep in spec.dependencies]
    if len(deps) > 2:
        raise ValueError("a module prefix holds at most two dependencies")
    return head + b"".join(deps) + bytes(DEPENDENCY.size * (2 - len(deps)))


def _suffix_head(spec: ModuleSpec) -> bytes:
    """The suffix bytes in front of its 36-byte base."""
    product_id, product_version = spec.product or (PRODUCT_NOT_SET, PRODUCT_NOT_SET)
    if spec.dynamic_location:
        location = DYNAMIC_LOCATION_BODY.pack(spec.start, spec.start + spec.prefix_offset + PREFIX_SIZE, DYNALIB_START)
        product = PRODUCT_DATA_BODY.pack(0xFFFF, product_id, product_version)
        return (
            EXTENSION_HEADER.pack(ExtensionType.DYNAMIC_LOCATION, EXTENSION_HEADER.size + len(location))
            + location
            + EXTENSION_HEADER.pack(ExtensionType.PRODUCT_DATA, EXTENSION_HEADER.size + len(product))
            + product
        )
    if spec.product is not None:
        return struct.pack("<HH", product_id, product_version)
    return b""


def write_module(spec: ModuleSpec, seed: bytes) -> bytes:
    """A complete module binary of ``spec.size`` bytes with a real SHA-256 and CRC-32; ``seed`` picks the filler."""
    head = b""
    if spec.prefix_offset:
        reset_handler = (spec.start + spec.prefix_offset + PREFIX_SIZE + 0x100) | 1
        filler = hashlib.shake_256(b"vectors" + seed).digest(spec.prefix_offset)
        head = (struct.pack("<II", STACK_TOP, reset_handler) + filler[8:])[: spec.prefix_offset]
    suffix_head = _suffix_head(spec)
    suffix_size = len(suffix_head) + SUFFIX_BASE_SIZE
    code_size = spec.size - len(head) - PREFIX_SIZE - suffix_size - CRC_SIZE
    if code_size < 0:
        raise ValueError(f"a {spec.size}-byte module is too small for its prefix and suffix")
    body = head + _prefix(spec) + hashlib.shake_256(b"code" + seed).digest(code_size) + suffix_head + bytes(2)
    digest = hashlib.sha256(body).digest()
    assert len(body) == spec.size - SHA256_FROM_END
    unsealed = body + digest + struct.pack("<H", suffix_size)
    return unsealed + crc32(unsealed).to_bytes(CRC_SIZE, "big")
