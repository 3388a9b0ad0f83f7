"""``particle-station firmware inspect FILE``: show what a module binary is and whether it is intact.

The handlers import hardware.firmware when they run: building the parser stays cheap (tests/station/test_cli_start.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING, Any

from station.errors import StationError

if TYPE_CHECKING:
    from hardware.firmware import FirmwareModule, ModuleExtension, ValidationProblem

_LABEL_WIDTH = 20


def register(subparsers: Any) -> None:
    firmware = subparsers.add_parser(
        "firmware",
        help="inspect Particle firmware binaries",
        description="Work with Particle module binaries (.bin files).",
    )
    actions = firmware.add_subparsers(dest="firmware_action", metavar="ACTION")
    inspect = actions.add_parser(
        "inspect",
        help="show a firmware file's platform, type, versions, addresses and checks",
        description=(
            "Read a Particle module binary and show what it is, where it is flashed, what it needs and whether its "
            "CRC-32 and SHA-256 are correct. Exits 0 when the file is intact (and, with --platform, fits the "
            "device), 1 otherwise."
        ),
    )
    inspect.add_argument("file", metavar="FILE", help="the firmware .bin file")
    inspect.add_argument("--json", action="store_true", help="print the facts as JSON instead of a table")
    inspect.add_argument("--platform", help="also check that the file suits this platform (name or id, e.g. boron)")
    inspect.add_argument("--device-os", metavar="VERSION", help="with --platform: the device's Device OS, e.g. 6.2.0")
    inspect.add_argument("--product-id", type=int, help="with --platform: the product id the file must carry")
    inspect.add_argument("--product-version", type=int, help="with --platform: the product version it must carry")
    inspect.add_argument(
        "--require-user-part", action="store_true", help="with --platform: the file must be application firmware"
    )
    inspect.set_defaults(handler=run_inspect)

    def show_help(_args: argparse.Namespace) -> int:
        firmware.print_help()
        return 2

    firmware.set_defaults(handler=show_help)


def run_inspect(args: argparse.Namespace) -> int:
    """Print the module's facts; exit 1 with the first problem on stderr when the file is not fit to flash."""
    from hardware.firmware import load_module

    module = load_module(args.file)
    problems = _problems(module, args)
    if args.json:
        print(json.dumps(module_facts(module, problems), indent=2))
    else:
        print(format_table(module, problems))
    if not problems:
        return 0
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    print(f"particle-station: error: {problems[0].message}{more}", file=sys.stderr)
    return 1


def _problems(module: FirmwareModule, args: argparse.Namespace) -> list[ValidationProblem]:
    from hardware.firmware import check_integrity, validate_for
    from hardware.platforms import parse_platform

    wants_device_checks = any(
        value not in (None, False)
        for value in (args.device_os, args.product_id, args.product_version, args.require_user_part)
    )
    if args.platform is None:
        if wants_device_checks:
            raise StationError(
                "--device-os, --product-id, --product-version and --require-user-part need --platform; "
                "add --platform with the device's platform, e.g. --platform boron"
            )
        return check_integrity(module)
    return validate_for(
        module,
        parse_platform(args.platform),
        device_os_version=args.device_os,
        require_user_part=args.require_user_part,
        expected_product_id=args.product_id,
        expected_product_version=args.product_version,
    )


def module_device_os(module: FirmwareModule) -> str | None:
    """The Device OS release a system part or bootloader belongs to, when the version table knows it."""
    from hardware.firmware import ModuleFunction, bootloader_version_to_device_os, module_version_to_device_os

    if module.function is ModuleFunction.SYSTEM_PART:
        return module_version_to_device_os(module.version)
    if module.function is ModuleFunction.BOOTLOADER:
        return bootloader_version_to_device_os(module.version)
    return None


def module_facts(module: FirmwareModule, problems: list[ValidationProblem]) -> dict[str, Any]:
    """The JSON document of ``firmware inspect --json``."""
    platform = module.platform
    dependency = module.system_dependency
    return {
        "file": module.source,
        "file_size": module.file_size,
        "declared_size": module.declared_size,
        "prefix_offset": module.prefix_offset,
        "platform_id": module.platform_id,
        "platform": platform.name if platform else None,
        "module_function": module.function.short_name,
        "module_kind": module.kind.value,
        "module_index": module.index,
        "module_version": module.version,
        "device_os_version": module_device_os(module),
        "start_address": module.start_address,
        "end_address": module.end_address,
        "flags": module.flag_names,
        "dependencies": [
            {
                "function": dep.function.short_name,
                "index": dep.index,
                "version": dep.version,
                "device_os": dep.device_os_version,
            }
            for dep in module.dependencies
        ],
        "dependency_device_os": dependency.device_os_version if dependency else None,
        "product_id": module.product_id,
        "product_version": module.product_version,
        "suffix_size": module.suffix_size,
        "suffix_extensions": [_extension_facts(ext) for ext in module.suffix_extensions],
        "prefix_extensions": [_extension_facts(ext) for ext in module.prefix_extensions],
        "sha256": module.sha256,
        "sha256_ok": module.sha256_ok,
        "crc_ok": module.crc_ok,
        "crc_stored": module.crc_stored,
        "crc_computed": module.crc_computed,
        "file_sha256": module.file_sha256,
        "valid": not problems,
        "problems": [{"code": p.code.value, "message": p.message} for p in problems],
    }


def _extension_facts(extension: ModuleExtension) -> dict[str, Any]:
    from hardware.firmware import extension_type
    from hardware.firmware.format import ExtensionType

    number = extension_type(extension)
    try:
        name = ExtensionType(number).name.lower()
    except ValueError:
        name = f"unknown_{number:#06x}"
    facts: dict[str, Any] = {"type": name}
    for key, value in dataclasses.asdict(extension).items():
        facts[key] = value.hex() if isinstance(value, bytes) else value
    return facts


def format_table(module: FirmwareModule, problems: list[ValidationProblem]) -> str:
    """The human-readable report: one fact per line, labels aligned."""
    rows: list[tuple[str, str]] = [
        ("File", f"{module.source} ({module.file_size} bytes)"),
        ("Module", _module_line(module)),
        ("Platform", _platform_line(module)),
        ("Flash address", _address_line(module)),
        ("Flags", ", ".join(module.flag_names) or "none"),
    ]
    deps = module.dependencies
    rows += [("Needs" if i == 0 else "", str(dep)) for i, dep in enumerate(deps)] or [("Needs", "nothing")]
    rows.append(("Product", _product_line(module) if not module.is_truncated else "unknown (suffix missing)"))
    rows.append(("Suffix", f"{module.suffix_size} bytes" if module.suffix_size is not None else "missing (truncated)"))
    rows += [("Suffix extension", _extension_line(ext)) for ext in module.suffix_extensions]
    rows += [("Prefix extension", _extension_line(ext)) for ext in module.prefix_extensions]
    if module.sha256 is None:
        rows.append(("Firmware SHA-256", "missing (the file is truncated)"))
    else:
        rows.append(("Firmware SHA-256", f"{module.sha256}  {'OK' if module.sha256_ok else 'MISMATCH'}"))
    rows.append(("CRC-32", f"{module.crc_stored:#010x}  {'OK' if module.crc_ok else 'MISMATCH'}"))
    rows.append(("File SHA-256", module.file_sha256))
    if problems:
        rows.append(("Result", f"NOT OK: {len(problems)} problem{'s' if len(problems) > 1 else ''}"))
        rows += [("Problem", problem.message) for problem in problems]
    else:
        rows.append(("Result", "OK: complete, CRC-32 and SHA-256 match"))
    return "\n".join(f"{label:<{_LABEL_WIDTH}}{value}".rstrip() for label, value in rows)


def _module_line(module: FirmwareModule) -> str:
    line = f"{module.function.description}, index {module.index}, version {module.version}"
    release = module_device_os(module)
    return f"{line} (Device OS {release})" if release else line


def _platform_line(module: FirmwareModule) -> str:
    platform = module.platform
    if platform is None:
        return f"unknown platform id {module.platform_id}"
    return f"{platform.display_name} ({platform.name}, platform {platform.id})"


def _address_line(module: FirmwareModule) -> str:
    end_of_image = module.start_address + module.declared_size
    return (
        f"{module.start_address:#010x}, {module.declared_size} bytes up to {end_of_image:#010x} "
        f"(header at file offset {module.prefix_offset:#x})"
    )


def _product_line(module: FirmwareModule) -> str:
    if module.product_id is None and module.product_version is None:
        return "none (not a product build)"
    pid = "not set" if module.product_id is None else str(module.product_id)
    pver = "not set" if module.product_version is None else str(module.product_version)
    return f"id {pid}, version {pver}"


def _extension_line(extension: ModuleExtension) -> str:
    from hardware.firmware import (
        DynamicLocationExtension,
        HashExtension,
        HashType,
        NameExtension,
        ProductDataExtension,
    )

    if isinstance(extension, DynamicLocationExtension):
        return (
            f"dynamic location: module at {extension.module_start:#010x}, dynalib loaded from "
            f"{extension.dynalib_load_address:#010x}, run at {extension.dynalib_start_address:#010x}"
        )
    if isinstance(extension, ProductDataExtension):
        return f"product data: id {extension.product_id}, version {extension.product_version}"
    if isinstance(extension, NameExtension):
        return f"name: {extension.name}"
    if isinstance(extension, HashExtension):
        kind = "SHA-256" if extension.hash_type == HashType.SHA256 else f"hash type {extension.hash_type}"
        return f"hash: {kind} {extension.digest.hex()}"
    facts = _extension_facts(extension)
    kind = str(facts.pop("type")).replace("_", " ")
    details = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in facts.items())
    return f"{kind}: {details}" if details else kind
