"""Decide whether a parsed module may be flashed to a given device: a list of problems, each in plain words."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hardware.firmware.format import RTL872X_USER_PART_END, ModuleFunction
from hardware.firmware.module import FirmwareModule
from hardware.firmware.versions import describe_system_version, estimate_module_version
from hardware.platforms import Platform, UserPartRule


class ProblemCode(enum.Enum):
    """Why a module must not be flashed; the value is stable for logs, journals and JSON."""

    TRUNCATED = "truncated"
    TRAILING_DATA = "trailing_data"
    MALFORMED = "malformed"
    BAD_CRC = "bad_crc"
    BAD_SHA256 = "bad_sha256"
    WRONG_PLATFORM = "wrong_platform"
    NOT_USER_PART = "not_user_part"
    DEVICE_OS_TOO_OLD = "device_os_too_old"
    UNKNOWN_DEVICE_OS = "unknown_device_os"
    WRONG_PRODUCT_ID = "wrong_product_id"
    WRONG_PRODUCT_VERSION = "wrong_product_version"
    TOO_LARGE = "too_large"
    WRONG_ADDRESS = "wrong_address"


@dataclass(frozen=True)
class ValidationProblem:
    code: ProblemCode
    message: str
    """What is wrong with which file, and what to do about it."""

    def __str__(self) -> str:
        return self.message


def _name(module: FirmwareModule) -> str:
    return f"firmware file {module.source}" if module.source else "the firmware"


def check_integrity(module: FirmwareModule) -> list[ValidationProblem]:
    """Problems with the file itself, whatever the device: truncation, damage, CRC-32 and SHA-256."""
    name = _name(module)
    problems: list[ValidationProblem] = []
    if module.is_truncated:
        problems.append(
            ValidationProblem(
                ProblemCode.TRUNCATED,
                f"{name} is truncated: it has {module.file_size} bytes but its header says {module.declared_size}; "
                "the download or copy was cut short, get the file again",
            )
        )
    elif module.trailing_bytes:
        problems.append(
            ValidationProblem(
                ProblemCode.TRAILING_DATA,
                f"{name} has {module.trailing_bytes} extra bytes after the module's end (its header says "
                f"{module.declared_size} bytes); it was padded or joined with another file, use the original .bin",
            )
        )
    for detail in module.format_problems:
        problems.append(
            ValidationProblem(ProblemCode.MALFORMED, f"{name} is damaged: {detail}; get a fresh copy of the file")
        )
    if not module.crc_ok:
        if module.crc_is_placeholder:
            detail = "its CRC-32 is still the build placeholder, so the build never finished this file; rebuild it"
        else:
            detail = (
                f"CRC-32 check failed (stored {module.crc_stored:#010x}, computed {module.crc_computed:#010x}); "
                "the file is damaged, get a fresh copy"
            )
        problems.append(ValidationProblem(ProblemCode.BAD_CRC, f"{name}: {detail}"))
    if not module.sha256_ok and not module.is_truncated:
        if module.sha256_is_placeholder:
            detail = "its SHA-256 is still the build placeholder, so the build never finished this file; rebuild it"
        else:
            detail = (
                "SHA-256 check failed: the stored firmware hash does not match the contents, so the file was "
                "changed after it was built; get a fresh copy"
            )
        problems.append(ValidationProblem(ProblemCode.BAD_SHA256, f"{name}: {detail}"))
    return problems


def validate_for(
    module: FirmwareModule,
    platform: Platform,
    *,
    device_os_version: str | int | None = None,
    require_user_part: bool = False,
    expected_product_id: int | None = None,
    expected_product_version: int | None = None,
) -> list[ValidationProblem]:
    """Every reason ``module`` must not be flashed to a ``platform`` device; an empty list means it may be.

    ``device_os_version`` is the device's Device OS, as text (``"6.2.0"``, as the device reports it) or as the
    system module version (6200). It is compared with a user part's system-part dependency.
    """
    name = _name(module)
    problems = check_integrity(module)
    is_asset = module.function is ModuleFunction.ASSET
    if not is_asset and module.platform_id != platform.id:
        problems.append(
            ValidationProblem(
                ProblemCode.WRONG_PLATFORM,
                f"{name} is a {module.function.description} for {module.platform_name}, but the device is "
                f"{platform.display_name} hardware (platform {platform.id}); use the {platform.display_name} build",
            )
        )
    is_app = module.is_user_part or (
        module.function is ModuleFunction.MONOLITHIC and platform.user_part.rule is UserPartRule.MONOLITHIC
    )
    if require_user_part and not is_app:
        problems.append(
            ValidationProblem(
                ProblemCode.NOT_USER_PART,
                f"{name} is a {module.function.description}, not application firmware (a user part); "
                "choose the application .bin for this station",
            )
        )
    if device_os_version is not None and module.is_user_part:
        problems.extend(_device_os_problems(module, device_os_version))
    problems.extend(_product_problems(module, expected_product_id, expected_product_version))
    if module.is_user_part and module.platform_id == platform.id:
        problems.extend(_placement_problems(module, platform))
    return problems


def _device_os_problems(module: FirmwareModule, device_os: str | int) -> list[ValidationProblem]:
    dependency = module.system_dependency
    if dependency is None:
        return []
    if isinstance(device_os, int):
        device_module: int | None = device_os
        device_text = describe_system_version(device_os)
    else:
        device_module = estimate_module_version(device_os)
        device_text = f"Device OS {device_os.strip()}"
    if device_module is None:
        return [
            ValidationProblem(
                ProblemCode.UNKNOWN_DEVICE_OS,
                f"the device reports Device OS {device_os!r}, which is not a version number, so the station "
                f"cannot check that it can run {_name(module)}; check the device's Device OS",
            )
        ]
    if dependency.version <= device_module:
        return []
    return [
        ValidationProblem(
            ProblemCode.DEVICE_OS_TOO_OLD,
            f"{_name(module)} needs {describe_system_version(dependency.version)} or newer, but the device has "
            f"{device_text}; update the device's Device OS first, or use firmware built for its version",
        )
    ]


def _product_problems(
    module: FirmwareModule, expected_id: int | None, expected_version: int | None
) -> list[ValidationProblem]:
    name = _name(module)
    problems: list[ValidationProblem] = []
    if expected_id is not None and module.product_id != expected_id:
        found = "no product id" if module.product_id is None else f"product id {module.product_id}"
        problems.append(
            ValidationProblem(
                ProblemCode.WRONG_PRODUCT_ID,
                f"{name} has {found}, but this station expects product {expected_id}; "
                f"use the firmware built for product {expected_id}",
            )
        )
    if expected_version is not None and module.product_version != expected_version:
        found = "no product version" if module.product_version is None else f"version {module.product_version}"
        problems.append(
            ValidationProblem(
                ProblemCode.WRONG_PRODUCT_VERSION,
                f"{name} has product firmware {found}, but this station expects version {expected_version}; "
                "check the firmware file named in the station profile",
            )
        )
    return problems


def _placement_problems(module: FirmwareModule, platform: Platform) -> list[ValidationProblem]:
    """A user part must fit its platform's slot and sit where the bootloader looks for it
    (Device OS build/arm/linker/*/platform_flash.ld; @v2.3.1 modules/*/linker.ld)."""
    name = _name(module)
    placement = platform.user_part
    size = module.declared_size
    start = module.start_address
    slot_size = placement.max_size
    expected = ""
    if placement.rule is UserPartRule.FIXED:
        if start != placement.start:
            expected = f"{platform.display_name} user parts start at {placement.start:#010x}"
    elif placement.rule is UserPartRule.NRF_TWO_SLOTS:
        if start == placement.legacy_start:
            slot_size = placement.legacy_max_size
        elif start != placement.start:
            expected = (
                f"{platform.display_name} user parts start at {placement.start:#x} (256 KB slot) "
                f"or {placement.legacy_start:#x} (128 KB slot)"
            )
    elif placement.rule is UserPartRule.END_ANCHORED:
        end = placement.end if placement.end is not None else RTL872X_USER_PART_END
        if start + size != end:
            expected = f"{platform.display_name} user parts end at {end:#010x}, this one at {start + size:#010x}"
    else:
        return []
    problems: list[ValidationProblem] = []
    if expected:
        problems.append(
            ValidationProblem(
                ProblemCode.WRONG_ADDRESS,
                f"{name} starts at {start:#010x}, but {expected}; it was built for another layout, rebuild it",
            )
        )
    if slot_size is not None and size > slot_size:
        problems.append(
            ValidationProblem(
                ProblemCode.TOO_LARGE,
                f"{name} is {size} bytes, larger than the {slot_size // 1024} KB user-part slot of the "
                f"{platform.display_name} at {start:#x}; make the application smaller",
            )
        )
    return problems
