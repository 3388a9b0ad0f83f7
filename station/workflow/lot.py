"""Lot preparation: what a lot needs before the line starts, checked once, with its own errors.

``prepare_lot`` loads and validates the product firmware (downloading it from the product when the profile names a
version) and the Device OS bundle, expands the lot's device groups and creates the missing ones, and compares the
firmware the lot flashes with what the product releases over the air under the profile's version policy. It opens
nothing and starts nothing: a refusal leaves no journal, thread or process behind. ``Line`` runs the result.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cloud_client.client import ParticleCloud
from hardware.firmware import FirmwareModule, load_module
from station.config.profile import FirmwareVersionPolicy, StationProfile
from station.errors import StationError
from station.product.firmware import FirmwarePlan, delivered_version, fetch_product_firmware, firmware_plan
from station.product.groups import ensure_groups, expand_groups
from station.records.lot_table import LotRecord
from station.workflow.cloud_reach import CloudReach
from station.workflow.outcome import RETRY_LATER


class LotPreparationError(StationError):
    """The lot cannot start: its firmware, the product's released firmware or its device groups are refused."""


@dataclass(frozen=True)
class PreparedLot:
    """Everything checked before a lot starts; ``Line(prepared, ...)`` runs it."""

    profile: StationProfile
    cloud: ParticleCloud
    """The cloud the lot was checked against; the line's units and outbox use it too."""
    module: FirmwareModule
    """The product firmware every unit gets."""
    device_os_bundle: tuple[FirmwareModule, ...]
    groups: tuple[str, ...]
    """The lot's device group names, date tokens expanded (``{date}``, ``{date_seq}``)."""
    firmware_plan: FirmwarePlan | None
    """Flashed vs released firmware; None when the firmware has no product version or the cloud was unreachable."""
    notices: tuple[str, ...]
    """What the operator should read before the first unit (firmware delivered over the air, cloud outage)."""
    reach: CloudReach | None = None
    """Whether the cloud accepts connections; the line's units and outbox ask it before calling the cloud."""
    unreachable: str | None = None
    """Why the cloud could not be reached at lot start (no cloud call was made then), None when it could."""
    offline_notes: tuple[str, ...] = ()
    """What the outage at lot start postponed; the line shows it within its one "cloud unreachable" banner."""
    protected_bootloader: FirmwareModule | None = None
    """The bootloader with the SECURITY_MODE extension flashed at the end of the line (profile protect_at_end)."""

    @property
    def lock_version(self) -> int | None:
        return self.firmware_plan.lock_version if self.firmware_plan else None

    @property
    def expected_online_version(self) -> int | None:
        """The product firmware version a unit must report online (the released one when it will be updated)."""
        return self.firmware_plan.updated_to if self.firmware_plan else None


def todays_lot(profile: StationProfile, lots: Iterable[LotRecord], today: datetime.date) -> str:
    """The lot a line starts on today: today's latest lot while it is open, else the one after it (the first of the
    day when there is none). A lot naming without ``{seq}`` names one lot a day."""
    known = {lot.name: lot for lot in lots}
    date = today.strftime("%Y%m%d")
    seq = 1
    name = profile.lot_name(date=date, seq=seq)
    while True:
        following = profile.lot_name(date=date, seq=seq + 1)
        if following == name:
            return name
        if following not in known and not (name in known and known[name].closed):
            return name
        seq, name = seq + 1, following


def successor_lot(name: str, lots: Iterable[LotRecord]) -> str:
    """The lot after a lot named by hand (``--lot``): its number raised (``ORDER-7`` -> ``ORDER-7-002``,
    ``ORDER-7-002`` -> ``ORDER-7-003``), skipping lots already closed."""
    closed = {lot.name for lot in lots if lot.closed}
    match = re.fullmatch(r"(.*)-(\d{3,})", name)
    stem, number, width = (match.group(1), int(match.group(2)), len(match.group(2))) if match else (name, 1, 3)
    while True:
        number += 1
        following = f"{stem}-{number:0{width}d}"
        if following not in closed:
            return following


def operator_name(given: str | None) -> str:
    """The operator recorded with a lot's units: the name given (``--operator``, the GUI), else the login name."""
    if given is not None:
        name = given.strip()
        if not name or not name.isprintable():
            raise LotPreparationError("the operator name is empty or holds control characters; give a name")
        return name
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        raise LotPreparationError("cannot tell who the operator is from the login; pass --operator NAME") from None


def prepare_lot(profile: StationProfile, cloud: ParticleCloud, *, today: datetime.date | None = None,
                reach: CloudReach | None = None) -> PreparedLot:
    """Check and fetch what the profile's lot needs; raise LotPreparationError (or the cloud's error) if refused.

    The cloud is probed first (one connection, ``reach``): when it cannot be reached no API call is made (each would
    spend its retries first), the groups are created and the released firmware checked with the first unit's cloud
    work, where the profile allows it; product firmware then comes from the cache or the lot cannot start.
    """
    day = today or datetime.date.today()
    reach = reach or CloudReach(cloud.base_url)
    online = reach.probe()
    notices: list[str] = []
    offline: list[str] = []
    module = load_product_firmware(profile, cloud, offline=not online)
    bundle = tuple(load_device_os_bundle(profile))
    protected_bootloader = load_protected_bootloader(profile, bundle, cloud, online=online)
    if online:
        groups = _lot_groups(profile, cloud, day, notices)
        plan = _firmware_plan(profile, cloud, module, groups, notices)
    else:
        groups = expand_groups(list(profile.steps.groups), day, [])
        plan = None
        _check_unchecked_start(profile, module, reach.reason or "unreachable", offline)
        if groups:
            offline.append(f"groups {', '.join(groups)} are created with the first unit's cloud work")
    if plan is not None and plan.needs_attention:
        notices.append(plan.message)
    return PreparedLot(profile=profile, cloud=cloud, module=module, device_os_bundle=bundle, groups=tuple(groups),
                       firmware_plan=plan, notices=tuple(notices), reach=reach,
                       unreachable=None if online else reach.reason, offline_notes=tuple(offline),
                       protected_bootloader=protected_bootloader)


def load_product_firmware(profile: StationProfile, cloud: ParticleCloud | None = None, *,
                          offline: bool = False) -> FirmwareModule:
    """The profile's firmware: its file (refused unless its SHA-256 is the pinned one and it fits the platform), or
    the product firmware version it names, downloaded from the product and cached by SHA-256 (``offline``: the
    cloud is known unreachable, only the cached copy will do)."""
    spec = profile.firmware
    if spec.file is None:
        assert spec.product_version is not None
        if cloud is None:
            raise LotPreparationError(f"profile {profile.path} names product firmware version "
                                      f"{spec.product_version}: the station needs the cloud to download it")
        return fetch_product_firmware(cloud, profile.product_id, spec.product_version, profile.platform,
                                      profile.firmware_cache, expected_sha256=spec.sha256, offline=offline)
    module = load_module(spec.file)
    if spec.sha256 is not None and module.file_sha256 != spec.sha256:
        raise LotPreparationError(
            f"firmware {spec.file} has SHA-256 {module.file_sha256}, but the profile pins {spec.sha256}: "
            "the file changed; check it and update firmware.sha256 in the profile"
        )
    if not module.is_intact:
        raise LotPreparationError(
            f"firmware {spec.file} is damaged (CRC or SHA-256 mismatch); rebuild or re-download it")
    if module.platform_id != profile.platform.id:
        raise LotPreparationError(
            f"firmware {spec.file} is for platform {module.platform_name}, but the product is "
            f"{profile.platform.display_name}"
        )
    if not module.is_user_part:
        raise LotPreparationError(
            f"firmware {spec.file} is a {module.kind.value}, not an application (user part)")
    return module


def load_protected_bootloader(profile: StationProfile, bundle: tuple[FirmwareModule, ...], cloud: ParticleCloud,
                              *, online: bool) -> FirmwareModule | None:
    """For ``protect_at_end``: the bundle's bootloader (else the profile's ``bootloader``) with the SECURITY_MODE
    extension, once the cloud says the product has Device Protection (particle-cli device-protection enable checks
    ``product.device_protection == 'active'``)."""
    if not profile.protection.protect_at_end:
        return None
    from hardware.errors import FirmwareError
    from hardware.firmware import ModuleFunction
    from hardware.firmware.protected_bootloader import protect_bootloader

    if not online:
        raise LotPreparationError(
            "the profile protects units at the end of the line, but the cloud is unreachable, so the product's Device "
            "Protection cannot be checked; start the lot when the cloud is back")
    product = cloud.get_product(profile.product_id)
    if not product.protection_active:
        raise LotPreparationError(
            f"the profile protects units at the end of the line (protect_at_end), but product {profile.product_id} "
            "does not have Device Protection active; ask Particle to enable it, or set protect_at_end = false")
    found = [m for m in bundle if m.function is ModuleFunction.BOOTLOADER and m.index == 0]
    if found:
        source = found[0]
    elif profile.protection.bootloader is not None:
        source = load_module(profile.protection.bootloader)
    else:  # pragma: no cover - the profile loader refuses this
        raise LotPreparationError("protect_at_end needs a bootloader: name one in the profile's [protection] section")
    if source.platform_id != profile.platform.id:
        raise LotPreparationError(f"the bootloader {source.source} is for platform {source.platform_name}, not "
                                  f"{profile.platform.display_name}")
    try:
        return protect_bootloader(source)
    except FirmwareError as exc:
        raise LotPreparationError(f"cannot protect the bootloader: {exc}") from None


def load_device_os_bundle(profile: StationProfile) -> list[FirmwareModule]:
    """The profile's Device OS modules, each intact and for the product's platform."""
    modules = []
    for path in profile.firmware.device_os_bundle:
        module = load_module(path)
        if not module.is_intact:
            raise LotPreparationError(
                f"Device OS module {path} is damaged (CRC or SHA-256 mismatch); download it again")
        if module.platform_id != profile.platform.id:
            raise LotPreparationError(f"Device OS module {path} is for platform {module.platform_name}, "
                                      f"not {profile.platform.display_name}")
        modules.append(module)
    return modules


def _cloud_unreachable(exc: BaseException) -> bool:
    """The error (or what it wraps) is an outage that passes by itself, not a refusal."""
    return isinstance(exc, RETRY_LATER) or isinstance(exc.__cause__, RETRY_LATER)


def _lot_groups(profile: StationProfile, cloud: ParticleCloud, today: datetime.date, notices: list[str]) -> list[str]:
    """The profile's groups for this lot: date tokens expanded once, and created in the product when missing."""
    names = list(profile.steps.groups)
    if not names:
        return []
    try:
        existing = [g.name for g in cloud.list_groups(profile.product_id)] if any(
            "{date_seq}" in n.lower() for n in names) else []
        groups = expand_groups(names, today, existing)
        ensure_groups(cloud, profile.product_id, groups)
    except (*RETRY_LATER, StationError) as exc:
        if not _cloud_unreachable(exc):
            raise LotPreparationError(f"cannot prepare the lot's device groups: {exc}") from None
        # The line keeps running through a cloud outage; the device update creates missing groups later.
        groups = expand_groups(names, today, [])
        notices.append(f"Cloud unreachable at lot start ({exc}); groups {', '.join(groups)} will be created with "
                       "the first unit's cloud work.")
    return groups


def _check_unchecked_start(profile: StationProfile, module: FirmwareModule, reason: str,
                           offline: list[str]) -> None:
    """The cloud is unreachable at lot start: the released firmware cannot be compared; refuse if told to."""
    flashed = module.product_version
    if flashed is None:
        return
    if profile.firmware.version_policy is FirmwareVersionPolicy.REFUSE:
        raise LotPreparationError(f"cannot check the product's released firmware (cloud unreachable: {reason}); "
                                  "the profile refuses to start a lot unchecked")
    offline.append(f"the product's released firmware is not checked (units flash v{flashed} and may be updated "
                   "over the air on first connection)")


def _firmware_plan(profile: StationProfile, cloud: ParticleCloud, module: FirmwareModule, groups: list[str],
                   notices: list[str]) -> FirmwarePlan | None:
    """Compare the version this lot flashes with what the product delivers over the air; refuse if told to."""
    flashed = module.product_version
    if flashed is None:
        return None
    try:
        delivered = delivered_version(cloud, profile.product_id, groups or None)
    except (*RETRY_LATER, StationError) as exc:
        if not _cloud_unreachable(exc):
            raise LotPreparationError(
                f"cannot read the product's released firmware before the lot starts: {exc}") from None
        if profile.firmware.version_policy is FirmwareVersionPolicy.REFUSE:
            raise LotPreparationError(f"cannot check the product's released firmware (cloud unreachable: {exc}); "
                                      "the profile refuses to start a lot unchecked") from None
        notices.append(
            f"Could not check which firmware the product releases (cloud unreachable: {exc}); units flash "
            f"v{flashed} and may be updated over the air on first connection.")
        return None
    plan = firmware_plan(flashed, delivered, profile.firmware.version_policy,
                         development=bool(profile.steps.development))
    if not plan.start:
        raise LotPreparationError(plan.message)
    return plan
