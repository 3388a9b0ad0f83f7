"""The parsed form of a Particle module binary: ``FirmwareModule`` and its ``Dependency`` records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TypeVar

from hardware.errors import UnknownPlatformError
from hardware.firmware.extensions import (
    DynamicLocationExtension,
    HashExtension,
    ModuleExtension,
    NameExtension,
)
from hardware.firmware.format import (
    BUILD_PLACEHOLDER_CRC,
    BUILD_PLACEHOLDER_SHA256,
    CRC_SIZE,
    KIND_OF_FUNCTION,
    NRF52840_LEGACY_SLOT_INVALIDATION_MIN_VERSION,
    PREFIX_SIZE,
    ModuleFlag,
    ModuleFunction,
    ModuleKind,
    flag_names,
)
from hardware.firmware.versions import bootloader_version_to_device_os, module_version_to_device_os
from hardware.platforms import McuFamily, Platform, by_id

_T = TypeVar("_T")


@dataclass(frozen=True)
class Dependency:
    """A module this one needs on the device: its function, index and minimum version."""

    function: ModuleFunction
    index: int
    version: int

    @property
    def is_empty(self) -> bool:
        """An unused dependency slot (all zero)."""
        return self.function is ModuleFunction.NONE and self.index == 0 and self.version == 0

    @property
    def device_os_version(self) -> str | None:
        """The Device OS release this dependency's version belongs to (system parts and bootloaders only)."""
        if self.function is ModuleFunction.SYSTEM_PART:
            return module_version_to_device_os(self.version)
        if self.function is ModuleFunction.BOOTLOADER:
            return bootloader_version_to_device_os(self.version)
        return None

    def __str__(self) -> str:
        text = f"{self.function.description} {self.index}, version {self.version}"
        release = self.device_os_version
        return f"{text} (Device OS {release})" if release else text


@dataclass(frozen=True)
class FirmwareModule:
    """Everything in a Particle module binary's prefix and suffix, the integrity checks, and the raw bytes."""

    prefix_offset: int
    """Where the 24-byte prefix sits in the file (0, 0x184, 0x200, 0x20, 0x10C, ...)."""
    start_address: int
    """Flash address of byte 0 of the file; the address the module is written to (RTL872x user parts: end - size)."""
    end_address: int
    """Exclusive end address; the CRC starts here, so a complete file is end - start + 4 bytes long."""
    reserved: int
    """Prefix byte 8: the MCU target on Gen 3 (0 on most modules)."""
    flags: ModuleFlag
    version: int
    """module_version: for system parts and user-part dependencies see ``versions.module_version_to_device_os``."""
    platform_id: int
    function: ModuleFunction
    index: int
    prefix_dependencies: tuple[Dependency, Dependency]
    """Both dependency slots of the prefix, empty ones included."""
    prefix_extensions: tuple[ModuleExtension, ...]
    suffix_size: int | None
    """Suffix size in bytes without the CRC (36, 40, 62 on RTL872x, ...); None when the file is truncated."""
    product_id: int | None
    """None when the suffix holds no product data (suffix < 40) or the field is 0xFFFF (not set)."""
    product_version: int | None
    fw_unique_id: bytes | None
    """The SHA-256 stored in the suffix; None when the file is truncated."""
    suffix_extensions: tuple[ModuleExtension, ...]
    crc_stored: int
    crc_computed: int
    sha256_computed: bytes
    """SHA-256 over the file without its last 38 bytes: what ``fw_unique_id`` must equal."""
    file_size: int
    format_problems: tuple[str, ...] = ()
    """Structural damage found while parsing (bad suffix size, broken extension chain); empty when well formed."""
    data: bytes = field(default=b"", repr=False, compare=False)
    source: str | None = field(default=None, compare=False)
    """The file path the module came from (for messages), or None for bytes from memory."""

    # --- identity -------------------------------------------------------------------------------------------------

    @property
    def platform(self) -> Platform | None:
        """The platform this module is built for, or None when the platform id is unknown."""
        try:
            return by_id(self.platform_id)
        except UnknownPlatformError:
            return None

    @property
    def platform_name(self) -> str:
        platform = self.platform
        return f"{platform.display_name} (platform {self.platform_id})" if platform else f"platform {self.platform_id}"

    @property
    def kind(self) -> ModuleKind:
        return KIND_OF_FUNCTION.get(self.function, ModuleKind.OTHER)

    @property
    def is_user_part(self) -> bool:
        return self.function is ModuleFunction.USER_PART

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        """The dependencies that are set (empty slots left out)."""
        return tuple(dep for dep in self.prefix_dependencies if not dep.is_empty)

    @property
    def system_dependency(self) -> Dependency | None:
        """The system part this module needs (a user part's minimum Device OS), if any."""
        return next((d for d in self.dependencies if d.function is ModuleFunction.SYSTEM_PART), None)

    @property
    def flag_names(self) -> list[str]:
        return flag_names(self.flags)

    def describe(self) -> str:
        """Short words for messages, e.g. ``user part 2 version 6 for Boron (platform 13)``."""
        return f"{self.function.description} {self.index} version {self.version} for {self.platform_name}"

    def __str__(self) -> str:
        where = f" in {self.source}" if self.source else ""
        return self.describe() + where

    # --- size and placement ---------------------------------------------------------------------------------------

    @property
    def declared_size(self) -> int:
        """The file length the prefix promises: end - start + 4."""
        return self.end_address - self.start_address + CRC_SIZE

    @property
    def is_truncated(self) -> bool:
        """The file is shorter than its prefix says (cut off during download or copy)."""
        return self.file_size < self.declared_size

    @property
    def trailing_bytes(self) -> int:
        """Bytes after the module's declared end (0 for a well-formed file)."""
        return max(0, self.file_size - self.declared_size)

    @property
    def payload_for_flash(self) -> bytes:
        """The bytes to write at ``start_address``: without the first 24 when flags are exactly DROP_MODULE_INFO."""
        if self.flags == ModuleFlag.DROP_MODULE_INFO:
            return self.data[PREFIX_SIZE:]
        return self.data

    @property
    def invalidates_legacy_user_part(self) -> bool:
        """An nRF52840 user part for the 256 K slot: the 128 K slot at 0xD4000 must be erased, or it wins."""
        platform = self.platform
        dep = self.system_dependency
        return (
            self.is_user_part
            and platform is not None
            and platform.mcu is McuFamily.NRF52840
            and dep is not None
            and dep.version >= NRF52840_LEGACY_SLOT_INVALIDATION_MIN_VERSION
        )

    # --- integrity ------------------------------------------------------------------------------------------------

    @property
    def crc_ok(self) -> bool:
        return self.crc_stored == self.crc_computed

    @property
    def sha256_ok(self) -> bool:
        return self.fw_unique_id is not None and self.fw_unique_id == self.sha256_computed

    @property
    def crc_is_placeholder(self) -> bool:
        """The CRC field still holds the build's placeholder: the build never finished the file."""
        return self.data[-CRC_SIZE:] == BUILD_PLACEHOLDER_CRC

    @property
    def sha256_is_placeholder(self) -> bool:
        return self.fw_unique_id == BUILD_PLACEHOLDER_SHA256

    @property
    def is_intact(self) -> bool:
        """Complete, well formed, and both the CRC-32 and the SHA-256 match."""
        return self.crc_ok and self.sha256_ok and not self.is_truncated and not self.format_problems

    @property
    def sha256(self) -> str | None:
        """The stored SHA-256 (``fwUniqueId``) as lower-case hex."""
        return self.fw_unique_id.hex() if self.fw_unique_id is not None else None

    @property
    def file_sha256(self) -> str:
        """SHA-256 of the whole file (what ``sha256sum`` prints), lower-case hex."""
        return hashlib.sha256(self.data).hexdigest()

    # --- extensions -----------------------------------------------------------------------------------------------

    @property
    def dynamic_location(self) -> DynamicLocationExtension | None:
        return _first(self.suffix_extensions, DynamicLocationExtension)

    @property
    def name(self) -> str | None:
        """The NAME suffix extension (asset file name), if any."""
        found = _first(self.suffix_extensions, NameExtension)
        return found.name if found else None

    @property
    def content_hash(self) -> HashExtension | None:
        """The HASH suffix extension (assets are matched on the device by it), if any."""
        return _first(self.suffix_extensions, HashExtension)


def _first(extensions: tuple[ModuleExtension, ...], kind: type[_T]) -> _T | None:
    for extension in extensions:
        if isinstance(extension, kind):
            return extension
    return None
