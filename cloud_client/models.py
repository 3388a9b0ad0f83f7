"""Typed results of the Particle Cloud API calls, each read leniently from the API's JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

JsonObject = Mapping[str, Any]


def _str(obj: JsonObject, key: str, default: str = "") -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else default


def _opt_str(obj: JsonObject, key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _int(obj: JsonObject, key: str, default: int = 0) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _opt_int(obj: JsonObject, key: str) -> int | None:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(obj: JsonObject, key: str, default: bool = False) -> bool:
    value = obj.get(key)
    return value if isinstance(value, bool) else default


def _strs(obj: JsonObject, key: str) -> tuple[str, ...]:
    value = obj.get(key)
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Product:
    """A product (``GET /v1/products/:p``)."""

    id: int
    slug: str
    name: str
    platform_id: int
    description: str = ""
    org: str | None = None
    groups: tuple[str, ...] = ()
    quarantine: bool | None = None
    device_protection: str = ""
    """The product's Device Protection setting: ``"active"`` when on, ``""`` (or absent) when not
    (particle-api-js 12.0.2 product type; particle-cli src/cmd/device-protection.js compares with 'active')."""

    @property
    def protection_active(self) -> bool:
        return self.device_protection == "active"

    @classmethod
    def from_json(cls, obj: JsonObject) -> Product:
        settings = obj.get("settings")
        quarantine = settings.get("quarantine") if isinstance(settings, Mapping) else None
        return cls(
            id=_int(obj, "id"), slug=_str(obj, "slug"), name=_str(obj, "name"), platform_id=_int(obj, "platform_id"),
            description=_str(obj, "description"), org=_opt_str(obj, "org"), groups=_strs(obj, "groups"),
            quarantine=quarantine if isinstance(quarantine, bool) else None,
            device_protection=_str(obj, "device_protection"),
        )


@dataclass(frozen=True)
class ProductDevice:
    """A device in a product, as listed or fetched (docs.particle.io Cloud API, 'List devices in a product' and 'Get
    device information'); unset values are None."""

    id: str
    name: str | None
    product_id: int
    platform_id: int
    online: bool = False
    owner: str | None = None
    development: bool = False
    quarantined: bool = False
    denied: bool = False
    groups: tuple[str, ...] = ()
    serial_number: str | None = None
    notes: str | None = None
    iccid: str | None = None
    imei: str | None = None
    firmware_version: int | None = None
    desired_firmware_version: int | None = None
    """The product firmware version the device is locked to, or None when not locked."""
    system_firmware_version: str | None = None
    last_heard: str | None = None

    @classmethod
    def from_json(cls, obj: JsonObject) -> ProductDevice:
        return cls(
            id=_str(obj, "id").lower(), name=_opt_str(obj, "name"), product_id=_int(obj, "product_id"),
            platform_id=_int(obj, "platform_id"), online=_bool(obj, "online") or _bool(obj, "connected"),
            owner=_opt_str(obj, "owner"), development=_bool(obj, "development"),
            quarantined=_bool(obj, "quarantined"), denied=_bool(obj, "denied"), groups=_strs(obj, "groups"),
            serial_number=_opt_str(obj, "serial_number"), notes=_opt_str(obj, "notes"),
            iccid=_opt_str(obj, "iccid"), imei=_opt_str(obj, "imei"),
            firmware_version=_opt_int(obj, "firmware_version"),
            desired_firmware_version=_opt_int(obj, "desired_firmware_version"),
            system_firmware_version=_opt_str(obj, "system_firmware_version"), last_heard=_opt_str(obj, "last_heard"),
        )


@dataclass(frozen=True)
class DeviceUpdate:
    """The reply to a product device update: the keys that changed, with their new values."""

    id: str
    changed: Mapping[str, Any]
    updated_at: str | None

    @classmethod
    def from_json(cls, obj: JsonObject) -> DeviceUpdate:
        changed = {key: value for key, value in obj.items() if key not in ("id", "updated_at")}
        return cls(id=_str(obj, "id").lower(), changed=changed, updated_at=_opt_str(obj, "updated_at"))


class ImportOutcome(Enum):
    """What the import did with one identifier (docs.particle.io Cloud API, 'Import devices into product';
    particle-cli src/cmd/product.js)."""

    ADDED = "added"
    EXISTING = "existing"
    """Already in this product: success, and what a repeated import reports."""
    NON_MEMBER = "non_member"
    """Owned by another user and not importable."""
    INVALID = "invalid"
    """Unknown, malformed, in another product, or of another platform."""
    PROTECTED = "protected"
    """Refused by Device Protection."""
    UNREPORTED = "unreported"
    """Sent but named in no list of the reply (e.g. a serial number the API answered with a device id)."""

    @property
    def in_product(self) -> bool:
        return self in (ImportOutcome.ADDED, ImportOutcome.EXISTING)


_IMPORT_KEYS = (
    ("updatedDeviceIds", ImportOutcome.ADDED),
    ("existingDeviceIds", ImportOutcome.EXISTING),
    ("nonmemberDeviceIds", ImportOutcome.NON_MEMBER),
    ("invalidDeviceIds", ImportOutcome.INVALID),
    ("protectedDeviceIds", ImportOutcome.PROTECTED),
)


def merge_outcomes(target: dict[str, ImportOutcome], source: Mapping[str, ImportOutcome]) -> None:
    """Add ``source`` into ``target``; for an identifier in both, a success wins over a refusal or no report."""
    for ident, outcome in source.items():
        previous = target.get(ident)
        if previous is None or previous is ImportOutcome.UNREPORTED or (outcome.in_product and not previous.in_product):
            target[ident] = outcome


@dataclass(frozen=True)
class ImportResult:
    """The merged outcome of a product import, per identifier (keys lowercased, as the API compares them)."""

    outcomes: Mapping[str, ImportOutcome] = field(default_factory=dict)
    requests: int = 0
    """How many import requests (batches) it took."""

    @classmethod
    def from_reply(cls, obj: JsonObject, sent: Iterable[str]) -> ImportResult:
        outcomes: dict[str, ImportOutcome] = {}
        for key, outcome in _IMPORT_KEYS:
            for ident in _strs(obj, key):
                outcomes.setdefault(ident.lower(), outcome)
        for ident in sent:
            outcomes.setdefault(ident.lower(), ImportOutcome.UNREPORTED)
        return cls(outcomes=outcomes, requests=1)

    def merge(self, other: ImportResult) -> ImportResult:
        """Both results together; for an identifier in both, a success wins (a retried batch says EXISTING)."""
        merged = dict(self.outcomes)
        merge_outcomes(merged, other.outcomes)
        return ImportResult(outcomes=merged, requests=self.requests + other.requests)

    def count(self, *wanted: ImportOutcome) -> int:
        return sum(1 for outcome in self.outcomes.values() if outcome in wanted)

    def outcome_of(self, identifier: str) -> ImportOutcome:
        return self.outcomes[identifier.strip().lower()]

    def with_outcome(self, *wanted: ImportOutcome) -> tuple[str, ...]:
        return tuple(ident for ident, outcome in self.outcomes.items() if outcome in wanted)

    @property
    def added(self) -> tuple[str, ...]:
        return self.with_outcome(ImportOutcome.ADDED)

    @property
    def existing(self) -> tuple[str, ...]:
        return self.with_outcome(ImportOutcome.EXISTING)

    @property
    def non_member(self) -> tuple[str, ...]:
        return self.with_outcome(ImportOutcome.NON_MEMBER)

    @property
    def invalid(self) -> tuple[str, ...]:
        return self.with_outcome(ImportOutcome.INVALID)

    @property
    def protected(self) -> tuple[str, ...]:
        return self.with_outcome(ImportOutcome.PROTECTED)

    @property
    def unreported(self) -> tuple[str, ...]:
        return self.with_outcome(ImportOutcome.UNREPORTED)

    @property
    def in_product(self) -> tuple[str, ...]:
        """Identifiers that are in the product now (added or already there)."""
        return self.with_outcome(ImportOutcome.ADDED, ImportOutcome.EXISTING)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(ident for ident, outcome in self.outcomes.items() if not outcome.in_product)


class SimCheck(Enum):
    """The answer of ``HEAD /v1/sims/:iccid`` (Particle Android SDK, cloudsdk ParticleSimStatus.kt)."""

    READY = "ready"
    """Ready to activate (2xx other than 204/205)."""
    ACTIVE_FREE_PLAN = "active_free_plan"
    """Already active on a free plan (204)."""
    ACTIVE = "active"
    """Already active (205)."""
    OWNED_ELSEWHERE = "owned_elsewhere"
    """Another account owns it (403)."""
    UNKNOWN = "unknown"
    """Not found (404)."""

    @property
    def is_active(self) -> bool:
        return self in (SimCheck.ACTIVE, SimCheck.ACTIVE_FREE_PLAN)


@dataclass(frozen=True)
class Sim:
    """A SIM card (docs.particle.io Cloud API, 'Get SIM information'); ``status`` is e.g. ``active``, ``inactive``,
    ``never_before_activated`` (particle-api-js types, Android SDK)."""

    iccid: str
    status: str
    state_change_in_progress: bool = False
    owner: str | None = None
    last_device_id: str | None = None
    base_country_code: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_pending(self) -> bool:
        """An activation (or other change) was asked for and has not finished."""
        return self.state_change_in_progress

    @classmethod
    def from_json(cls, obj: JsonObject) -> Sim:
        return cls(
            iccid=_str(obj, "iccid") or _str(obj, "_id"), status=_str(obj, "status", "unknown"),
            state_change_in_progress=_bool(obj, "state_change_in_progress"), owner=_opt_str(obj, "owner"),
            last_device_id=_opt_str(obj, "last_device_id"), base_country_code=_opt_str(obj, "base_country_code"),
        )


class ClaimOutcome(Enum):
    CLAIMED = "claimed"
    """The device belongs to the caller now (or already did)."""
    TRANSFER_REQUESTED = "transfer_requested"
    """A transfer from its current owner was requested; the owner must accept it."""


@dataclass(frozen=True)
class ClaimResult:
    device_id: str
    outcome: ClaimOutcome


@dataclass(frozen=True)
class ClaimCode:
    """A claim code (at most 63 characters) for a device to present when it first connects."""

    claim_code: str
    device_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: JsonObject) -> ClaimCode:
        return cls(claim_code=_str(obj, "claim_code"), device_ids=_strs(obj, "device_ids"))


@dataclass(frozen=True)
class SerialLookup:
    """The device behind a serial number (``GET /v1/serial_numbers/:sn``, 50 calls per hour per account)."""

    serial_number: str
    device_id: str
    platform_id: int | None = None
    iccid: str | None = None
    mobile_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, obj: JsonObject) -> SerialLookup:
        device_id = _str(obj, "device_id") or _str(obj, "deviceID")
        return cls(
            serial_number=_str(obj, "serial_number"), device_id=device_id.lower(),
            platform_id=_opt_int(obj, "platform_id"), iccid=_opt_str(obj, "iccid"),
            mobile_secret=_opt_str(obj, "mobile_secret"),
        )


@dataclass(frozen=True)
class DeviceGroup:
    name: str
    description: str = ""
    color: str | None = None
    fw_version: int | None = None
    """The product firmware version released to this group, if any."""
    device_count: int | None = None

    @classmethod
    def from_json(cls, obj: JsonObject) -> DeviceGroup:
        return cls(
            name=_str(obj, "name"), description=_str(obj, "description"), color=_opt_str(obj, "color"),
            fw_version=_opt_int(obj, "fw_version"), device_count=_opt_int(obj, "device_count"),
        )


@dataclass(frozen=True)
class ProductFirmware:
    """A product firmware version; ``product_default`` marks the released default
    (docs.particle.io Cloud API, 'List all versions of product firmware')."""

    version: int
    title: str = ""
    description: str = ""
    name: str = ""
    size: int | None = None
    product_default: bool = False
    groups: tuple[str, ...] = ()
    """Groups this version is released to."""
    uploaded_on: str | None = None
    device_count: int | None = None

    @classmethod
    def from_json(cls, obj: JsonObject) -> ProductFirmware:
        return cls(
            version=_int(obj, "version"), title=_str(obj, "title"), description=_str(obj, "description"),
            name=_str(obj, "name"), size=_opt_int(obj, "size"), product_default=_bool(obj, "product_default"),
            groups=_strs(obj, "groups"), uploaded_on=_opt_str(obj, "uploaded_on"),
            device_count=_opt_int(obj, "device_count"),
        )


class SimActivation(Enum):
    """Where a product SIM stands after the station asked for its activation (import is queued: docs.particle.io
    Cloud API, 'Import and activate product SIMs')."""

    ACTIVE = "active"
    PENDING = "pending"
    """Imported; the activation finishes later. A unit does not wait for it."""
    OWNED_ELSEWHERE = "owned_elsewhere"
    NOT_FOUND = "not_found"
    """The cloud does not know the ICCID even after the import was accepted."""
