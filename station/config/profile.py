"""The station profile: what a line provisions and how (product, firmware, steps, cloud), as typed settings.

station.config.profile_loader reads it from its TOML file.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.platforms import Platform
from station.config.line_db import LineSettings
from station.config.profile_error import ProfileError
from station.config.protection import ProtectionSettings
from station.config.tests import TestPlan

_GROUP_NAME = re.compile(r"[a-z0-9_-]{1,64}")
PIN_ITERATIONS = 200_000


__all__ = ["ProfileError"]  # re-exported: every part of the profile raises this one error


class SimActivationPolicy(enum.Enum):
    AUTO = "auto"
    """Activate the SIM when the platform is cellular (and it is not already active in this product)."""
    ALWAYS = "always"
    """Every unit must have a SIM activated; a non-cellular unit is a FAIL."""
    OFF = "off"


class ClaimMode(enum.Enum):
    OFF = "off"
    PRODUCT_OWNER = "product-owner"
    """Claim to the account whose credentials the station uses (the product owner or its API user)."""
    ACCOUNT = "account"
    """Claim to a named account (``claim_account``)."""
    CLAIM_CODE = "claim-code"
    """Write a customer claim code onto the device (control request 200); it claims itself on first connection."""


class FirmwareVersionPolicy(enum.Enum):
    """What to do when the version flashed differs from what the product would deliver over the air."""

    WARN = "warn"
    REFUSE = "refuse"
    LOCK = "lock"


class ConfirmFailure(enum.Enum):
    """How a unit ends when the cloud never sees it online within the time box."""

    FAIL = "fail"
    NOT_CONFIRMED = "not-confirmed"


class WorkbookScope(enum.Enum):
    PER_LOT = "per-lot"
    PER_DAY = "per-day"


@dataclass(frozen=True)
class FirmwareSpec:
    file: Path | None
    sha256: str | None
    product_version: int | None
    """A product firmware version to download from the product instead of a file (issue: product side)."""
    minimum_device_os: str | None
    version_policy: FirmwareVersionPolicy
    device_os_bundle: tuple[Path, ...] = ()
    """Device OS modules (system parts, bootloader, ...) installed on a unit below ``minimum_device_os``."""


@dataclass(frozen=True)
class StepOptions:
    identify: bool = True
    check_label: bool = True
    flash: bool = True
    pre_add: bool = True
    sim_activation: SimActivationPolicy = SimActivationPolicy.AUTO
    claim: ClaimMode = ClaimMode.OFF
    claim_account: str | None = None
    customer_email: str | None = None
    development: bool | None = None
    rename: str | None = None
    groups: tuple[str, ...] = ()
    firmware_lock: bool = False
    device_os_update: bool = False
    setup_done: bool = True
    """Set the setup-done flag on Gen 3 devices below Device OS 4.0 (a no-op, and skipped, from 4.0 on)."""


@dataclass(frozen=True)
class OnlineConfirmation:
    enabled: bool = False
    timeout_s: float = 120.0
    on_timeout: ConfirmFailure = ConfirmFailure.NOT_CONFIRMED


@dataclass(frozen=True)
class CloudSettings:
    base_url: str
    credentials: str
    """A credential reference (e.g. ``env:PARTICLE`` or ``keyring:particle-station/line-1``), never a secret."""
    batch_size: int = 100


class DeviceLinkKind(enum.Enum):
    """How the line reaches its units: USB control requests and DFU (any Device OS), or the USB serial console
    (listening mode, YMODEM flashing: Device OS below 6.0.0 only), e.g. for tests sent as console lines."""

    USB = "usb"
    SERIAL = "serial"


@dataclass(frozen=True)
class SlotSettings:
    count: int = 1
    ports: tuple[str, ...] = ()
    """Per slot, the USB port path (e.g. ``1-1.2``) or device id that belongs to it; empty = any device."""
    link: DeviceLinkKind = DeviceLinkKind.USB


@dataclass(frozen=True)
class OperatorLock:
    engineer_pin_hash: str | None = field(default=None, repr=False)
    ask_name: bool = False
    """``[operator] ask_name``: the window asks who operates the station (unless ``run --operator NAME`` says) and
    records that name on every unit; a headless run then needs ``--operator``."""

    @property
    def enabled(self) -> bool:
        return self.engineer_pin_hash is not None

    def check(self, pin: str) -> bool:
        if self.engineer_pin_hash is None:
            return True
        return verify_pin(pin, self.engineer_pin_hash)


@dataclass(frozen=True)
class StationProfile:
    path: Path
    station_name: str
    product_id: int
    platform: Platform
    firmware: FirmwareSpec
    steps: StepOptions
    cloud: CloudSettings
    slots: SlotSettings
    log_folder: Path
    lot_naming: str
    workbook: WorkbookScope
    operator: OperatorLock
    confirm: OnlineConfirmation = field(default_factory=OnlineConfirmation)
    wifi: dict[str, Any] | None = None
    """The raw [wifi] section (ssid, security, password_ref, hidden); read by station.config.wifi when the step runs."""
    protection: ProtectionSettings = field(default_factory=ProtectionSettings)
    """The [protection] section: Protected Devices on arrival, protection at the end (station.config.protection)."""
    tests: TestPlan | None = None
    """The tests each unit runs on the fixture before the product firmware (``[tests]``, station.config.tests)."""
    line: LineSettings | None = None
    """The [line] section: the line database this station feeds (station.line), or None for a station alone."""

    @property
    def firmware_cache(self) -> Path:
        return self.log_folder / "firmware-cache"

    def lot_name(self, *, date: str, seq: int) -> str:
        return render_template(self.lot_naming, "lot_naming", LOT_NAME_FIELDS, product=self.product_id, date=date,
                               seq=seq, station=_slug(self.station_name))

    @property
    def lot_naming_has_seq(self) -> bool:
        """Whether every start of a day may open a new lot; without ``{seq}`` a day has one lot."""
        return "seq" in template_fields(self.lot_naming)


LOT_NAME_FIELDS = ("product", "date", "seq", "station")
DEVICE_NAME_FIELDS = ("serial", "device_id", "short_id", "product", "platform", "lot", "station", "date")


def template_fields(template: str) -> list[str]:
    """The field names a ``str.format`` template uses; raises ValueError when it is not a template (``{``)."""
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]


def render_template(template: str, key: str, allowed: Collection[str], **values: object) -> str:
    """``template`` filled from ``values``; a ProfileError naming ``key`` and the allowed fields if it cannot be.

    Only plain fields (``{serial}``, ``{seq:03d}``) are allowed: no positional ``{}``, attribute ``{a.b}`` or index
    ``{a[0]}``, whose result would depend on the unit."""
    listed = ", ".join("{" + name + "}" for name in allowed)
    try:
        fields = template_fields(template)
    except ValueError as exc:
        raise ProfileError(f"{key}: {template!r} is not a valid pattern ({exc}); use {listed}") from None
    for name in fields:
        if name not in allowed:
            shown = "{" + name + "}" if name else "{}"
            raise ProfileError(f"{key}: unknown field {shown} in {template!r}; use {listed}")
    try:
        return template.format(**values)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ProfileError(f"{key}: {template!r} cannot be filled in ({exc}); use {listed}") from None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "station"


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = PIN_ITERATIONS) -> str:
    """A PBKDF2-SHA256 hash of an engineer PIN in the form ``pbkdf2_sha256$iterations$salt$hash``."""
    if not pin:
        raise ProfileError("the engineer PIN must not be empty")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations_text, salt_hex, digest_hex = stored.split("$")
        iterations = int(iterations_text)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return hmac.compare_digest(digest, expected)


def validate_group_name(name: str, *, where: str = "group") -> str:
    """A device group name as the API accepts it: lowercase letters, digits, ``-`` and ``_``."""
    if not _GROUP_NAME.fullmatch(name):
        raise ProfileError(
            f"{where} {name!r} is not a valid group name: use lowercase letters, digits, '-' and '_' (1-64 characters)"
        )
    return name
