"""What engineer mode shows about a profile and a firmware file, and every mismatch between them (no Qt)."""

from __future__ import annotations

from pathlib import Path

from hardware.firmware import FirmwareModule, validate_for
from station.config.profile import StationProfile


def firmware_rows(module: FirmwareModule) -> list[tuple[str, str]]:
    """The parsed firmware as (field, value) rows."""
    dependency = module.system_dependency
    needs = "–"
    if dependency is not None:
        needs = f"Device OS {dependency.device_os_version}" if dependency.device_os_version else str(dependency)
    if module.is_intact:
        integrity = "intact (CRC-32 and SHA-256 match)"
    else:
        broken = [name for name, ok in (("CRC-32", module.crc_ok), ("SHA-256", module.sha256_ok)) if not ok]
        integrity = "DAMAGED: " + (", ".join(broken) + " mismatch" if broken else "truncated or malformed")
    return [
        ("File", module.source or "(from memory)"),
        ("Platform", module.platform_name),
        ("Kind", module.describe()),
        ("Module version", str(module.version)),
        ("Product ID", "–" if module.product_id is None else str(module.product_id)),
        ("Product version", "–" if module.product_version is None else str(module.product_version)),
        ("Needs", needs),
        ("Size", f"{module.file_size:,} bytes"),
        ("SHA-256 (file)", module.file_sha256),
        ("Integrity", integrity),
    ]


def firmware_warnings(module: FirmwareModule, profile: StationProfile) -> list[str]:
    """Every reason this firmware does not fit the profile; empty when it fits."""
    warnings = [
        problem.message
        for problem in validate_for(module, profile.platform, require_user_part=True,
                                    expected_product_id=profile.product_id)
    ]
    pinned = profile.firmware.sha256
    if pinned is not None and module.file_sha256 != pinned:
        warnings.append(
            f"SHA-256 {module.file_sha256[:16]}… is not the {pinned[:16]}… the profile pins: the line would refuse "
            "this file; update firmware.sha256 in the profile only if this is the approved build"
        )
    wanted = profile.firmware.product_version
    if wanted is not None and module.product_version is not None and module.product_version != wanted:
        warnings.append(f"product version {module.product_version}, but the profile asks for version {wanted}")
    return warnings


def profile_rows(profile: StationProfile) -> list[tuple[str, str]]:
    """The profile as (field, value) rows; the credential is a reference (env:/keyring:), never a secret."""
    steps = profile.steps
    enabled = [name for name, on in (("identify", steps.identify), ("check label", steps.check_label),
                                     ("flash", steps.flash), ("pre-add", steps.pre_add)) if on]
    enabled.append(f"SIM {steps.sim_activation.value}")
    enabled.append(f"claim {steps.claim.value}")
    if steps.groups:
        enabled.append("groups " + ", ".join(steps.groups))
    firmware = profile.firmware
    return [
        ("Profile", str(profile.path)),
        ("Station", profile.station_name),
        ("Product", f"{profile.product_id} ({profile.platform.display_name})"),
        ("Firmware file", str(firmware.file) if firmware.file else f"product version {firmware.product_version}"),
        ("Pinned SHA-256", firmware.sha256 or "– (not pinned)"),
        ("Steps", "; ".join(enabled)),
        ("Cloud", f"{profile.cloud.base_url}  (credentials: {profile.cloud.credentials})"),
        ("Slots", str(profile.slots.count)),
        ("Records", str(profile.log_folder)),
        ("Engineer PIN", "set" if profile.operator.enabled else "not set (engineer mode is open)"),
    ]


def profile_snippet(module: FirmwareModule) -> str:
    """The ``[firmware]`` lines that would make a profile use this file."""
    name = Path(module.source).name if module.source else "<file>"
    return f'[firmware]\nfile = "{name}"\nsha256 = "{module.file_sha256}"\n'
