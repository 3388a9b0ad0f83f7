"""Typed results of the listening-mode console and the parsers that find them in noisy reply text
(Device OS system/src/system_setup.cpp; particle-cli src/cmd/serial.js)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hardware import platforms
from hardware.errors import IdentifierError, UnknownPlatformError
from hardware.firmware.versions import DeviceOsVersion
from hardware.identifiers import DeviceId, Iccid, Imei, MobileSecret, SerialNumber
from hardware.serial.errors import SerialReplyError
from hardware.serial.protocol import (
    CLAIMED_REPLY_PREFIX,
    LISTENING_TRIGGER_REMOVED_IN,
    MAC_REPLY_PREFIX,
    VERSION_REPLY_PREFIX,
    YMODEM_REMOVED_IN,
    IdentifyKey,
    ModuleFunctionLetter,
    ModuleStoreLetter,
)

_T = TypeVar("_T")

_VERSION_REPLY = re.compile(re.escape(VERSION_REPLY_PREFIX) + r"(\S+?)\r?\n")
_PLAIN_ID = re.compile(r"Your (?:core|device) id is\s+([0-9A-Fa-f]{24})\b")
_KEY_VALUE = re.compile("(" + "|".join(re.escape(k.value) for k in IdentifyKey) + r"): ?([^\r\n]*)")
_MAC_REPLY = re.compile(re.escape(MAC_REPLY_PREFIX) + r"\s*\r?\n([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\r?\n")
_CLAIMED_REPLY = re.compile(re.escape(CLAIMED_REPLY_PREFIX) + r"(yes|no)\r?\n")
_JSON_START = re.compile(r'\{\s*"p"\s*:')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def decode(data: bytes) -> str:
    """Console bytes as text; line noise becomes U+FFFD instead of an exception."""
    return data.decode("utf-8", errors="replace")


def has_listening_baud_trigger(version: DeviceOsVersion) -> bool:
    """Whether setting 28800 baud puts the device into listening mode; a pre-release counts as its release."""
    return not version.reaches(LISTENING_TRIGGER_REMOVED_IN)


def supports_ymodem(version: DeviceOsVersion) -> bool:
    """Whether the console still accepts YMODEM flashing with ``f``; a pre-release counts as its release."""
    return not version.reaches(YMODEM_REMOVED_IN)


@dataclass(frozen=True)
class SerialIdentity:
    """What ``i`` reports. The mobile secret is masked in repr by MobileSecret itself."""

    device_id: DeviceId
    serial: SerialNumber | None = None
    mobile_secret: MobileSecret | None = None
    imei: Imei | None = None
    iccid: Iccid | None = None
    cell_radio_version: str | None = None
    key_value_form: bool = False
    """True when the device answered with ``Device ID: …`` lines, False for ``Your device id is …``."""


@dataclass(frozen=True)
class MacAddress:
    """A MAC address in the host's lowercase ``xx:xx:xx:xx:xx:xx`` form."""

    value: str

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ConsoleModuleDependency:
    function: ModuleFunctionLetter
    index: int
    version: int


@dataclass(frozen=True)
class ConsoleModuleInfo:
    """One entry of the module table in the ``s`` reply."""

    function: ModuleFunctionLetter
    index: int
    version: int
    max_size: int
    store: ModuleStoreLetter
    checked: int
    passed: int
    sha256: str | None = None
    """Uppercase hex SHA-256; the device prints it for the user part only."""
    dependencies: tuple[ConsoleModuleDependency, ...] = ()

    @property
    def failed_checks(self) -> int:
        """Checked validation bits that failed: 0x02 integrity, 0x04 dependencies, 0x08 range, 0x10 platform."""
        return self.checked ^ self.passed

    @property
    def valid(self) -> bool:
        return self.failed_checks == 0


@dataclass(frozen=True)
class SystemInfo:
    """The ``s`` reply: platform id, cellular key/values and the module table."""

    platform_id: int
    modules: tuple[ConsoleModuleInfo, ...]
    imei: str | None = None
    iccid: str | None = None
    cell_radio_version: str | None = None
    other: dict[str, str] = field(default_factory=dict)

    @property
    def platform(self) -> platforms.Platform | None:
        try:
            return platforms.by_id(self.platform_id)
        except UnknownPlatformError:
            return None

    def module(self, function: ModuleFunctionLetter, index: int) -> ConsoleModuleInfo | None:
        return next((m for m in self.modules if m.function is function and m.index == index), None)

    def running_user_part(self) -> ConsoleModuleInfo | None:
        """The user part the device runs: the first valid one, else the first one listed (the rule
        ``hardware.usb.identify.running_user_part`` applies to the USB module info)."""
        users = [m for m in self.modules if m.function is ModuleFunctionLetter.USER_PART]
        return next((m for m in users if m.valid), users[0] if users else None)


def _reply_error(port: str, command: str, problem: str) -> SerialReplyError:
    return SerialReplyError(
        f"the device on {port} answered '{command}' with {problem}; make sure no other program uses the port "
        "and that the device is in listening mode (LED blinking dark blue), then try again",
        port=port,
    )


def version_reply_complete(data: bytes) -> bool:
    return _VERSION_REPLY.search(decode(data)) is not None


def parse_version(data: bytes, port: str) -> DeviceOsVersion:
    match = _VERSION_REPLY.search(decode(data))
    if match is None:
        raise _reply_error(port, "v", "no 'system firmware version: X.Y.Z' line")
    try:
        return DeviceOsVersion.parse(match[1])
    except ValueError as exc:
        raise _reply_error(port, "v", str(exc)) from None


def identify_reply_complete(data: bytes) -> bool:
    """The plain form is complete at its line end; the key/value form has no end marker (idle gap ends it)."""
    text = decode(data)
    match = _PLAIN_ID.search(text)
    return match is not None and "\n" in text[match.end() :]


def parse_identify(data: bytes, port: str) -> SerialIdentity:
    text = decode(data)
    plain = _PLAIN_ID.search(text)
    if plain is not None:
        return SerialIdentity(DeviceId.parse(plain[1]))
    values: dict[IdentifyKey, str] = {}
    for line in _LINE_BREAK.split(text):
        match = _KEY_VALUE.search(line)
        if match is not None:
            values.setdefault(IdentifyKey(match[1]), match[2].strip())
    if IdentifyKey.DEVICE_ID not in values:
        raise _reply_error(port, "i", "neither 'Your device id is …' nor a 'Device ID: …' line")
    try:
        return SerialIdentity(
            device_id=DeviceId.parse(_first_word(values[IdentifyKey.DEVICE_ID])),
            serial=_optional(values, IdentifyKey.SERIAL_NUMBER, SerialNumber.parse),
            mobile_secret=_optional(values, IdentifyKey.DEVICE_SECRET, MobileSecret.parse),
            imei=_optional(values, IdentifyKey.IMEI, Imei.parse),
            iccid=_optional(values, IdentifyKey.ICCID, Iccid.parse),
            cell_radio_version=values.get(IdentifyKey.CELL_RADIO_VERSION) or None,
            key_value_form=True,
        )
    except IdentifierError as exc:
        raise _reply_error(port, "i", f"an invalid identifier ({exc})") from None


def _first_word(text: str) -> str:
    parts = text.split()
    return parts[0] if parts else ""


def _optional(values: dict[IdentifyKey, str], key: IdentifyKey, parse: Callable[[str], _T]) -> _T | None:
    text = values.get(key)
    if not text:
        return None
    try:
        return parse(_first_word(text))
    except IdentifierError as exc:
        # MobileSecret's messages never include the secret, so the key name is enough context.
        raise IdentifierError(f"{key.value}: {exc}") from None


def mac_reply_complete(data: bytes) -> bool:
    return _MAC_REPLY.search(decode(data)) is not None


def parse_mac(data: bytes, port: str) -> MacAddress:
    match = _MAC_REPLY.search(decode(data))
    if match is None:
        raise _reply_error(port, "m", "no MAC address after 'Your device MAC address is'")
    return MacAddress(match[1].lower())


def claimed_reply_complete(data: bytes) -> bool:
    return _CLAIMED_REPLY.search(decode(data)) is not None


def parse_claimed(data: bytes, port: str) -> bool:
    match = _CLAIMED_REPLY.search(decode(data))
    if match is None:
        raise _reply_error(port, "c", "no 'Device claimed: yes/no' line")
    return match[1] == "yes"


def find_json_object(text: str, start: re.Pattern[str] = _JSON_START) -> str | None:
    """The first complete JSON object starting where ``start`` matches, or None while it is still incomplete."""
    match = start.search(text)
    if match is None:
        return None
    depth = 0
    in_string = False
    escaped = False
    for position in range(match.start(), len(text)):
        char = text[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[match.start() : position + 1]
    return None


def system_info_reply_complete(data: bytes) -> bool:
    return find_json_object(decode(data)) is not None


def parse_system_info(data: bytes, port: str) -> SystemInfo:
    found = find_json_object(decode(data))
    if found is None:
        raise _reply_error(port, "s", 'no complete JSON object starting with {"p":')
    try:
        document = json.loads(found)
        if not isinstance(document, dict):
            raise ValueError("the reply is not a JSON object")
        modules = tuple(_module(entry) for entry in _list(document.get("m", [])))
        platform_id = _int(document["p"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _reply_error(port, "s", f"system information that does not follow the protocol ({exc})") from None
    known = {"p", "m", "imei", "iccid", "cellfw"}
    return SystemInfo(
        platform_id=platform_id,
        modules=modules,
        imei=_text_or_none(document.get("imei")),
        iccid=_text_or_none(document.get("iccid")),
        cell_radio_version=_text_or_none(document.get("cellfw")),
        other={k: str(v) for k, v in document.items() if k not in known},
    )


def _module(entry: Any) -> ConsoleModuleInfo:
    if not isinstance(entry, dict):
        raise ValueError(f"module entry {entry!r} is not an object")
    sha = entry.get("u")
    return ConsoleModuleInfo(
        function=_function(entry.get("f", "_")),
        index=_int(entry.get("n", 0)),
        version=_int(entry.get("v", 0)),
        max_size=_int(entry.get("s", 0)),
        store=ModuleStoreLetter(entry.get("l", "m")),
        checked=_int(entry.get("vc", 0)),
        passed=_int(entry.get("vv", 0)),
        sha256=str(sha).upper() if sha else None,
        dependencies=tuple(
            ConsoleModuleDependency(_function(d.get("f", "_")), _int(d.get("n", 0)), _int(d.get("v", 0)))
            for d in _list(entry.get("d", []))
            if isinstance(d, dict)
        ),
    )


def _function(letter: Any) -> ModuleFunctionLetter:
    try:
        return ModuleFunctionLetter(letter)
    except ValueError:
        return ModuleFunctionLetter.OTHER


def _int(value: Any) -> int:
    # The device prints module indexes as strings ("n":"1") and everything else as numbers.
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"{value!r} is not a number")


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{value!r} is not a list")
    return value


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
