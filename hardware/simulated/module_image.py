"""How a simulated device reads a Particle module binary: 24-byte prefix, suffix fields, CRC (the format facts are
in ``module_format``, from Device OS ``dynalib/inc/module_info.h`` and binary-version-reader)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hardware.simulated.errors import SimulationError
from hardware.simulated.module_format import (
    CRC_SIZE,
    DEPENDENCY,
    DEPENDENCY_OFFSETS,
    EXTENSION_HEADER,
    PREFIX,
    PREFIX_OFFSETS,
    PREFIX_SIZE,
    PRODUCT_ID_FROM_END,
    SHA256_FROM_END,
    SUFFIX_BASE_SIZE,
    SUFFIX_SIZE_FROM_END,
    SUFFIX_WITH_PRODUCT_SIZE,
    ExtensionType,
    ModuleFunction,
    crc_matches,
)


@dataclass(frozen=True)
class Dependency:
    function: int
    index: int
    version: int


@dataclass(frozen=True)
class ModulePrefix:
    start: int
    end: int
    """Exclusive end address: the CRC is stored at ``end``, so the file is ``end − start + 4`` bytes long."""
    mcu_target: int
    flags: int
    version: int
    platform_id: int
    function: int
    index: int
    dependencies: tuple[Dependency, ...]

    @classmethod
    def unpack(cls, raw: bytes) -> ModulePrefix:
        if len(raw) < PREFIX_SIZE:
            raise SimulationError(f"module prefix needs {PREFIX_SIZE} bytes, got {len(raw)}")
        start, end, target, flags, version, platform_id, function, index = PREFIX.unpack_from(raw, 0)
        deps = tuple(
            Dependency(*DEPENDENCY.unpack_from(raw, offset))
            for offset in DEPENDENCY_OFFSETS
            if raw[offset : offset + 4] != b"\x00\x00\x00\x00"
        )
        return cls(start, end, target, flags, version, platform_id, function, index, deps)

    def pack(self) -> bytes:
        head = PREFIX.pack(
            self.start, self.end, self.mcu_target, self.flags, self.version, self.platform_id, self.function, self.index
        )
        deps = [DEPENDENCY.pack(d.function, d.index, d.version) for d in self.dependencies[:2]]
        deps += [b"\x00" * 4] * (2 - len(deps))
        return head + b"".join(deps)

    @property
    def image_size(self) -> int:
        return self.end - self.start + CRC_SIZE

    def plausible(self) -> bool:
        """The sanity test binary-version-reader applies before trusting a prefix."""
        known = {int(f) for f in ModuleFunction}
        return self.end > self.start and self.function != 0 and self.function in known


@dataclass(frozen=True)
class ModuleImage:
    """A module binary with its prefix located."""

    data: bytes
    prefix: ModulePrefix
    prefix_offset: int

    @classmethod
    def parse(cls, data: bytes) -> ModuleImage:
        for offset in PREFIX_OFFSETS:
            if offset + PREFIX_SIZE > len(data):
                continue
            prefix = ModulePrefix.unpack(data[offset : offset + PREFIX_SIZE])
            if prefix.plausible() and prefix.image_size <= len(data):
                return cls(bytes(data[: prefix.image_size]), prefix, offset)
        raise SimulationError(
            f"a {len(data)}-byte image has no module prefix at offsets "
            + ", ".join(f"0x{o:X}" for o in PREFIX_OFFSETS)
            + "; pass a Particle module binary"
        )

    @property
    def crc_ok(self) -> bool:
        return crc_matches(self.data)

    @property
    def suffix_size(self) -> int:
        return int.from_bytes(self.data[-SUFFIX_SIZE_FROM_END : -CRC_SIZE], "little")

    @property
    def sha256(self) -> bytes:
        """The suffix's SHA-256 field (fwUniqueId)."""
        return self.data[-SHA256_FROM_END:-SUFFIX_SIZE_FROM_END]

    @property
    def product(self) -> tuple[int, int] | None:
        """(product id, product version) when the suffix carries product data."""
        if self.suffix_size < SUFFIX_WITH_PRODUCT_SIZE or len(self.data) < PRODUCT_ID_FROM_END:
            return None
        product_id, product_version = struct.unpack_from("<HH", self.data, len(self.data) - PRODUCT_ID_FROM_END)
        return product_id, product_version


def dynamic_start(tail: bytes) -> int | None:
    """Module start from a DYNAMIC_LOCATION suffix extension; ``tail`` = the module's last suffix-size + 4 bytes."""
    suffix_size = int.from_bytes(tail[-SUFFIX_SIZE_FROM_END : -CRC_SIZE], "little")
    if suffix_size <= SUFFIX_WITH_PRODUCT_SIZE or suffix_size + CRC_SIZE > len(tail):
        return None
    region = tail[len(tail) - CRC_SIZE - suffix_size : len(tail) - CRC_SIZE - SUFFIX_BASE_SIZE]
    position = 0
    while position + 4 <= len(region):
        kind, length = EXTENSION_HEADER.unpack_from(region, position)
        if kind in (ExtensionType.END, ExtensionType.INVALID) or length < 4:
            return None
        if kind == ExtensionType.DYNAMIC_LOCATION and length >= 8:
            return int(struct.unpack_from("<I", region, position + 4)[0])
        position += length
    return None
