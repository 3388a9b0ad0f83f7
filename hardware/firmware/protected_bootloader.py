"""Make a bootloader module protected: add the SECURITY_MODE suffix extension (mode 1, PROTECTED) and reseal it, as
particle-cli's ``binary enable-device-protection`` does (binary-version-reader createProtectedModule).

Facts: Device OS dynalib/inc/module_info.h (extension type 0x0013: type u16, length u16, mode u8, optional DER
certificate; MODULE_INFO_SECURITY_MODE_PROTECTED = 1) and build/arm/linker/linker_module_end.ld (suffix extensions
sit in front of the 36-byte base suffix; the suffix size counts them; the prefix's end address, the SHA-256 over the
file but its last 38 bytes and the CRC-32 over all but its last 4 bytes cover the grown file); particle-cli
src/cmd/binary.js (only a bootloader, index 0; a legacy 40-byte product suffix becomes a PRODUCT_DATA extension).
"""

from __future__ import annotations

import hashlib
import struct
import zlib

from hardware.errors import FirmwareError
from hardware.firmware.extensions import (
    EndExtension,
    ModuleExtension,
    ProductDataExtension,
    SecurityModeExtension,
    encode_extension,
)
from hardware.firmware.format import (
    CRC_SIZE,
    SUFFIX_BASE_SIZE,
    SUFFIX_WITH_PRODUCT_SIZE,
    ModuleFunction,
    SecurityMode,
)
from hardware.firmware.module import FirmwareModule
from hardware.firmware.parser import parse_module

_SHA256_SIZE = 32
_END_ADDRESS_OFFSET = 4
"""module_end_address is the prefix's second u32 (module_info.h)."""


def is_protected_bootloader(module: FirmwareModule) -> bool:
    return any(
        isinstance(e, SecurityModeExtension) and e.mode == SecurityMode.PROTECTED for e in module.suffix_extensions
    )


def protect_bootloader(module: FirmwareModule) -> FirmwareModule:
    """The bootloader with a SECURITY_MODE PROTECTED extension; the same module when it already has one.

    FirmwareError for anything but an intact bootloader (index 0)."""
    where = module.source or "the module"
    if module.function is not ModuleFunction.BOOTLOADER or module.index != 0:
        raise FirmwareError(f"{where} is a {module.describe()}, not a bootloader (index 0): only a bootloader can "
                            "carry Device Protection")
    if not module.is_intact or module.suffix_size is None or module.format_problems:
        raise FirmwareError(f"{where} is damaged (CRC, SHA-256 or suffix); use an intact Device OS bootloader")
    if is_protected_bootloader(module):
        return module
    data = module.data[: module.file_size]
    size = module.suffix_size
    head_start = len(data) - CRC_SIZE - size
    extensions: list[ModuleExtension] = [SecurityModeExtension(SecurityMode.PROTECTED)]
    if size == SUFFIX_WITH_PRODUCT_SIZE and module.product_id is not None:
        extensions.append(ProductDataExtension(module.product_id, module.product_version or 0))
    elif size > SUFFIX_WITH_PRODUCT_SIZE:
        extensions += [e for e in module.suffix_extensions if not isinstance(e, SecurityModeExtension | EndExtension)]
    head = b"".join(encode_extension(e) for e in extensions)
    if len(head) == SUFFIX_WITH_PRODUCT_SIZE - SUFFIX_BASE_SIZE:  # 40 bytes would read as legacy product data
        head += encode_extension(EndExtension())
    reserved = data[len(data) - CRC_SIZE - SUFFIX_BASE_SIZE : len(data) - CRC_SIZE - SUFFIX_BASE_SIZE + 2]
    body = bytearray(data[:head_start] + head + reserved)
    file_size = len(body) + _SHA256_SIZE + 2 + CRC_SIZE
    end_address = module.start_address + file_size - CRC_SIZE
    struct.pack_into("<I", body, module.prefix_offset + _END_ADDRESS_OFFSET, end_address)
    unsealed = bytes(body) + hashlib.sha256(body).digest() + struct.pack("<H", SUFFIX_BASE_SIZE + len(head))
    sealed = unsealed + (zlib.crc32(unsealed) & 0xFFFFFFFF).to_bytes(CRC_SIZE, "big")
    source = module.source.removesuffix(".bin") + "-protected.bin" if module.source else None
    protected = parse_module(sealed, source=source)
    if not protected.is_intact or not is_protected_bootloader(protected):
        raise FirmwareError(f"protecting {where} produced a module that does not read back intact")  # pragma: no cover
    return protected
