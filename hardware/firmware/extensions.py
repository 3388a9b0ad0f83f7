"""Prefix and suffix extensions of a module binary: typed records, decoding (never raising) and encoding.

Each extension is type u16, length u16 (including these 4 bytes), then a body (Device OS 6.2.0
dynalib/inc/module_info.h, module_info_extension_t).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from hardware.firmware.format import EXTENSION_HEADER_SIZE, ExtensionType


@dataclass(frozen=True)
class ProductDataExtension:
    """Product id and version (RTL872x suffixes carry them this way, ending at the usual -44/-42 offsets)."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.PRODUCT_DATA
    product_id: int
    product_version: int
    reserved: int = 0xFFFF


@dataclass(frozen=True)
class DynamicLocationExtension:
    """Where a relocatable (RTL872x) module is stored and where its dynalib table is loaded from and run."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.DYNAMIC_LOCATION
    module_start: int
    dynalib_load_address: int
    dynalib_start_address: int


@dataclass(frozen=True)
class DependencyExtension:
    """An extra dependency on another module, optionally on another MCU (``target_id``)."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.DEPENDENCY
    function: int
    index: int
    version: int
    target_id: int = 0


@dataclass(frozen=True)
class HashExtension:
    """A hash of the module's content (type 0 = SHA-256); assets are identified on the device by it."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.HASH
    hash_type: int
    digest: bytes


@dataclass(frozen=True)
class NameExtension:
    TYPE: ClassVar[ExtensionType] = ExtensionType.NAME
    name: str


@dataclass(frozen=True)
class AssetDependencyExtension:
    """An asset the application needs: its hash and file name."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.ASSET_DEPENDENCY
    hash_type: int
    digest: bytes
    name: str


@dataclass(frozen=True)
class SecurityModeExtension:
    """Device Protection mode (1 = protected), with an optional certificate."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.SECURITY_MODE
    mode: int
    certificate: bytes = b""


@dataclass(frozen=True)
class AssetTypeExtension:
    TYPE: ClassVar[ExtensionType] = ExtensionType.ASSET_TYPE
    asset_type: int
    reserved: int = 0


@dataclass(frozen=True)
class EndExtension:
    """The END record; its length may include padding bytes."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.END
    padding: int = 0


@dataclass(frozen=True)
class UnknownExtension:
    """An extension type this station does not know; kept as raw bytes."""

    type: int
    body: bytes


ModuleExtension = (
    ProductDataExtension
    | DynamicLocationExtension
    | DependencyExtension
    | HashExtension
    | NameExtension
    | AssetDependencyExtension
    | SecurityModeExtension
    | AssetTypeExtension
    | EndExtension
    | UnknownExtension
)


def extension_type(extension: ModuleExtension) -> int:
    """The type number of any extension record."""
    if isinstance(extension, UnknownExtension):
        return extension.type
    return int(extension.TYPE)


@dataclass(frozen=True)
class ExtensionScan:
    """The result of reading a chain of extensions: what was read and, if the chain was damaged, why it stopped."""

    extensions: tuple[ModuleExtension, ...]
    end_offset: int
    """File offset just after the last extension read (after END when there was one)."""
    found_end: bool
    problem: str | None = None


def decode_extensions(data: bytes, start: int, limit: int, *, where: str) -> ExtensionScan:
    """Read extensions from ``data[start:limit]`` until END, an 0xFFFF type, or the limit. Never raises."""
    found: list[ModuleExtension] = []
    offset = start
    while offset + EXTENSION_HEADER_SIZE <= limit:
        ext_type, length = struct.unpack_from("<HH", data, offset)
        if ext_type == ExtensionType.INVALID:
            return ExtensionScan(tuple(found), offset, False)
        if length < EXTENSION_HEADER_SIZE or offset + length > limit:
            problem = (
                f"{where} extension at file offset {offset:#x} (type {ext_type:#06x}) claims {length} bytes, "
                f"which does not fit"
            )
            return ExtensionScan(tuple(found), offset, False, problem)
        body = data[offset + EXTENSION_HEADER_SIZE : offset + length]
        decoded = _decode_body(ext_type, body)
        if decoded is None:
            problem = f"{where} extension at file offset {offset:#x} (type {ext_type:#06x}) is too short to read"
            return ExtensionScan(tuple(found), offset, False, problem)
        found.append(decoded)
        offset += length
        if ext_type == ExtensionType.END:
            return ExtensionScan(tuple(found), offset, True)
    return ExtensionScan(tuple(found), offset, False)


def _decode_body(ext_type: int, body: bytes) -> ModuleExtension | None:
    """One extension's typed record, or None when its body is shorter than its type needs."""
    size = len(body)
    if ext_type == ExtensionType.END:
        return EndExtension(padding=size)
    if ext_type == ExtensionType.PRODUCT_DATA:
        if size < 6:
            return None
        reserved, product_id, product_version = struct.unpack_from("<HHH", body)
        return ProductDataExtension(product_id, product_version, reserved)
    if ext_type == ExtensionType.DYNAMIC_LOCATION:
        if size < 12:
            return None
        return DynamicLocationExtension(*struct.unpack_from("<III", body))
    if ext_type == ExtensionType.DEPENDENCY:
        if size < 8:
            return None
        return DependencyExtension(*struct.unpack_from("<BBHI", body))
    if ext_type in (ExtensionType.HASH, ExtensionType.ASSET_DEPENDENCY):
        if size < 2 or 2 + body[1] > size:
            return None
        digest = body[2 : 2 + body[1]]
        if ext_type == ExtensionType.HASH:
            return HashExtension(body[0], digest)
        return AssetDependencyExtension(body[0], digest, _text(body[2 + body[1] :]))
    if ext_type == ExtensionType.NAME:
        return NameExtension(_text(body))
    if ext_type == ExtensionType.SECURITY_MODE:
        if size < 1:
            return None
        return SecurityModeExtension(body[0], body[1:])
    if ext_type == ExtensionType.ASSET_TYPE:
        if size < 1:
            return None
        return AssetTypeExtension(body[0], body[1] if size > 1 else 0)
    return UnknownExtension(ext_type, body)


def _text(raw: bytes) -> str:
    # Names are UTF-8, possibly NUL-padded; a damaged name must not stop the parse.
    return raw.rstrip(b"\0").decode("utf-8", errors="replace")


def encode_extension(extension: ModuleExtension) -> bytes:
    """The bytes of one extension record, header included."""
    body = _encode_body(extension)
    return struct.pack("<HH", extension_type(extension), EXTENSION_HEADER_SIZE + len(body)) + body


def _encode_body(extension: ModuleExtension) -> bytes:
    match extension:
        case EndExtension(padding=padding):
            return bytes(padding)
        case ProductDataExtension(product_id=pid, product_version=pver, reserved=reserved):
            return struct.pack("<HHH", reserved, pid, pver)
        case DynamicLocationExtension(module_start=a, dynalib_load_address=b, dynalib_start_address=c):
            return struct.pack("<III", a, b, c)
        case DependencyExtension(function=f, index=i, version=v, target_id=t):
            return struct.pack("<BBHI", f, i, v, t)
        case HashExtension(hash_type=t, digest=d):
            return bytes((t, len(d))) + d
        case AssetDependencyExtension(hash_type=t, digest=d, name=name):
            return bytes((t, len(d))) + d + name.encode()
        case NameExtension(name=name):
            return name.encode()
        case SecurityModeExtension(mode=mode, certificate=cert):
            return bytes((mode,)) + cert
        case AssetTypeExtension(asset_type=t, reserved=r):
            return bytes((t, r))
        case UnknownExtension(body=body):
            return body
    raise TypeError(f"not a module extension: {extension!r}")  # pragma: no cover - the union is exhaustive
