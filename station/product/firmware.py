"""Product firmware from the cloud: fetch and cache a version, what the product delivers over the air, and a lot's plan.

Facts: docs.particle.io Cloud API, product firmware ('List all versions of product firmware', 'Release product
firmware'), 'Lock product device' and 'Mark product development device': a released product firmware wins over what
was flashed unless the device is locked or a development device.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError, NotFoundError, RateLimitedError, UnavailableError
from cloud_client.models import ProductFirmware
from hardware.errors import FirmwareError
from hardware.firmware import FirmwareModule, parse_module, validate_for
from hardware.platforms import Platform
from station.config.profile import FirmwareVersionPolicy
from station.errors import StationError
from station.files import write_bytes_atomically

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"
"""The cache's index: which SHA-256 holds which product's version, with the listing's size and upload time."""


class ProductFirmwareError(StationError):
    """A product firmware version cannot be fetched or is not fit for this station's product and platform."""


def _fail(product_id: int, version: int, reason: str) -> ProductFirmwareError:
    return ProductFirmwareError(f"product {product_id} firmware v{version}: {reason}")


# --- fetch and cache -------------------------------------------------------------------------------------------------


def fetch_product_firmware(
    cloud: ParticleCloud,
    product_id: int,
    version: int,
    platform: Platform,
    cache_dir: str | Path,
    *,
    expected_sha256: str | None = None,
    offline: bool = False,
) -> FirmwareModule:
    """Download (or reuse the cached copy of) a product firmware version, parsed and validated exactly as a file.
    ``offline``: the cloud is known unreachable; the cached copy is used without asking it.

    The binary is cached as ``<sha256>.bin`` under ``cache_dir``; the index maps product/version to that hash and
    to the listing's size and upload time, so a cached copy is reused only while the listing still describes it
    (a never-released version can be deleted and uploaded again with other bytes). When the cloud cannot be
    reached, a cached copy is used as it is. ``module.source`` is the cached file's path.

    The product id in the binary may be ``product_id`` or, for a Device OS 4+ ``PRODUCT_VERSION`` build, the
    platform id (see ``product_id_note``); its product version must be ``version``.
    """
    cache = Path(cache_dir)
    key = f"{product_id}/{version}"
    listing: ProductFirmware | None = None
    try:
        if offline:
            raise UnavailableError(f"{cloud.base_url} cannot be reached", operation=f"get firmware v{version}")
        listing = cloud.get_firmware(product_id, version)
    except NotFoundError:
        raise _fail(product_id, version, "the product has no such firmware version; upload it in the Console, or "
                    "correct firmware.product_version in the station profile") from None
    except (UnavailableError, RateLimitedError) as exc:
        cached = _cached_bytes(cache, _read_index(cache).get(key))
        if cached is None:
            raise _fail(product_id, version, f"the cloud cannot be reached ({exc}) and no copy is cached in {cache}; "
                        "check the network and try again") from exc
        log.warning("product %s firmware v%s: cloud unreachable, using the cached copy %s", product_id, version,
                    cached[1])
        data, path = cached
        return _checked(data, path, product_id, version, platform, expected_sha256)
    except CloudError as exc:
        raise _fail(product_id, version, f"the cloud refused the listing: {exc}") from exc

    index = _read_index(cache)
    entry = index.get(key)
    cached = _cached_bytes(cache, entry) if entry is not None and _describes(entry, listing) else None
    if cached is not None:
        data, path = cached
    else:
        try:
            data = cloud.download_firmware(product_id, version)
        except CloudError as exc:
            raise _fail(product_id, version, f"the download failed: {exc}") from exc
        if listing.size is not None and len(data) != listing.size:
            raise _fail(product_id, version, f"the download has {len(data)} bytes but the product lists "
                        f"{listing.size}; it was cut short, try again")
        digest = hashlib.sha256(data).hexdigest()
        path = cache / f"{digest}.bin"
        _write_atomically(path, data)
        index[key] = {"sha256": digest, "size": listing.size, "uploaded_on": listing.uploaded_on}
        _write_atomically(cache / INDEX_NAME, json.dumps(index, indent=1, sort_keys=True).encode())
    return _checked(data, path, product_id, version, platform, expected_sha256)


def product_id_note(module: FirmwareModule, product_id: int) -> str | None:
    """Words for the operator when the binary stores the platform id instead of the product id, else None."""
    if module.product_id is not None and module.product_id != product_id and module.product_id == module.platform_id:
        return (
            f"the firmware stores product id {module.product_id} (the platform id), as Device OS 4 and later "
            f"PRODUCT_VERSION builds do; accepted because product {product_id} serves it as its own firmware"
        )
    return None


def _checked(
    data: bytes, path: Path, product_id: int, version: int, platform: Platform, expected_sha256: str | None
) -> FirmwareModule:
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise _fail(product_id, version, f"its SHA-256 is {digest} but the profile pins {expected_sha256.lower()}; "
                    "the product's binary changed: check it, then update firmware.sha256 in the profile")
    try:
        module = parse_module(data, source=str(path))
    except FirmwareError as exc:
        raise _fail(product_id, version, f"the binary is not a Particle module ({exc}); check what was uploaded to "
                    "the product") from None
    problems = [str(p) for p in validate_for(module, platform, require_user_part=True,
                                             expected_product_version=version)]
    # Since Device OS 4 PRODUCT_VERSION(x) stores product id = platform id (Device OS
    # wiring/inc/spark_wiring_version.h), so the
    # platform id is accepted as well as the product's own id.
    if module.product_id is None:
        problems.append("the binary carries no product id and version: it was not built with PRODUCT_VERSION; "
                        "rebuild it as product firmware")
    elif module.product_id not in (product_id, platform.id):
        problems.append(f"the binary is built for product {module.product_id}, not product {product_id}; upload "
                        f"the build for product {product_id}")
    if problems:
        raise _fail(product_id, version, "; ".join(problems))
    note = product_id_note(module, product_id)
    if note:
        log.info("product %s firmware v%s: %s", product_id, version, note)
    return module


def _describes(entry: dict[str, Any], listing: ProductFirmware) -> bool:
    """The index entry was made from this same upload (size and upload time, where the listing gives them)."""
    if listing.size is not None and entry.get("size") != listing.size:
        return False
    return listing.uploaded_on is None or entry.get("uploaded_on") == listing.uploaded_on


def _cached_bytes(cache: Path, entry: dict[str, Any] | None) -> tuple[bytes, Path] | None:
    """The cached binary of an index entry, only if its content still has the recorded SHA-256."""
    if entry is None or not isinstance(entry.get("sha256"), str):
        return None
    path = cache / f"{entry['sha256']}.bin"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return (data, path) if hashlib.sha256(data).hexdigest() == entry["sha256"] else None


def _read_index(cache: Path) -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads((cache / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no index yet, or a damaged one: everything is downloaded again
    return {k: v for k, v in loaded.items() if isinstance(v, dict)} if isinstance(loaded, dict) else {}


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        write_bytes_atomically(path, data)
    except OSError as exc:
        raise ProductFirmwareError(f"cannot write the firmware cache file {path}: {exc.strerror or exc}; check the "
                                   "folder's free space and permissions") from None


# --- what the product delivers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveredFirmware:
    """The product firmware the cloud sends a unlocked, non-development unit when it connects, and why."""

    product_id: int
    version: int | None
    """None when the product has released nothing (for these groups or as its default)."""
    source: str
    """``group line-a release``, ``product default`` or ``nothing released``."""
    group: str | None = None
    """The group whose release wins, when one does."""
    available: tuple[int, ...] = ()
    """Every version uploaded to the product (a unit can only be locked to one of these)."""

    def __str__(self) -> str:
        return f"v{self.version} ({self.source})" if self.version is not None else self.source


def delivered_version(cloud: ParticleCloud, product_id: int, group: str | Sequence[str] | None) -> DeliveredFirmware:
    """What the product delivers over the air to a unit in ``group`` (or several groups).

    The Console's precedence: a release to the unit's group wins, else the product default, else nothing. A unit
    in several groups with releases gets the highest of those versions.
    """
    groups = [group] if isinstance(group, str) else list(group or ())
    try:
        listing = cloud.list_firmware(product_id)
    except CloudError as exc:
        raise ProductFirmwareError(f"product {product_id}: cannot read its released firmware: {exc}") from exc
    available = tuple(sorted(fw.version for fw in listing))
    to_groups = [(fw.version, name) for fw in listing for name in groups if name in fw.groups]
    if to_groups:
        version, name = max(to_groups)
        return DeliveredFirmware(product_id, version, f"group {name} release", name, available)
    default = next((fw for fw in listing if fw.product_default), None)
    if default is not None:
        return DeliveredFirmware(product_id, default.version, "product default", None, available)
    return DeliveredFirmware(product_id, None, "nothing released", None, available)


# --- the lot's plan ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirmwarePlan:
    """Whether a lot may start, whether each unit is locked, and the words the operator sees."""

    flashed_version: int
    delivered: DeliveredFirmware
    policy: FirmwareVersionPolicy
    start: bool
    lock_version: int | None
    """Lock each unit to this version (``desired_firmware_version``) before it first connects; None: no lock."""
    updated_to: int | None
    """The version units will be updated to over the air on first connection, if any."""
    message: str

    @property
    def lock_units(self) -> bool:
        return self.lock_version is not None

    @property
    def needs_attention(self) -> bool:
        """The operator should read this before the lot starts (a refusal or an over-the-air change)."""
        return not self.start or self.updated_to is not None


def firmware_plan(
    flashed_version: int,
    delivered: DeliveredFirmware,
    policy: FirmwareVersionPolicy,
    *,
    development: bool = False,
) -> FirmwarePlan:
    """The plan for a lot flashing ``flashed_version`` under ``policy`` (warn, refuse or lock).

    ``development``: the lot marks its units as development devices, which automatic updates skip.
    """
    flashed, released = flashed_version, delivered.version
    lockable = flashed in delivered.available
    product = delivered.product_id

    def plan(start: bool, message: str, *, lock: bool = False, updated_to: int | None = None) -> FirmwarePlan:
        return FirmwarePlan(flashed, delivered, policy, start, flashed if lock else None, updated_to, message)

    def cannot_lock(prefix: str) -> FirmwarePlan:
        return plan(False, f"{prefix}units cannot be locked to v{flashed} because product {product} has no firmware "
                    f"v{flashed}: refusing to start; upload v{flashed} to the product, change the profile or set "
                    "version_policy")

    if released is None or released == flashed or development:
        if released is None:
            text = f"the product releases no firmware, so units keep the flashed v{flashed}"
        elif released == flashed:
            text = f"the product delivers v{flashed}, the version flashed"
        else:
            text = (f"units are marked as development devices, so they keep the flashed v{flashed} "
                    f"(the product releases v{released}, {delivered.source})")
        if policy is not FirmwareVersionPolicy.LOCK:
            return plan(True, text)
        if not lockable:
            return cannot_lock(f"{text}; but ")
        return plan(True, f"{text}; each unit is also locked to v{flashed}", lock=True)

    if policy is FirmwareVersionPolicy.WARN:
        return plan(True, f"units will be updated over the air to v{released} on first connection "
                    f"({delivered.source}; this lot flashes v{flashed})", updated_to=released)
    if policy is FirmwareVersionPolicy.REFUSE:
        return plan(False, f"the product releases v{released} ({delivered.source}) but this lot flashes v{flashed}: "
                    f"refusing to start; release v{flashed}, change the profile or set version_policy")
    if not lockable:
        return cannot_lock(f"the product releases v{released} ({delivered.source}) but this lot flashes v{flashed}, "
                           "and ")
    return plan(True, f"each unit is locked to v{flashed} so it stays on the flashed version (the product releases "
                f"v{released}, {delivered.source})", lock=True)
