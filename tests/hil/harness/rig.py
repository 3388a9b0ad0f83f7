"""Rig descriptions: one TOML file naming a test rig's devices, slots, ports, scanner, sandbox product and cloud.

Every error names the file, the key (``devices[2].id``) and, where the file has it, the line, in the style of the
station profile, so an engineer can fix the rig file at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_client.credentials import CredentialRef
from cloud_client.errors import AuthError
from hardware.errors import IdentifierError
from hardware.identifiers import DeviceId, SerialNumber
from hardware.platforms import Platform
from hardware.scanner.serial_scanner import SerialScannerError, parse_terminator
from station.config.profile import ClaimMode, SimActivationPolicy
from station.config.toml_reader import TomlReader, TomlTable, read_toml
from station.errors import StationError

EMULATOR = "emulator"
"""``cloud.base_url`` value meaning: the harness starts the cloud emulator on 127.0.0.1 (nothing real is touched)."""

SIMULATED_SCANNER = "simulated"
"""``scanner.port`` value of a simulated rig: the harness serves a simulated serial scanner on a pty."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_KNOWN_KEYS: dict[str, set[str]] = {
    "rig": {"name", "simulated"},
    "cloud": {"base_url", "credentials"},
    "product": {"id", "platform", "sandbox", "sim_activation", "claim"},
    "scanner": {"port", "baudrate", "terminator"},
    "devices": {
        "name", "platform", "id", "serial", "slot", "usb_port", "serial_port", "firmware", "seed", "device_os",
    },
}
_SIMULATED_ONLY = ("seed", "device_os")


class RigError(StationError):
    """The rig file cannot be used; the message names the file, the key and the line."""


@dataclass(frozen=True)
class RigDevice:
    """One device on the rig: what it is, where it is plugged in, and who it must turn out to be."""

    name: str
    """Unique within the rig; the HIL tests' ids use it (``test_enumerate[boron-1]``)."""
    platform: Platform
    device_id: DeviceId | None
    """The expected device id; None only on a simulated rig, whose harness takes the id the seed gives."""
    serial: SerialNumber | None
    slot: int | None
    """The number on the hub port's label."""
    usb_port: str | None
    """The USB port path (e.g. ``1-1.2``) of the slot, for the engineer wiring the rig."""
    serial_port: str | None
    """The device's CDC port; None = find it by device id."""
    firmware: Path | None
    """An application (user part) for this platform that destructive tests flash on a real rig."""
    seed: str | None = None
    device_os: str | None = None

    def describe(self) -> str:
        where = f" in slot {self.slot}" if self.slot is not None else ""
        who = f" {self.device_id}" if self.device_id else ""
        return f"{self.name} ({self.platform.display_name}{who}){where}"


@dataclass(frozen=True)
class RigProduct:
    """The product full-unit tests provision into: on a real cloud it must be a sandbox product."""

    id: int
    platform: Platform
    sandbox: bool
    sim_activation: SimActivationPolicy
    claim: ClaimMode


@dataclass(frozen=True)
class RigCloud:
    base_url: str
    """An http(s) URL, or ``emulator``."""
    credentials: str | None
    """A credential reference such as ``env:PARTICLE_SANDBOX``, never a secret."""

    @property
    def is_emulator(self) -> bool:
        return self.base_url == EMULATOR


@dataclass(frozen=True)
class RigScanner:
    port: str
    """A serial port path, or ``simulated``."""
    baudrate: int = 9600
    terminator: str = "cr"


@dataclass(frozen=True)
class Rig:
    path: Path
    name: str
    simulated: bool
    devices: tuple[RigDevice, ...]
    cloud: RigCloud
    product: RigProduct | None
    scanner: RigScanner | None

    @property
    def touches_real_cloud(self) -> bool:
        return not self.cloud.is_emulator

    def device(self, name: str) -> RigDevice:
        for device in self.devices:
            if device.name == name:
                return device
        known = ", ".join(d.name for d in self.devices)
        raise RigError(f"rig {self.path} has no device named {name!r}; its devices are {known}")

    def describe(self) -> str:
        kind = "simulated rig" if self.simulated else "rig"
        return f"{kind} {self.name!r} ({self.path})"


def load_rig(path: str | Path) -> Rig:
    """Read and validate a rig file; raise RigError naming the key and line of the first problem."""
    path = Path(path)
    text, data = read_toml(path, error=RigError, what="rig file",
                           missing_hint="; copy fixtures/rigs/example-real.toml and edit it")
    return parse_rig(data, path=path, text=text)


def parse_rig(data: dict[str, Any], *, path: Path, text: str = "") -> Rig:
    reader = TomlReader(path, text, data, RigError)
    reader.check_keys(_KNOWN_KEYS, arrays={"devices": "device"})
    rig = reader.table("rig")
    name = rig.text("name", required=True)
    simulated = rig.boolean("simulated", False)
    raw_devices = data.get("devices")
    if not raw_devices:
        raise reader.fail("devices", "missing; describe each device in a [[devices]] table")
    devices = tuple(
        _device(reader.table(f"devices[{n}]", raw), simulated, path.parent)
        for n, raw in enumerate(raw_devices, start=1)
    )
    _check_unique(reader, devices)
    cloud = _cloud(reader.table("cloud"))
    product = _product(reader.table("product")) if "product" in data else None
    if product is None and not cloud.is_emulator:
        raise reader.fail("product", f"missing; a rig using the cloud at {cloud.base_url} must name its sandbox "
                                     "product ([product] with id, platform and sandbox = true)")
    scanner = _scanner(reader.table("scanner"), simulated) if "scanner" in data else None
    return Rig(path=path.resolve(), name=name, simulated=simulated, devices=devices, cloud=cloud, product=product,
               scanner=scanner)


def _device(table: TomlTable, simulated: bool, base: Path) -> RigDevice:
    name = table.text("name", required=True)
    if not _NAME.fullmatch(name):
        raise table.fail("name", f"{name!r} must be 1-40 letters, digits, '-', '_' or '.' (it names test ids)")
    platform = table.platform()
    raw_id = table.text("id", required=not simulated)
    device_id = None
    if raw_id is not None:
        try:
            device_id = DeviceId.parse(raw_id)
        except IdentifierError as exc:
            raise table.fail("id", str(exc)) from None
    raw_serial = table.text("serial")
    serial = None
    if raw_serial is not None:
        try:
            serial = SerialNumber.parse(raw_serial)
        except IdentifierError as exc:
            raise table.fail("serial", str(exc)) from None
    for key in _SIMULATED_ONLY:
        if key in table.data and not simulated:
            raise table.fail(key, "only a simulated rig ([rig] simulated = true) gives its devices a "
                                  f"{key.replace('_', ' ')}; remove it")
    device_os = table.text("device_os")
    if device_os is not None and not _VERSION.fullmatch(device_os):
        raise table.fail("device_os", f"must be a Device OS version such as \"6.2.0\", got {device_os!r}")
    firmware_text = table.text("firmware")
    firmware = (base / firmware_text).resolve() if firmware_text else None
    if firmware is not None and not firmware.is_file():
        raise table.fail("firmware", f"file {firmware} does not exist; give the path of an application binary for "
                                     f"{platform.display_name} (relative to the rig file)")
    return RigDevice(
        name=name, platform=platform, device_id=device_id, serial=serial, slot=table.integer("slot", minimum=1),
        usb_port=table.text("usb_port"), serial_port=table.text("serial_port"), firmware=firmware,
        seed=table.text("seed"), device_os=device_os,
    )


def _check_unique(reader: TomlReader, devices: tuple[RigDevice, ...]) -> None:
    for attribute, key in (("name", "name"), ("device_id", "id"), ("slot", "slot"), ("usb_port", "usb_port"),
                           ("serial_port", "serial_port")):
        first: dict[object, int] = {}
        for n, device in enumerate(devices, start=1):
            value = getattr(device, attribute)
            if value is None:
                continue
            if value in first:
                raise reader.fail(f"devices[{n}].{key}", f"{value} is already used by devices[{first[value]}]; "
                                                         "every device needs its own")
            first[value] = n


def _cloud(table: TomlTable) -> RigCloud:
    base_url = table.text("base_url") or EMULATOR
    if base_url != EMULATOR and not re.match(r"^https?://[^\s/]+", base_url):
        raise table.fail("base_url", f"must be an http(s) URL or \"{EMULATOR}\", got {base_url!r}")
    credentials = table.text("credentials", required=base_url != EMULATOR)
    if credentials is not None:
        try:
            CredentialRef.parse(credentials)
        except AuthError as exc:
            raise table.fail("credentials", f"must be a credential reference, never a secret: {exc}") from None
    return RigCloud(base_url=base_url.rstrip("/"), credentials=credentials)


def _product(table: TomlTable) -> RigProduct:
    product_id = table.integer("id", required=True, minimum=1)
    sim_activation = table.choice("sim_activation", SimActivationPolicy, SimActivationPolicy.OFF)
    claim_text = table.data.get("claim", ClaimMode.OFF.value)
    try:
        claim = ClaimMode(claim_text)
    except ValueError:
        raise table.fail("claim", f"must be \"off\" or \"product-owner\", got {claim_text!r}") from None
    if claim not in (ClaimMode.OFF, ClaimMode.PRODUCT_OWNER):
        raise table.fail("claim", f"must be \"off\" or \"product-owner\" on a rig, got {claim_text!r}")
    return RigProduct(id=product_id, platform=table.platform(), sandbox=table.boolean("sandbox", False),
                      sim_activation=sim_activation, claim=claim)


def _scanner(table: TomlTable, simulated: bool) -> RigScanner:
    port = table.text("port", required=True)
    if port == SIMULATED_SCANNER and not simulated:
        raise table.fail("port", f"\"{SIMULATED_SCANNER}\" is only for a simulated rig; name the scanner's serial "
                                 "port, e.g. \"/dev/ttyACM3\" or \"COM5\"")
    if simulated and port != SIMULATED_SCANNER:
        raise table.fail("port", f"a simulated rig's scanner port must be \"{SIMULATED_SCANNER}\", got {port!r}")
    terminator = table.text("terminator") or "cr"
    try:
        parse_terminator(terminator)
    except SerialScannerError as exc:
        raise table.fail("terminator", str(exc)) from None
    return RigScanner(port=port, baudrate=table.integer("baudrate", 9600, minimum=1), terminator=terminator)
