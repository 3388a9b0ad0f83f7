"""Rig descriptions: one TOML file naming a test rig's devices, slots, ports, scanner, sandbox product and cloud.

Every error names the file, the key (``devices[2].id``) and, where the file has it, the line, in the style of the
station profile, so an engineer can fix the rig file at once.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_client.credentials import CredentialRef
from cloud_client.errors import AuthError
from hardware.errors import IdentifierError, UnknownPlatformError
from hardware.identifiers import DeviceId, SerialNumber
from hardware.platforms import Platform, parse_platform
from hardware.scanner.serial_scanner import SerialScannerError, parse_terminator
from station.config.profile import ClaimMode, SimActivationPolicy
from station.config.toml_lines import line_of
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


class _Reader:
    """Reads typed values out of the parsed TOML, naming the key and its line in every error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, dotted: str) -> int | None:
        return line_of(self.lines, dotted)

    def fail(self, dotted: str, message: str) -> RigError:
        line = self.line_of(dotted)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return RigError(f"{where}: {dotted}: {message}")


class _Table:
    """One table of the rig file (``product`` or ``devices[2]``) and the reader that reports its errors."""

    def __init__(self, reader: _Reader, name: str, data: dict[str, Any]) -> None:
        self.reader, self.name, self.data = reader, name, data

    def fail(self, key: str, message: str) -> RigError:
        return self.reader.fail(f"{self.name}.{key}", message)

    @property
    def header(self) -> str:
        return f"[[devices]] ({self.name})" if self.name.startswith("devices[") else f"[{self.name}]"

    def text(self, key: str, *, required: bool = False) -> str | None:
        if key not in self.data:
            if required:
                raise self.fail(key, f"missing; add `{key} = \"...\"` under {self.header}")
            return None
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty text in quotes, got {value!r}")
        return value.strip()

    def integer(self, key: str, *, required: bool = False, minimum: int = 1) -> int | None:
        if key not in self.data:
            if required:
                raise self.fail(key, f"missing; add `{key} = ...` under {self.header}")
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def platform(self) -> Platform:
        raw = self.data.get("platform")
        if raw is None:
            raise self.fail("platform", "missing; add e.g. `platform = \"boron\"`")
        try:
            return parse_platform(str(raw))
        except UnknownPlatformError as exc:
            raise self.fail("platform", str(exc)) from None


def load_rig(path: str | Path) -> Rig:
    """Read and validate a rig file; raise RigError naming the key and line of the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RigError(f"rig file {path} does not exist; copy fixtures/rigs/example-real.toml and edit it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RigError(f"cannot read rig file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RigError(f"{path}: not valid TOML: {exc}") from None
    return parse_rig(data, path=path, text=text)


def parse_rig(data: dict[str, Any], *, path: Path, text: str = "") -> Rig:
    reader = _Reader(path, text)
    _check_keys(reader, data)
    rig = _Table(reader, "rig", data.get("rig", {}))
    name = rig.text("name", required=True)
    assert name is not None
    simulated = rig.boolean("simulated", False)
    raw_devices = data.get("devices")
    if not raw_devices:
        raise reader.fail("devices", "missing; describe each device in a [[devices]] table")
    devices = tuple(
        _device(_Table(reader, f"devices[{n}]", raw), simulated, path.parent)
        for n, raw in enumerate(raw_devices, start=1)
    )
    _check_unique(reader, devices)
    cloud = _cloud(_Table(reader, "cloud", data.get("cloud", {})))
    product = _product(_Table(reader, "product", data["product"])) if "product" in data else None
    if product is None and not cloud.is_emulator:
        raise reader.fail("product", f"missing; a rig using the cloud at {cloud.base_url} must name its sandbox "
                                     "product ([product] with id, platform and sandbox = true)")
    scanner = _scanner(_Table(reader, "scanner", data["scanner"]), simulated) if "scanner" in data else None
    return Rig(path=path.resolve(), name=name, simulated=simulated, devices=devices, cloud=cloud, product=product,
               scanner=scanner)


def _check_keys(reader: _Reader, data: dict[str, Any]) -> None:
    for section, value in data.items():
        if section not in _KNOWN_KEYS:
            known = ", ".join(sorted(_KNOWN_KEYS))
            raise reader.fail(section, f"unknown section [{section}]; known sections: {known}")
        if section == "devices":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise reader.fail(section, "must be [[devices]] tables, one per device")
            tables = [(f"devices[{n}]", v) for n, v in enumerate(value, start=1)]
        elif not isinstance(value, dict):
            raise reader.fail(section, f"must be a section [{section}], not a single value")
        else:
            tables = [(section, value)]
        for table, entries in tables:
            for key in entries:
                if key not in _KNOWN_KEYS[section]:
                    known = ", ".join(sorted(_KNOWN_KEYS[section]))
                    raise reader.fail(f"{table}.{key}", f"unknown key; known keys in [{section}]: {known}")


def _device(table: _Table, simulated: bool, base: Path) -> RigDevice:
    name = table.text("name", required=True)
    assert name is not None
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
        name=name, platform=platform, device_id=device_id, serial=serial, slot=table.integer("slot"),
        usb_port=table.text("usb_port"), serial_port=table.text("serial_port"), firmware=firmware,
        seed=table.text("seed"), device_os=device_os,
    )


def _check_unique(reader: _Reader, devices: tuple[RigDevice, ...]) -> None:
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


def _cloud(table: _Table) -> RigCloud:
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


def _product(table: _Table) -> RigProduct:
    product_id = table.integer("id", required=True)
    assert product_id is not None
    sim_text = table.data.get("sim_activation", SimActivationPolicy.OFF.value)
    claim_text = table.data.get("claim", ClaimMode.OFF.value)
    try:
        sim_activation = SimActivationPolicy(sim_text)
    except ValueError:
        options = ", ".join(repr(m.value) for m in SimActivationPolicy)
        raise table.fail("sim_activation", f"must be one of {options}, got {sim_text!r}") from None
    try:
        claim = ClaimMode(claim_text)
    except ValueError:
        raise table.fail("claim", f"must be \"off\" or \"product-owner\", got {claim_text!r}") from None
    if claim not in (ClaimMode.OFF, ClaimMode.PRODUCT_OWNER):
        raise table.fail("claim", f"must be \"off\" or \"product-owner\" on a rig, got {claim_text!r}")
    return RigProduct(id=product_id, platform=table.platform(), sandbox=table.boolean("sandbox", False),
                      sim_activation=sim_activation, claim=claim)


def _scanner(table: _Table, simulated: bool) -> RigScanner:
    port = table.text("port", required=True)
    assert port is not None
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
    return RigScanner(port=port, baudrate=table.integer("baudrate") or 9600, terminator=terminator)
