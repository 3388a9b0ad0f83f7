"""Build synthetic, format-faithful Particle module binaries in memory for fixtures, simulated devices and tests.

Built from the format facts (Device OS dynalib/inc/module_info.h and the platforms' linker scripts): a prefix at the
platform's usual offset, deterministic filler as the "code", a suffix with product data and extensions, a real
SHA-256 and CRC-32.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence

from hardware.firmware import (
    Dependency,
    DynamicLocationExtension,
    EndExtension,
    ModuleExtension,
    ModuleFlag,
    ModuleFunction,
    ProductDataExtension,
    encode_extension,
    parse_module,
)
from hardware.firmware.format import (
    CRC_SIZE,
    PREFIX_SIZE,
    PRODUCT_NOT_SET,
    SHA256_FROM_END,
    SUFFIX_BASE_SIZE,
    SUFFIX_WITH_PRODUCT_SIZE,
)
from hardware.platforms import McuFamily, Platform, UserPartRule, by_id, parse_platform

_NRF, _RTL = McuFamily.NRF52840, McuFamily.RTL872X
_STM32 = (McuFamily.STM32F1, McuFamily.STM32F2)

# Flash addresses of the modules other than user parts (Device OS build/arm/linker/ scripts); user parts come from
# the platform table.
_SYSTEM_PART_STARTS = {
    (McuFamily.STM32F2, "photon", 1): 0x08020000,
    (McuFamily.STM32F2, "photon", 2): 0x08060000,
    (McuFamily.STM32F2, "electron", 1): 0x08020000,
    (McuFamily.STM32F2, "electron", 2): 0x08040000,
    (McuFamily.STM32F2, "electron", 3): 0x08060000,
    (_NRF, "", 1): 0x28000,
    (_RTL, "", 1): 0x08060000,
}
_BOOTLOADER_STARTS = {
    (McuFamily.STM32F2, 0): 0x08000000,
    (_NRF, 0): 0xF4000,
    (_RTL, 0): 0x08004000,
    (_RTL, 1): 0x08000000,
    (_RTL, 2): 0x08014000,
}
_NRF_SOFTDEVICE_START = 0x1000
_CORE_MONOLITHIC_START = 0x08005000
_PSRAM_BASE = 0x02000000
"""Synthetic dynalib run address for RTL872x DYNAMIC_LOCATION (the value is not checked by the station)."""
_STACK_TOP = 0x20040000
"""Initial stack pointer written in front of prefixes that do not sit at offset 0, like a real vector table."""


def _platform(platform: Platform | int | str) -> Platform:
    if isinstance(platform, Platform):
        return platform
    if isinstance(platform, int):
        return by_id(platform)
    return parse_platform(platform)


def default_start_address(platform: Platform | int | str, function: ModuleFunction, index: int, size: int) -> int:
    """Where a module of this kind is flashed on this platform; ValueError when the reference gives no address."""
    plat = _platform(platform)
    placement = plat.user_part
    if function is ModuleFunction.USER_PART:
        if placement.rule is UserPartRule.NRF_TWO_SLOTS and index == 1 and placement.legacy_start is not None:
            return placement.legacy_start
        if placement.rule is UserPartRule.END_ANCHORED and placement.end is not None:
            return placement.end - size
        if placement.start is not None:
            return placement.start
    family_key = "electron" if plat.name == "electron" else "photon" if plat.mcu is McuFamily.STM32F2 else ""
    if function is ModuleFunction.SYSTEM_PART and (plat.mcu, family_key, index) in _SYSTEM_PART_STARTS:
        return _SYSTEM_PART_STARTS[(plat.mcu, family_key, index)]
    if function is ModuleFunction.BOOTLOADER and (plat.mcu, index) in _BOOTLOADER_STARTS:
        return _BOOTLOADER_STARTS[(plat.mcu, index)]
    if function is ModuleFunction.RADIO_STACK and plat.mcu is _NRF:
        return _NRF_SOFTDEVICE_START
    if function is ModuleFunction.MONOLITHIC and plat.mcu is McuFamily.STM32F1:
        return _CORE_MONOLITHIC_START
    if function in (ModuleFunction.ASSET, ModuleFunction.NCP):
        return 0
    raise ValueError(f"no default flash address for a {function.description} {index} on {plat}; give start_address")


def default_prefix_offset(platform: Platform | int | str, function: ModuleFunction, index: int) -> int:
    """Where the prefix sits in the file for this kind of module (Device OS module_info.h, linker_module_start.ld)."""
    plat = _platform(platform)
    if function is ModuleFunction.MONOLITHIC and plat.mcu is McuFamily.STM32F1:
        return 0x10C
    if function in (ModuleFunction.SYSTEM_PART, ModuleFunction.BOOTLOADER):
        if plat.mcu in _STM32:
            return 0x184
        if plat.mcu is _NRF:
            return 0x200
        if plat.mcu is _RTL and function is ModuleFunction.BOOTLOADER and index in (0, 1):
            return 0x20
    return 0


def build_module(
    platform: Platform | int | str,
    function: ModuleFunction | int,
    index: int,
    version: int,
    start_address: int | None = None,
    size: int = 4096,
    dependencies: Sequence[Dependency | tuple[int, int, int]] = (),
    product_id: int | None = None,
    product_version: int | None = None,
    *,
    extended_suffix: bool | None = None,
    prefix_offset: int | None = None,
    flags: int = 0,
    reserved: int = 0,
    prefix_extensions: Sequence[ModuleExtension] = (),
    suffix_extensions: Sequence[ModuleExtension] = (),
    seed: int = 0,
    placeholder_checksums: bool = False,
) -> bytes:
    """A complete module binary of exactly ``size`` bytes that ``parse_module`` reads back field for field.

    ``platform`` is a Platform, an id or a name (an unknown integer id is allowed). ``start_address`` and
    ``prefix_offset`` default to where the reference puts this kind of module. ``extended_suffix`` (default: on for
    RTL872x user parts) writes DYNAMIC_LOCATION then PRODUCT_DATA (62-byte suffix); otherwise product data, when
    given, uses the 40-byte suffix, or a PRODUCT_DATA extension when ``suffix_extensions`` are given too.
    ``placeholder_checksums`` leaves the build placeholders instead of the real SHA-256 and CRC-32.
    """
    func = ModuleFunction(function)
    plat: Platform | None = None
    if isinstance(platform, int):
        platform_id = platform
        try:
            plat = by_id(platform)
        except LookupError:
            plat = None
    else:
        plat = _platform(platform)
        platform_id = plat.id
    if plat is None and (start_address is None or prefix_offset is None):
        raise ValueError(f"platform {platform} is unknown: give start_address and prefix_offset")
    if plat is not None:
        rtl_user = plat.mcu is _RTL and func is ModuleFunction.USER_PART
        if extended_suffix is None:
            extended_suffix = rtl_user
        if prefix_offset is None:
            prefix_offset = default_prefix_offset(plat, func, index)
        if start_address is None:
            start_address = default_start_address(plat, func, index, size)
    assert start_address is not None and prefix_offset is not None

    deps = [d if isinstance(d, Dependency) else Dependency(ModuleFunction(d[0]), d[1], d[2]) for d in dependencies]
    if len(deps) > 2:
        raise ValueError(f"a module prefix holds at most 2 dependencies, got {len(deps)}")
    deps += [Dependency(ModuleFunction.NONE, 0, 0)] * (2 - len(deps))

    pext = bytearray()
    if prefix_extensions:
        flags |= ModuleFlag.PREFIX_EXTENSIONS
        chain = list(prefix_extensions)
        if not isinstance(chain[-1], EndExtension):
            chain.append(EndExtension())
        pext = bytearray(b"".join(encode_extension(e) for e in chain))

    suffix_head = _suffix_head(
        start_address, prefix_offset, product_id, product_version, bool(extended_suffix), suffix_extensions
    )
    suffix_size = len(suffix_head) + SUFFIX_BASE_SIZE
    body_end = prefix_offset + PREFIX_SIZE + len(pext)
    filler_size = size - body_end - suffix_size - CRC_SIZE
    if filler_size < 0:
        raise ValueError(f"size {size} is too small: this module needs at least {size - filler_size} bytes")

    seed_bytes = repr((seed, platform_id, int(func), index, version, start_address)).encode()
    head = _vector_table(start_address, prefix_offset, seed_bytes)
    try:
        prefix = struct.pack(
            "<IIBBHHBBBBHBBH",
            start_address,
            start_address + size - CRC_SIZE,
            reserved,
            flags,
            version,
            platform_id,
            int(func),
            index,
            *(value for dep in deps for value in (int(dep.function), dep.index, dep.version)),
        )
    except struct.error as exc:
        raise ValueError(f"a prefix field is out of range: {exc}") from None
    filler = hashlib.shake_256(b"filler" + seed_bytes).digest(filler_size)
    unsealed = bytearray(head + prefix + pext + filler + suffix_head + bytes(2))
    unsealed += bytes(32) + struct.pack("<H", suffix_size) + bytes(CRC_SIZE)
    if placeholder_checksums:
        unsealed[-SHA256_FROM_END:-6] = bytes(range(1, 33))
        unsealed[-CRC_SIZE:] = struct.pack("<I", 0x12345678)
        return bytes(unsealed)
    return seal(bytes(unsealed))


def _vector_table(start_address: int, prefix_offset: int, seed_bytes: bytes) -> bytes:
    if prefix_offset == 0:
        return b""
    filler = hashlib.shake_256(b"vectors" + seed_bytes).digest(prefix_offset)
    if prefix_offset < 8:
        return filler
    # Initial stack pointer, then a Thumb reset handler just after the prefix: never a valid prefix at offset 0.
    reset = (start_address + prefix_offset + PREFIX_SIZE + 0x100) | 1
    return struct.pack("<II", _STACK_TOP, reset & 0xFFFFFFFF) + filler[8:]


def _suffix_head(
    start_address: int,
    prefix_offset: int,
    product_id: int | None,
    product_version: int | None,
    extended: bool,
    extensions: Sequence[ModuleExtension],
) -> bytes:
    """The suffix bytes before its 36-byte base: extensions and product data."""
    has_product = product_id is not None or product_version is not None
    pid = PRODUCT_NOT_SET if product_id is None else product_id
    pver = PRODUCT_NOT_SET if product_version is None else product_version
    chain = list(extensions)
    if extended:
        dynalib_load = start_address + prefix_offset + PREFIX_SIZE
        chain.insert(0, DynamicLocationExtension(start_address, dynalib_load, _PSRAM_BASE))
    if chain and (has_product or extended):
        # PRODUCT_DATA goes last so that the product fields stay at -44/-42 from the end.
        chain.append(ProductDataExtension(pid, pver))
    if chain:
        encoded = b"".join(encode_extension(e) for e in chain)
        if len(encoded) == SUFFIX_WITH_PRODUCT_SIZE - SUFFIX_BASE_SIZE:
            # A 40-byte suffix always means legacy product data, so pad a lone 4-byte extension with END.
            encoded += encode_extension(EndExtension())
        return encoded
    if has_product:
        return struct.pack("<HH", pid, pver)
    return b""


def seal(data: bytes) -> bytes:
    """``data`` with its SHA-256 and CRC-32 recomputed (after a test or a tool edited the module)."""
    body = bytearray(data)
    body[-SHA256_FROM_END:-6] = hashlib.sha256(bytes(body[:-SHA256_FROM_END])).digest()
    return reseal_crc(bytes(body))


def reseal_crc(data: bytes) -> bytes:
    """``data`` with only its CRC-32 recomputed (big-endian over everything but the last 4 bytes)."""
    crc = zlib.crc32(data[:-CRC_SIZE]) & 0xFFFFFFFF
    return data[:-CRC_SIZE] + crc.to_bytes(CRC_SIZE, "big")


def with_bad_crc(data: bytes) -> bytes:
    """A copy whose stored CRC-32 is wrong (everything else intact)."""
    return data[:-1] + bytes((data[-1] ^ 0xFF,))


def with_bad_sha256(data: bytes) -> bytes:
    """A copy with one code byte changed and the CRC-32 recomputed: only the SHA-256 check fails."""
    module = parse_module(data)
    code_start = module.prefix_offset + PREFIX_SIZE
    code_end = len(data) - CRC_SIZE - (module.suffix_size or SUFFIX_BASE_SIZE)
    position = (code_start + code_end) // 2
    changed = bytearray(data)
    changed[position] ^= 0x5A
    return reseal_crc(bytes(changed))
