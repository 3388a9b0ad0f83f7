"""Parse Particle module binaries (prefix, suffix, CRC-32, SHA-256, product data) and validate them for a platform.

Facts: Device OS 6.2.0 dynalib/inc/module_info.h and binary-version-reader 3.1.3 lib/HalModuleParser.js (binary
format); Device OS linker files and particle-cli 3.43.1 src/lib/flash-helper.js (flash addresses);
@particle/device-constants 4.2.1 (platforms).

    module = load_module("app.bin")
    problems = validate_for(module, platforms.by_name("boron"), device_os_version="6.2.0")
"""

from hardware.firmware.extensions import (
    AssetDependencyExtension,
    AssetTypeExtension,
    DependencyExtension,
    DynamicLocationExtension,
    EndExtension,
    HashExtension,
    ModuleExtension,
    NameExtension,
    ProductDataExtension,
    SecurityModeExtension,
    UnknownExtension,
    decode_extensions,
    encode_extension,
    extension_type,
)
from hardware.firmware.format import (
    MAX_MODULE_FILE_SIZE,
    PREFIX_OFFSETS,
    PREFIX_SIZE,
    RTL872X_EXTENDED_SUFFIX_SIZE,
    RTL872X_USER_PART_END,
    SUFFIX_BASE_SIZE,
    SUFFIX_WITH_PRODUCT_SIZE,
    AssetType,
    ExtensionType,
    HashType,
    ModuleFlag,
    ModuleFunction,
    ModuleKind,
    ModuleStore,
    ModuleValidity,
    SecurityMode,
    flag_names,
)
from hardware.firmware.module import Dependency, FirmwareModule
from hardware.firmware.parser import MIN_MODULE_SIZE, load_module, parse_module
from hardware.firmware.validation import ProblemCode, ValidationProblem, check_integrity, validate_for
from hardware.firmware.versions import (
    BOOTLOADER_MODULE_VERSIONS,
    SYSTEM_MODULE_VERSIONS,
    bootloader_version_to_device_os,
    describe_system_version,
    device_os_to_bootloader_version,
    device_os_to_module_version,
    estimate_module_version,
    module_version_to_device_os,
    parse_semver,
)

__all__ = [
    "BOOTLOADER_MODULE_VERSIONS",
    "MAX_MODULE_FILE_SIZE",
    "MIN_MODULE_SIZE",
    "PREFIX_OFFSETS",
    "PREFIX_SIZE",
    "RTL872X_EXTENDED_SUFFIX_SIZE",
    "RTL872X_USER_PART_END",
    "SUFFIX_BASE_SIZE",
    "SUFFIX_WITH_PRODUCT_SIZE",
    "SYSTEM_MODULE_VERSIONS",
    "AssetDependencyExtension",
    "AssetType",
    "AssetTypeExtension",
    "Dependency",
    "DependencyExtension",
    "DynamicLocationExtension",
    "EndExtension",
    "ExtensionType",
    "FirmwareModule",
    "HashExtension",
    "HashType",
    "ModuleExtension",
    "ModuleFlag",
    "ModuleFunction",
    "ModuleKind",
    "ModuleStore",
    "ModuleValidity",
    "NameExtension",
    "ProblemCode",
    "ProductDataExtension",
    "SecurityMode",
    "SecurityModeExtension",
    "UnknownExtension",
    "ValidationProblem",
    "bootloader_version_to_device_os",
    "check_integrity",
    "decode_extensions",
    "describe_system_version",
    "device_os_to_bootloader_version",
    "device_os_to_module_version",
    "encode_extension",
    "estimate_module_version",
    "extension_type",
    "flag_names",
    "load_module",
    "module_version_to_device_os",
    "parse_module",
    "parse_semver",
    "validate_for",
]
