"""The station profile: one TOML file that says what a line provisions and how (product, firmware, steps, cloud).

Every error names the key and, where the file has it, the line, so an engineer can fix the file at once.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_client.credentials import CredentialRef
from cloud_client.errors import AuthError
from hardware.errors import UnknownPlatformError
from hardware.firmware.versions import DeviceOsVersion
from hardware.platforms import Platform, parse_platform
from station.config.toml_lines import line_of
from station.errors import StationError

_GROUP_NAME = re.compile(r"[a-z0-9_-]{1,64}")
_DATE_TOKENS = ("{date}", "{date_seq}")
_RENAME_FIELDS = {"serial", "device_id", "product", "platform", "lot", "station", "date", "short_id"}
PIN_ITERATIONS = 200_000


class ProfileError(StationError):
    """The station profile cannot be used; the message names the file, the key and the line."""


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


@dataclass(frozen=True)
class SlotSettings:
    count: int = 1
    ports: tuple[str, ...] = ()
    """Per slot, the USB port path (e.g. ``1-1.2``) or device id that belongs to it; empty = any device."""


@dataclass(frozen=True)
class OperatorLock:
    engineer_pin_hash: str | None = field(default=None, repr=False)

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

    @property
    def firmware_cache(self) -> Path:
        return self.log_folder / "firmware-cache"

    def lot_name(self, *, date: str, seq: int) -> str:
        return self.lot_naming.format(product=self.product_id, date=date, seq=seq, station=_slug(self.station_name))


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


class _Reader:
    """Reads typed values out of the parsed TOML, naming the key and its line in every error."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.data = data

    def line_of(self, dotted: str) -> int | None:
        return line_of(self.lines, dotted)

    def fail(self, dotted: str, message: str) -> ProfileError:
        line = self.line_of(dotted)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return ProfileError(f"{where}: {dotted}: {message}")

    def get(self, dotted: str, default: Any = ..., *, required: bool = False) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                if required or default is ...:
                    table = dotted.rpartition(".")[0]
                    raise self.fail(dotted, f"missing; add `{dotted.rpartition('.')[2]} = ...` under [{table}]")
                return default
            node = node[part]
        return node

    def string(self, dotted: str, default: Any = ..., *, required: bool = False) -> Any:
        value = self.get(dotted, default, required=required)
        if value is default and default is not ...:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, f"must be a non-empty text in quotes, got {value!r}")
        return value.strip()

    def integer(self, dotted: str, default: Any = ..., *, minimum: int | None = None) -> Any:
        value = self.get(dotted, default)
        if value is default and default is not ...:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(dotted, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(dotted, f"must be at least {minimum}, got {value}")
        return value

    def boolean(self, dotted: str, default: Any = ...) -> Any:
        value = self.get(dotted, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, bool):
            raise self.fail(dotted, f"must be true or false, got {value!r}")
        return value

    def choice(self, dotted: str, enum_type: type[enum.Enum], default: enum.Enum) -> Any:
        value = self.get(dotted, default.value)
        try:
            return enum_type(value)
        except ValueError:
            options = ", ".join(repr(m.value) for m in enum_type)
            raise self.fail(dotted, f"must be one of {options}, got {value!r}") from None

    def string_list(self, dotted: str) -> tuple[str, ...]:
        value = self.get(dotted, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(dotted, f"must be a list of texts, e.g. [\"a\", \"b\"], got {value!r}")
        return tuple(v.strip() for v in value)


_KNOWN_KEYS = {
    "station": {"name", "log_folder", "lot_naming", "workbook"},
    "product": {"id", "platform"},
    "firmware": {"file", "sha256", "product_version", "minimum_device_os", "version_policy", "device_os_bundle"},
    "steps": {
        "identify", "check_label", "flash", "pre_add", "sim_activation", "claim", "claim_account", "customer_email",
        "development", "rename", "groups", "firmware_lock", "device_os_update", "setup_done",
    },
    "confirm": {"online", "timeout_s", "on_timeout"},
    "wifi": {"ssid", "security", "password_ref", "hidden", "cipher", "password"},
    "cloud": {"base_url", "credentials", "batch_size"},
    "slots": {"count", "ports"},
    "operator": {"engineer_pin_hash"},
}


def load_profile(path: str | Path) -> StationProfile:
    """Read and validate a station profile; raise ProfileError naming the key and line of the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"station profile {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read station profile {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return parse_profile(data, path=path, text=text)


def parse_profile(data: dict[str, Any], *, path: Path, text: str = "") -> StationProfile:
    r = _Reader(path, text, data)
    for table, value in data.items():
        if table not in _KNOWN_KEYS:
            raise r.fail(table, f"unknown section [{table}]; known sections: {', '.join(sorted(_KNOWN_KEYS))}")
        if not isinstance(value, dict):
            raise r.fail(table, f"must be a section [{table}], not a single value")
        for key in value:
            if key not in _KNOWN_KEYS[table]:
                known = ", ".join(sorted(_KNOWN_KEYS[table]))
                raise r.fail(f"{table}.{key}", f"unknown key; known keys in [{table}]: {known}")
    base = path.parent

    try:
        platform = parse_platform(str(r.get("product.platform", required=True)))
    except UnknownPlatformError as exc:
        raise r.fail("product.platform", str(exc)) from None

    fw_file = r.string("firmware.file", None)
    fw_version = r.integer("firmware.product_version", None, minimum=1)
    if fw_file is None and fw_version is None:
        raise r.fail("firmware.file", "missing; name the firmware `file` (and its `sha256`) or a `product_version`")
    if fw_file is not None and fw_version is not None:
        raise r.fail("firmware.product_version", "give either `file` or `product_version`, not both")
    sha256 = r.string("firmware.sha256", None)
    if sha256 is not None:
        sha256 = sha256.lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise r.fail("firmware.sha256", "must be the 64 hex characters of the file's SHA-256")
    if fw_file is not None and sha256 is None:
        raise r.fail("firmware.sha256", "missing; the station refuses a firmware file whose SHA-256 is not pinned")
    min_os = r.string("firmware.minimum_device_os", None)
    if min_os is not None and DeviceOsVersion.parse_or_none(min_os) is None:
        raise r.fail("firmware.minimum_device_os", f"must be a version such as \"6.2.0\", got {min_os!r}")
    firmware = FirmwareSpec(
        file=(base / fw_file).resolve() if fw_file else None,
        sha256=sha256,
        product_version=fw_version,
        minimum_device_os=min_os,
        version_policy=r.choice("firmware.version_policy", FirmwareVersionPolicy, FirmwareVersionPolicy.WARN),
        device_os_bundle=tuple((base / name).resolve() for name in r.string_list("firmware.device_os_bundle")),
    )

    claim = r.choice("steps.claim", ClaimMode, ClaimMode.OFF)
    claim_account = r.string("steps.claim_account", None)
    if claim is ClaimMode.ACCOUNT and claim_account is None:
        raise r.fail("steps.claim_account", "missing; claim = \"account\" needs the account's e-mail")
    customer_email = r.string("steps.customer_email", None)
    if claim is ClaimMode.CLAIM_CODE and customer_email is None:
        raise r.fail("steps.customer_email", "missing; claim = \"claim-code\" needs the customer's e-mail")
    rename = r.string("steps.rename", None)
    if rename is not None:
        fields = set(re.findall(r"{(\w+)}", rename))
        unknown = fields - _RENAME_FIELDS
        if unknown:
            allowed = ", ".join("{" + f + "}" for f in sorted(_RENAME_FIELDS))
            raise r.fail("steps.rename", f"unknown field {{{sorted(unknown)[0]}}}; use {allowed}")
    groups = r.string_list("steps.groups")
    for group in groups:
        if group.lower() in _DATE_TOKENS:
            continue
        try:
            validate_group_name(group, where="group")
        except ProfileError as exc:
            raise r.fail("steps.groups", str(exc)) from None
    development = r.get("steps.development", None)
    if development is not None and not isinstance(development, bool):
        raise r.fail("steps.development", f"must be true or false, got {development!r}")
    steps = StepOptions(
        identify=r.boolean("steps.identify", True),
        check_label=r.boolean("steps.check_label", True),
        flash=r.boolean("steps.flash", True),
        pre_add=r.boolean("steps.pre_add", True),
        sim_activation=r.choice("steps.sim_activation", SimActivationPolicy, SimActivationPolicy.AUTO),
        claim=claim,
        claim_account=claim_account,
        customer_email=customer_email,
        development=development,
        rename=rename,
        groups=groups,
        firmware_lock=r.boolean("steps.firmware_lock", False),
        device_os_update=r.boolean("steps.device_os_update", False),
        setup_done=r.boolean("steps.setup_done", True),
    )
    if steps.device_os_update and not (firmware.device_os_bundle and firmware.minimum_device_os):
        raise r.fail("steps.device_os_update", "needs firmware.minimum_device_os and firmware.device_os_bundle")
    if steps.sim_activation is SimActivationPolicy.ALWAYS and not platform.is_cellular:
        raise r.fail("steps.sim_activation", f"is \"always\" but {platform} has no cellular modem")

    base_url = r.string("cloud.base_url", "https://api.particle.io")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise r.fail("cloud.base_url", f"must be an http(s) URL, got {base_url!r}")
    credentials = r.string("cloud.credentials", required=True)
    try:
        CredentialRef.parse(credentials)
    except AuthError as exc:
        raise r.fail("cloud.credentials", f"must be a credential reference, never a secret: {exc}") from None
    cloud = CloudSettings(base_url=base_url.rstrip("/"), credentials=credentials,
                          batch_size=r.integer("cloud.batch_size", 100, minimum=1))

    count = r.integer("slots.count", 1, minimum=1)
    ports = r.string_list("slots.ports")
    if ports and len(ports) != count:
        raise r.fail("slots.ports", f"lists {len(ports)} ports but slots.count is {count}")
    pin_hash = r.string("operator.engineer_pin_hash", None)
    if pin_hash is not None and not pin_hash.startswith("pbkdf2_sha256$"):
        raise r.fail(
            "operator.engineer_pin_hash",
            "must be a PIN hash made with `particle-station profile hash-pin`, never the PIN itself",
        )
    lot_naming = r.string("station.lot_naming", "{product}-{date}-{seq:03d}")
    try:
        lot_naming.format(product=1, date="20260101", seq=1, station="s")
    except (KeyError, ValueError, IndexError) as exc:
        allowed = "{product}, {date}, {seq}, {station}"
        raise r.fail("station.lot_naming", f"bad pattern ({exc}); use {allowed}") from None

    timeout = r.get("confirm.timeout_s", 120)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise r.fail("confirm.timeout_s", f"must be a number of seconds above 0, got {timeout!r}")
    confirm = OnlineConfirmation(
        enabled=r.boolean("confirm.online", False),
        timeout_s=float(timeout),
        on_timeout=r.choice("confirm.on_timeout", ConfirmFailure, ConfirmFailure.NOT_CONFIRMED),
    )
    wifi = data.get("wifi")
    if wifi is not None:
        if "password" in wifi:
            raise r.fail("wifi.password", "never put a Wi-Fi password in the profile; use password_ref")
        r.string("wifi.ssid", required=True)
        from station.config.wifi import WifiProfile, WifiSettingsError

        try:
            WifiProfile.parse(wifi)
        except WifiSettingsError as exc:
            raise r.fail("wifi", str(exc)) from None
    if wifi is not None and not platform.is_wifi:
        raise r.fail("wifi.ssid", f"{platform} has no Wi-Fi; remove the [wifi] section")

    return StationProfile(
        path=path.resolve(),
        station_name=r.string("station.name", required=True),
        product_id=r.integer("product.id", minimum=1),
        platform=platform,
        firmware=firmware,
        steps=steps,
        cloud=cloud,
        slots=SlotSettings(count=count, ports=ports),
        log_folder=(base / r.string("station.log_folder", "station-data")).resolve(),
        lot_naming=lot_naming,
        workbook=r.choice("station.workbook", WorkbookScope, WorkbookScope.PER_LOT),
        operator=OperatorLock(pin_hash),
        confirm=confirm,
        wifi=dict(wifi) if wifi is not None else None,
    )
