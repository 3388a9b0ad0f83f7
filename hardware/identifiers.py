"""Value types for device identifiers that parse or raise IdentifierError: device id, serial, label, ICCID, IMEI.

Parse at the edge: once a string has become one of these types, nothing downstream re-checks it.
Facts: docs.particle.io/hardware/best-practices/serial-number/ (device id, serial and SKU prefix, label payload);
ITU-T E.118 (ICCID) and 3GPP TS 23.003 (IMEI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hardware.errors import IdentifierError

_HEX24 = re.compile(r"[0-9a-fA-F]{24}")
_SERIAL = re.compile(r"[A-Za-z0-9]{15}")
_SECRET = re.compile(r"[A-Za-z0-9]{15}")
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_DIGITS = re.compile(r"[0-9]+")

SERIAL_LENGTH = 15
MOBILE_SECRET_LENGTH = 15


def luhn_ok(digits: str) -> bool:
    """True when the last digit of ``digits`` is the Luhn check digit of the others."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _describe(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return repr(shown)


@dataclass(frozen=True, order=True)
class DeviceId:
    """A Particle device id: 24 hex characters, always lower case."""

    value: str

    @classmethod
    def parse(cls, text: str) -> DeviceId:
        if not isinstance(text, str):
            raise IdentifierError(f"device id must be text, got {type(text).__name__}")
        candidate = text.strip()
        if not candidate:
            raise IdentifierError("device id is empty")
        if len(candidate) != 24:
            raise IdentifierError(
                f"device id {_describe(candidate)} has {len(candidate)} characters; a device id has 24 hex characters"
            )
        if not _HEX24.fullmatch(candidate):
            bad = next(c for c in candidate if c not in "0123456789abcdefABCDEF")
            raise IdentifierError(f"device id {_describe(candidate)} contains {bad!r}, which is not a hex digit")
        return cls(candidate.lower())

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class SerialNumber:
    """A Particle serial number: 15 letters and digits, the first four the SKU prefix (e.g. ``P046`` for a P2)."""

    value: str

    @classmethod
    def parse(cls, text: str) -> SerialNumber:
        if not isinstance(text, str):
            raise IdentifierError(f"serial number must be text, got {type(text).__name__}")
        candidate = text.strip()
        if not candidate:
            raise IdentifierError("serial number is empty")
        if len(candidate) != SERIAL_LENGTH:
            raise IdentifierError(
                f"serial number {_describe(candidate)} has {len(candidate)} characters; "
                f"a Particle serial number has {SERIAL_LENGTH}"
            )
        if not _SERIAL.fullmatch(candidate):
            bad = next(c for c in candidate if not (c.isascii() and c.isalnum()))
            raise IdentifierError(
                f"serial number {_describe(candidate)} contains {bad!r}; only letters and digits are allowed"
            )
        return cls(candidate.upper())

    @property
    def sku_prefix(self) -> str:
        return self.value[:4]

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class MobileSecret:
    """The 15-character mobile secret printed on Gen 3+ labels. Masked in repr: it authorises mobile set-up."""

    value: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> MobileSecret:
        candidate = text.strip()
        if len(candidate) != MOBILE_SECRET_LENGTH:
            raise IdentifierError(
                f"mobile secret has {len(candidate)} characters; a mobile secret has {MOBILE_SECRET_LENGTH}"
            )
        if not _SECRET.fullmatch(candidate):
            raise IdentifierError("mobile secret contains a character other than letters and digits")
        return cls(candidate)

    def __repr__(self) -> str:
        return "MobileSecret('***')"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LabelScan:
    """The data-matrix payload of a device label: a serial number, and on Gen 3+ a mobile secret after one space."""

    serial: SerialNumber
    mobile_secret: MobileSecret | None = None

    @classmethod
    def parse(cls, text: str) -> LabelScan:
        """Parse a scanner's output, tolerating an AIM symbology prefix (``]d2``), terminators and outer spaces."""
        if not isinstance(text, str):
            raise IdentifierError(f"label must be text, got {type(text).__name__}")
        payload = text.strip(" \r\n\t")
        payload = _AIM_PREFIX.sub("", payload, count=1).strip(" \r\n\t")
        if not payload:
            raise IdentifierError("label scan is empty")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in payload):
            raise IdentifierError(
                f"label scan {_describe(payload)} contains control characters; check the scanner's settings"
            )
        if _DIGITS.fullmatch(payload) and len(payload) == 15:
            raise IdentifierError(
                f"label {_describe(payload)} holds an IMEI (an old u-blox Electron label), not a serial number; "
                "identify this unit by its device instead"
            )
        if _DIGITS.fullmatch(payload) and payload.startswith("89") and len(payload) in (19, 20):
            raise IdentifierError(f"label {_describe(payload)} is an ICCID (a SIM card label), not a device label")
        parts = payload.split(" ")
        if len(parts) == 1:
            return cls(_serial_in_label(parts[0], payload))
        if len(parts) == 2 and parts[0] and parts[1]:
            serial = _serial_in_label(parts[0], payload)
            try:
                secret = MobileSecret.parse(parts[1])
            except IdentifierError as exc:
                raise IdentifierError(f"label for serial {serial}: {exc}") from None
            return cls(serial, secret)
        raise IdentifierError(
            f"label {_describe(payload)} is not a Particle label: expected a serial number, "
            "optionally followed by one space and the mobile secret"
        )

    def __str__(self) -> str:
        return self.serial.value if self.mobile_secret is None else f"{self.serial.value} ***"


def _serial_in_label(part: str, payload: str) -> SerialNumber:
    try:
        return SerialNumber.parse(part)
    except IdentifierError as exc:
        raise IdentifierError(f"label {_describe(payload)} is not a Particle label: {exc}") from None


@dataclass(frozen=True, order=True)
class Iccid:
    """A SIM card's ICCID: starts with 89, 19 or 20 digits. A failed Luhn check is a warning, not a rejection."""

    value: str
    luhn_valid: bool = field(default=True, compare=False)

    @classmethod
    def parse(cls, text: str) -> Iccid:
        if not isinstance(text, str):
            raise IdentifierError(f"ICCID must be text, got {type(text).__name__}")
        candidate = text.strip()
        if not candidate:
            raise IdentifierError("ICCID is empty")
        if not _DIGITS.fullmatch(candidate) or not candidate.isascii():
            raise IdentifierError(f"ICCID {_describe(candidate)} must contain digits only")
        if not candidate.startswith("89"):
            raise IdentifierError(f"ICCID {_describe(candidate)} must start with 89 (telecom SIM)")
        if len(candidate) not in (19, 20):
            raise IdentifierError(f"ICCID {_describe(candidate)} has {len(candidate)} digits; expected 19 or 20")
        return cls(candidate, luhn_ok(candidate))

    @property
    def warning(self) -> str | None:
        if self.luhn_valid:
            return None
        return f"ICCID {self.value} fails its Luhn check digit; check it was read correctly"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class Imei:
    """A modem's IMEI: 15 digits (8 TAC, 6 serial, 1 Luhn check digit)."""

    value: str

    @classmethod
    def parse(cls, text: str) -> Imei:
        if not isinstance(text, str):
            raise IdentifierError(f"IMEI must be text, got {type(text).__name__}")
        candidate = text.strip()
        if not candidate:
            raise IdentifierError("IMEI is empty")
        if not _DIGITS.fullmatch(candidate) or not candidate.isascii():
            raise IdentifierError(f"IMEI {_describe(candidate)} must contain digits only")
        if len(candidate) != 15:
            raise IdentifierError(f"IMEI {_describe(candidate)} has {len(candidate)} digits; an IMEI has 15")
        if not luhn_ok(candidate):
            raise IdentifierError(f"IMEI {candidate} fails its Luhn check digit")
        return cls(candidate)

    def __str__(self) -> str:
        return self.value
