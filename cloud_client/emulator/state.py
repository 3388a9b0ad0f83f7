"""The emulated cloud's records (users, tokens, products, devices, SIMs …) as dataclasses behind one lock."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

from cloud_client.emulator.catalog import platform_by_id

DEFAULT_TOKEN_LIFETIME_S = 7_776_000
"""90 days: the default lifetime of an OAuth token (docs.particle.io Cloud API, 'Generate an access token')."""


class Clock:
    """Wall-clock seconds plus an offset that tests move forward instead of sleeping."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class TokenKind(StrEnum):
    USER = "user"
    """A person's token from the password grant (or seeded)."""
    PRODUCT = "product"
    """A product OAuth client's client-credentials token: full access to that one product."""
    CUSTOMER = "customer"
    """A product customer's token (client credentials with ``scope=customer=<email>``)."""
    API_USER = "api_user"
    """A product API user's token: that product only, limited to its scopes."""


@dataclass
class User:
    username: str
    password: str | None = field(default=None, repr=False)
    programmatic: bool = False
    """An API user (docs.particle.io Cloud API, 'API users'); its token never expires and its scopes limit it."""
    product_id: int | None = None
    scopes: list[str] = field(default_factory=list)
    mfa_otp: str | None = field(default=None, repr=False)
    """When set, the password grant answers 403 mfa_required and this one-time password completes it."""


@dataclass
class Token:
    token: str = field(repr=False)
    kind: TokenKind
    client_id: str
    created_at: float
    expires_at: float | None
    username: str | None = None
    product_id: int | None = None
    scopes: list[str] = field(default_factory=list)
    refresh_token: str | None = field(default=None, repr=False)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass
class OAuthClient:
    client_id: str
    secret: str = field(repr=False)
    product_id: int | None = None
    owner: str | None = None
    """The user whose account a plain (non-product) client's client-credentials tokens act for."""


@dataclass
class Customer:
    username: str
    password: str | None = field(default=None, repr=False)


@dataclass
class Group:
    name: str
    description: str = ""
    color: str = "#34495e"


@dataclass
class Firmware:
    version: int
    title: str
    description: str
    name: str
    size: int
    uploaded_by: str
    uploaded_on: float
    binary_b64: str = field(repr=False)
    product_default: bool = False
    groups: list[str] = field(default_factory=list)
    released: bool = False
    """Ever released: only never-released firmware may be deleted
    (docs.particle.io Cloud API, 'Delete unreleased firmware binary')."""
    mandatory: bool = False
    intelligent: bool = False
    updated_at: float = 0.0


@dataclass
class Product:
    id: int
    slug: str
    name: str
    platform_id: int
    owner: str
    description: str = ""
    team: list[str] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    firmware: dict[int, Firmware] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    quarantine: bool = True
    denied_ids: list[str] = field(default_factory=list)
    device_protection: str = ""
    """"active" when the product has Device Protection, else "" (enabled by Particle per product: no public API,
    docs.particle.io 'Device Protection'; the emulator's admin route and seeding set it)."""

    def released_version(self, device_groups: list[str]) -> int | None:
        """The firmware a device in these groups should run: its groups' release, else the product default."""
        for fw in sorted(self.firmware.values(), key=lambda f: -f.version):
            if set(fw.groups) & set(device_groups):
                return fw.version
        for fw in self.firmware.values():
            if fw.product_default:
                return fw.version
        return None


@dataclass
class Device:
    id: str
    platform_id: int
    serial_number: str | None = None
    iccid: str | None = None
    imei: str | None = None
    mobile_secret: str | None = field(default=None, repr=False)
    product_id: int | None = None
    owner: str | None = None
    name: str | None = None
    notes: str | None = None
    development: bool = False
    quarantined: bool = False
    denied: bool = False
    groups: list[str] = field(default_factory=list)
    desired_firmware_version: int | None = None
    firmware_updates_enabled: bool = True
    firmware_updates_forced: bool = False
    # Connection fields: filled by EmulatorServer.device_connects (the simulated line calls it).
    online: bool = False
    last_heard: float | None = None
    last_handshake_at: float | None = None
    last_ip_address: str | None = None
    firmware_product_id: int | None = None
    firmware_version: int | None = None
    system_firmware_version: str | None = None
    updated_at: float = 0.0
    protected: bool = False
    """A Protected Device: its bootloader carries the SECURITY_MODE extension (Service Mode does not change it)."""
    public_key_pem: str | None = None
    """The device's public key when it is not the simulated world's key for its id (a test registers another)."""

    @property
    def cellular(self) -> bool:
        return platform_by_id(self.platform_id).cellular


class SimStatus(StrEnum):
    NEVER_ACTIVATED = "never_before_activated"
    ACTIVE = "active"
    INACTIVE = "inactive"
    DEACTIVATED = "deactivated"
    DATA_LIMIT = "inactive_data_limit_reached"


class SimAction(StrEnum):
    ACTIVATE = "activate"
    RELEASE = "release"


@dataclass
class Sim:
    iccid: str
    status: SimStatus = SimStatus.NEVER_ACTIVATED
    owner: str | None = None
    product_id: int | None = None
    base_country_code: str = "US"
    activations_count: int = 0
    deactivations_count: int = 0
    first_activated_on: float | None = None
    last_activated_on: float | None = None
    last_activated_via: str | None = None
    last_status_change_action: str | None = None
    last_status_change_action_on: float | None = None
    pending_action: SimAction | None = None
    pending_until: float | None = None
    status_check_until: float | None = None
    """When a started cellular-status check completes (202 pending, then complete: docs.particle.io Cloud API, 'Get
    cellular network status')."""
    msisdn: str | None = None
    carrier: str = "telefonica"
    last_device_id: str | None = None
    mb_limit: int | None = None
    free_plan: bool = False
    updated_at: float = 0.0

    def settle(self, now: float) -> bool:
        """Finish an asynchronous activation or release whose delay has passed; True when one finished."""
        if self.pending_action is None or self.pending_until is None or now < self.pending_until:
            return False
        action, self.pending_action, self.pending_until = self.pending_action, None, None
        self.last_status_change_action_on = now
        self.updated_at = now
        if action is SimAction.ACTIVATE:
            self.status = SimStatus.ACTIVE
            self.activations_count += 1
            self.first_activated_on = self.first_activated_on or now
            self.last_activated_on = now
            self.last_status_change_action = "activate"
        else:
            if self.status is SimStatus.ACTIVE:
                self.deactivations_count += 1
            self.status = SimStatus.DEACTIVATED
            self.owner = None
            self.product_id = None
            self.last_status_change_action = "deactivate"
        return True


@dataclass
class ClaimCode:
    code: str = field(repr=False)
    username: str
    created_at: float
    product_id: int | None = None
    iccid: str | None = None
    imei: str | None = None


@dataclass
class SimImportResult:
    """What Particle would e-mail after a SIM import: one line per ICCID (docs.particle.io, 'Import and activate product
    SIMs')."""

    iccid: str
    product_id: int
    outcome: str
    at: float


@dataclass
class CloudState:
    """Every record of the emulated cloud; read and change it only while holding ``lock``."""

    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    sims: dict[str, Sim] = field(default_factory=dict)
    claim_codes: list[ClaimCode] = field(default_factory=list)
    sim_import_results: list[SimImportResult] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    version: int = field(default=0, compare=False)
    """Bumped by every change; persistence saves when it moved."""

    def changed(self) -> None:
        self.version += 1

    def product_by_ref(self, ref: str) -> Product | None:
        """The product named by a path's ``:p``: its numeric id or its slug (docs.particle.io Cloud API, 'Product ID or
        slug')."""
        if ref.isdigit():
            return self.products.get(int(ref))
        wanted = ref.lower()
        return next((p for p in self.products.values() if p.slug.lower() == wanted), None)

    def device_by_serial(self, serial: str) -> Device | None:
        wanted = serial.strip().upper()
        return next((d for d in self.devices.values() if (d.serial_number or "").upper() == wanted), None)

    def device_by_iccid(self, iccid: str) -> Device | None:
        return next((d for d in self.devices.values() if d.iccid == iccid), None)

    def device_by_imei(self, imei: str) -> Device | None:
        return next((d for d in self.devices.values() if d.imei == imei), None)

    def settle_sims(self, now: float) -> None:
        for sim in self.sims.values():
            self.settle_sim(sim, now)

    def settle_sim(self, sim: Sim, now: float) -> None:
        if sim.settle(now):
            self.changed()
