"""Seeding the emulated cloud in-process: users, tokens, products, OAuth clients, devices, SIMs, customers, firmware."""

from __future__ import annotations

import base64
import copy
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from cloud_client.emulator.catalog import (
    COMMON_PLATFORMS,
    CloudPlatform,
    UnknownCloudPlatform,
    platform_by_id,
    platform_by_name,
)
from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.errors import EmulatorError
from cloud_client.emulator.factory import DeviceFactory
from cloud_client.emulator.protection_keys import load_public_key
from cloud_client.emulator.state import (
    Customer,
    Device,
    Firmware,
    OAuthClient,
    Product,
    Sim,
    SimStatus,
    Token,
    TokenKind,
    User,
)

_HEX24 = re.compile(r"[0-9a-fA-F]{24}")


class Unset(Enum):
    UNSET = "unset"


UNSET: Final = Unset.UNSET
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def _protection_setting(value: str) -> str:
    if value not in ("active", ""):
        raise EmulatorError(f'device_protection must be "active" or "", got {value!r}')
    return value


@dataclass(frozen=True)
class OwnedProduct:
    """A product, the account that owns it and a never-expiring token of that account: what a station provisions
    into the emulator with."""

    product: Product
    owner: str
    access_token: str


class Seeder:
    """Adds records straight into the state (thread-safe); every method returns a copy of what it stored.

    The one place that seeds an emulator: the emulator's command line, the simulated line, the HIL harness and the
    tests all go through these methods (``add_owned_product`` for the usual owner + token + product).
    """

    def __init__(self, cloud: EmulatedCloud, factory: DeviceFactory) -> None:
        self.cloud = cloud
        self._factory = factory
        self._saving_deferred = False

    def _commit(self) -> None:
        self.cloud.state.changed()
        if not self._saving_deferred:
            self.cloud.save_if_changed()

    def _product(self, product_id: int) -> Product:
        product = self.cloud.state.products.get(product_id)
        if product is None:
            raise EmulatorError(f"product {product_id} does not exist in the emulator; add it with add_product first")
        return product

    def _platform_id(self, platform: str | int) -> int:
        try:
            return platform_by_id(platform).id if isinstance(platform, int) else platform_by_name(platform).id
        except UnknownCloudPlatform as exc:
            raise EmulatorError(str(exc)) from None

    def first_user(self) -> str | None:
        with self.cloud.state.lock:
            return next(iter(self.cloud.state.users), None)

    def add_user(self, username: str, password: str | None, *, mfa_otp: str | None = None) -> User:
        """A Particle account that can log in with the password grant (and an MFA one-time password if given)."""
        user = User(username=username.strip().lower(), password=password, mfa_otp=mfa_otp)
        with self.cloud.state.lock:
            self.cloud.state.users[user.username] = user
            self._commit()
        return copy.deepcopy(user)

    def add_access_token(self, token: str, user: str, *, expires_in: int | None = None) -> Token:
        """A known token for ``user``; it never expires unless ``expires_in`` seconds are given."""
        name = user.strip().lower()
        with self.cloud.state.lock:
            if name not in self.cloud.state.users:
                raise EmulatorError(f"cannot add a token for {user}: no such user; add_user first")
        stored = self.cloud.issue_token(
            TokenKind.USER, "particle", username=name, expires_in=expires_in or 0, with_refresh=False, value=token
        )
        self.cloud.save_if_changed()
        return copy.deepcopy(stored)

    def add_product(
        self,
        product_id: int,
        platform: str | int,
        owner: str | None = None,
        name: str | None = None,
        *,
        slug: str | None = None,
        quarantine: bool = True,
        device_protection: str = "",
    ) -> Product:
        """A product of one platform owned by ``owner`` (default: the first user); ``device_protection="active"``
        gives it Device Protection."""
        owner_name = (owner or self.first_user() or "").lower()
        if not owner_name:
            raise EmulatorError(f"product {product_id} needs an owner; add a user first")
        title = name or f"Product {product_id}"
        product = Product(
            id=product_id,
            slug=slug or f"{_SLUG_JUNK.sub('-', title.lower()).strip('-')}-{product_id}",
            name=title,
            platform_id=self._platform_id(platform),
            owner=owner_name,
            quarantine=quarantine,
            device_protection=_protection_setting(device_protection),
        )
        with self.cloud.state.lock:
            if owner_name not in self.cloud.state.users:
                raise EmulatorError(f"product {product_id}: owner {owner_name} is not a user; add_user first")
            self.cloud.state.products[product_id] = product
            self._commit()
        return copy.deepcopy(product)

    def add_owned_product(
        self,
        product_id: int,
        platform: str | int,
        owner: str,
        *,
        password: str | None = None,
        access_token: str | None = None,
        name: str | None = None,
        slug: str | None = None,
        quarantine: bool = True,
        device_protection: str = "",
    ) -> OwnedProduct:
        """``owner``'s account (made unless it exists; it logs in with ``password`` when given), a never-expiring
        token of it (``access_token``, else a random one) and a product of ``platform`` it owns."""
        with self.cloud.state.lock:
            known = owner.strip().lower() in self.cloud.state.users
        if not known:
            self.add_user(owner, password)
        token = access_token or secrets.token_hex(20)
        stored = self.add_access_token(token, owner)
        product = self.add_product(product_id, platform, owner, name, slug=slug, quarantine=quarantine,
                                   device_protection=device_protection)
        return OwnedProduct(product, product.owner, stored.token)

    def add_client(self, client_id: str, secret: str, product_id: int | None = None) -> OAuthClient:
        """An OAuth client; with ``product_id`` its client-credentials tokens reach that product only."""
        with self.cloud.state.lock:
            if product_id is not None:
                self._product(product_id)
            client = OAuthClient(
                client_id, secret, product_id=product_id, owner=None if product_id else self.first_user()
            )
            self.cloud.state.clients[client_id] = client
            self._commit()
        return copy.deepcopy(client)

    def add_device(
        self,
        device_id: str,
        platform: str | int,
        serial: str | None = None,
        iccid: str | None = None,
        *,
        imei: str | None = None,
        mobile_secret: str | None = None,
        owner: str | None = None,
        product_id: int | None = None,
        protected: bool = False,
    ) -> Device:
        """A device the cloud knows from manufacturing (not in any product unless ``product_id`` is given);
        ``protected``: a Protected Device."""
        if not _HEX24.fullmatch(device_id):
            raise EmulatorError(f"device id {device_id!r} is not 24 hex characters")
        device = Device(
            id=device_id.lower(),
            platform_id=self._platform_id(platform),
            serial_number=serial.upper() if serial else None,
            iccid=iccid,
            imei=imei,
            mobile_secret=mobile_secret,
            owner=owner.lower() if owner else None,
            product_id=product_id,
            protected=protected,
        )
        with self.cloud.state.lock:
            if product_id is not None:
                self._product(product_id)
            self.cloud.state.devices[device.id] = device
            if iccid and iccid not in self.cloud.state.sims:
                # A cellular device's SIM is known to Particle from manufacturing, unowned and never activated.
                self.cloud.state.sims[iccid] = Sim(iccid=iccid, last_device_id=device.id)
            self._commit()
        return copy.deepcopy(device)

    def set_device_protection(
        self, device_id: str, protected: bool | None = True, *, public_key_pem: str | Unset | None = UNSET
    ) -> Device:
        """Mark a device a Protected Device (or not); ``public_key_pem`` registers another public key for it
        (None: back to the simulated world's key for its id)."""
        if isinstance(public_key_pem, str):
            try:
                load_public_key(public_key_pem)
            except ValueError:
                raise EmulatorError(f"device {device_id}: public_key_pem is not a P-256 public key in PEM") from None
        with self.cloud.state.lock:
            device = self.cloud.state.devices.get(device_id.strip().lower())
            if device is None:
                raise EmulatorError(f"device {device_id} is not known to the emulator; add it first")
            if protected is not None:
                device.protected = protected
            if not isinstance(public_key_pem, Unset):
                device.public_key_pem = public_key_pem
            self._commit()
            return copy.deepcopy(device)

    def set_product_device_protection(self, product_id: int, setting: str = "active") -> Product:
        """Turn the product's Device Protection on (``"active"``) or off (``""``), as Particle does on request."""
        with self.cloud.state.lock:
            product = self._product(product_id)
            product.device_protection = _protection_setting(setting)
            self._commit()
            return copy.deepcopy(product)

    def add_factory_devices(self, n: int, platforms: Iterable[str] | None = None) -> list[Device]:
        """``n`` manufactured devices per platform: those given, else the seeded products', else common ones."""
        with self.cloud.state.lock:
            names = (
                list(platforms)
                if platforms is not None
                else sorted({platform_by_id(p.platform_id).name for p in self.cloud.state.products.values()})
            )
        created: list[Device] = []
        # One save for the whole pool, not one per device.
        self._saving_deferred = True
        try:
            for name in names or list(COMMON_PLATFORMS):
                created.extend(self._make_devices(platform_by_id(self._platform_id(name)), n))
        finally:
            self._saving_deferred = False
        self.cloud.save_if_changed()
        return created

    def _make_devices(self, platform: CloudPlatform, n: int) -> list[Device]:
        created: list[Device] = []
        for _ in range(n):
            made = self._factory.make(platform)
            with self.cloud.state.lock:
                known = self.cloud.state.devices.get(made.device_id)
            if known is not None:
                # The same seed makes the same devices: a restart with --state keeps what happened to them.
                created.append(copy.deepcopy(known))
                continue
            created.append(
                self.add_device(
                    made.device_id,
                    platform.id,
                    made.serial_number,
                    made.iccid,
                    imei=made.imei,
                    mobile_secret=made.mobile_secret,
                )
            )
        return created

    def add_sim(
        self,
        iccid: str,
        owner: str | None = None,
        *,
        product_id: int | None = None,
        status: str = "never_before_activated",
        free_plan: bool = False,
    ) -> Sim:
        """A SIM Particle knows; ``owner`` (another user) or ``product_id`` make it someone's already."""
        sim = Sim(
            iccid=iccid,
            owner=owner.lower() if owner else None,
            product_id=product_id,
            status=SimStatus(status),
            free_plan=free_plan,
        )
        if sim.status is SimStatus.ACTIVE:
            sim.activations_count = 1
            sim.first_activated_on = sim.last_activated_on = self.cloud.now()
        with self.cloud.state.lock:
            self.cloud.state.sims[iccid] = sim
            self._commit()
        return copy.deepcopy(sim)

    def add_customer(self, product_id: int, email: str, password: str | None = None) -> None:
        with self.cloud.state.lock:
            product = self._product(product_id)
            product.customers[email.lower()] = Customer(username=email.lower(), password=password)
            self._commit()

    def add_team_member(self, product_id: int, username: str) -> None:
        with self.cloud.state.lock:
            product = self._product(product_id)
            if username.lower() not in self.cloud.state.users:
                raise EmulatorError(f"{username} is not a user; add_user first")
            product.team.append(username.lower())
            self._commit()

    def add_firmware(
        self,
        product_id: int,
        version: int,
        binary: bytes = b"\0" * 64,
        *,
        title: str | None = None,
        released: bool = False,
    ) -> None:
        """Product firmware as if uploaded; ``released`` makes it the product default."""
        now = self.cloud.now()
        fw = Firmware(
            version=version,
            title=title or f"v{version}",
            description="",
            name="firmware.bin",
            size=len(binary),
            uploaded_by=self.first_user() or "",
            uploaded_on=now,
            binary_b64=base64.b64encode(binary).decode("ascii"),
            product_default=released,
            released=released,
            updated_at=now,
        )
        with self.cloud.state.lock:
            product = self._product(product_id)
            if released:
                for other in product.firmware.values():
                    other.product_default = False
            product.firmware[version] = fw
            self._commit()
