"""Wi-Fi settings for the Wi-Fi step: parsed from the profile's ``[wifi]`` section, the password from env or keyring.

The profile names where the password lives (``password_ref``), never the password. The password is read only when
the step needs it (``WifiProfile.resolve``), held as a masked ``Secret`` and never logged, written to the journal or
the spreadsheet, or shown in an exception.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cloud_client.credentials import Secret
from hardware.serial.protocol import ConsoleWifiCipher, ConsoleWifiSecurity
from hardware.serial.wifi import ConsoleWifiCredentials
from hardware.usb.requests import ControlWifiCredentials, LegacyWifiCipher, WifiSecurity
from station.errors import StationError

SECTION = "wifi"
MAX_SSID_BYTES = 32
"""An SSID is at most 32 octets (IEEE 802.11)."""
WPA_PASSPHRASE_LENGTHS = range(8, 64)
"""A WPA/WPA2/WPA3 personal passphrase has 8 to 63 characters; 64 hex digits is a raw key (IEEE 802.11i)."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REF_HELP = 'use "env:VARIABLE" or "keyring:SERVICE/NAME"'


class WifiSettingsError(StationError):
    """The ``[wifi]`` settings cannot be used; the message names the key (never the password)."""


class Security(enum.Enum):
    """The security names a profile uses, each with its ``wifi.Security`` number (device-os-protobuf
    control/wifi_new.proto)."""

    OPEN = "open"
    WEP = "wep"
    WPA = "wpa"
    WPA2 = "wpa2"
    WPA_WPA2 = "wpa_wpa2"
    WPA3 = "wpa3"
    WPA2_WPA3 = "wpa2_wpa3"

    @property
    def control_value(self) -> WifiSecurity:
        return _CONTROL[self]

    @property
    def console_value(self) -> ConsoleWifiSecurity:
        """The answer to the serial console's security prompt (Device OS system/src/system_setup.cpp): mixed modes
        answer with the older standard, which the access point also accepts."""
        return _CONSOLE[self]

    @property
    def needs_password(self) -> bool:
        return self is not Security.OPEN

    @classmethod
    def parse(cls, text: object) -> Security:
        names = ", ".join(s.value for s in cls)
        wanted = text.strip().lower().replace("-", "_").replace("/", "_") if isinstance(text, str) else None
        for security in cls:
            if security.value == wanted:
                return security
        raise WifiSettingsError(f"[{SECTION}] security = {text!r} is not a Wi-Fi security type; use one of {names}")


_CONTROL = {
    Security.OPEN: WifiSecurity.NO_SECURITY,
    Security.WEP: WifiSecurity.WEP,
    Security.WPA: WifiSecurity.WPA_PSK,
    Security.WPA2: WifiSecurity.WPA2_PSK,
    Security.WPA_WPA2: WifiSecurity.WPA_WPA2_PSK,
    Security.WPA3: WifiSecurity.WPA3_PSK,
    Security.WPA2_WPA3: WifiSecurity.WPA2_WPA3_PSK,
}
_CONSOLE = {
    Security.OPEN: ConsoleWifiSecurity.UNSECURED,
    Security.WEP: ConsoleWifiSecurity.WEP,
    Security.WPA: ConsoleWifiSecurity.WPA,
    Security.WPA2: ConsoleWifiSecurity.WPA2,
    Security.WPA_WPA2: ConsoleWifiSecurity.WPA2,
    Security.WPA3: ConsoleWifiSecurity.WPA3,
    Security.WPA2_WPA3: ConsoleWifiSecurity.WPA2,
}


class Cipher(enum.Enum):
    """The cipher Gen 2 devices need for WPA/WPA2 networks (legacy request 113 and the console's cipher prompt)."""

    AES = "aes"
    TKIP = "tkip"
    AES_TKIP = "aes_tkip"

    @property
    def legacy_value(self) -> LegacyWifiCipher:
        return LegacyWifiCipher[self.name]

    @property
    def console_value(self) -> ConsoleWifiCipher:
        return ConsoleWifiCipher[self.name]


@dataclass(frozen=True)
class PasswordRef:
    """Where the Wi-Fi password lives: ``env:VARIABLE`` or ``keyring:SERVICE/NAME``. Holds no secret; may be shown."""

    scheme: Literal["env", "keyring"]
    location: str

    @classmethod
    def parse(cls, text: object) -> PasswordRef:
        if not isinstance(text, str):
            raise WifiSettingsError(f"[{SECTION}] password_ref must be a text reference; {_REF_HELP}")
        scheme, sep, location = text.strip().partition(":")
        if scheme == "env" and sep and _ENV_NAME.match(location):
            return cls("env", location)
        if scheme == "keyring" and sep:
            service, slash, name = location.partition("/")
            if slash and service and name:
                return cls("keyring", location)
        # The text might be a password typed into the wrong key: never echo it.
        raise WifiSettingsError(f"[{SECTION}] password_ref is not a password reference; {_REF_HELP} (the password "
                                "itself never goes into the profile)")

    def __str__(self) -> str:
        return f"{self.scheme}:{self.location}"

    def resolve(self, environ: Mapping[str, str] | None = None) -> Secret:
        """Read the password now; WifiSettingsError naming this reference when it is missing or unreadable."""
        if self.scheme == "env":
            value = (os.environ if environ is None else environ).get(self.location, "")
            if not value:
                raise WifiSettingsError(f"[{SECTION}] password_ref {self}: environment variable {self.location} is "
                                        "not set; set it in the station's environment before the run")
            return Secret(value)
        import keyring
        import keyring.errors

        service, _, name = self.location.partition("/")
        try:
            stored = keyring.get_password(service, name)
        except keyring.errors.KeyringError as exc:
            raise WifiSettingsError(f"[{SECTION}] password_ref {self}: the OS keyring could not be read "
                                    f"({type(exc).__name__}); unlock it or fix its configuration") from None
        if not stored:
            raise WifiSettingsError(f"[{SECTION}] password_ref {self}: nothing stored in the OS keyring under "
                                    f"service {service!r}, name {name!r}; store the Wi-Fi password there first")
        return Secret(stored)


@dataclass(frozen=True)
class WifiSettings:
    """A network to give the device, password resolved and masked (``repr`` shows ``Secret('********')``)."""

    ssid: str
    security: Security
    password: Secret | None = None
    hidden: bool = False
    cipher: Cipher = Cipher.AES_TKIP
    """Gen 2 only: AES+TKIP lets the device use either, as a mixed access point offers."""

    def __post_init__(self) -> None:
        _check_ssid(self.ssid)
        if self.security.needs_password and self.password is None:
            raise WifiSettingsError(f"[{SECTION}] network {self.ssid!r} uses {self.security.value} but no password "
                                    "was given; set password_ref")
        if not self.security.needs_password and self.password is not None:
            raise WifiSettingsError(f"[{SECTION}] network {self.ssid!r} is open but a password was given; remove "
                                    "password_ref or set the security type")
        if self.password is not None:
            _check_password(self.password.reveal(), self.security, self.ssid)

    def control_credentials(self) -> ControlWifiCredentials:
        """For USB control requests 500/507 (Gen 3+) and legacy 113 (Gen 2)."""
        return ControlWifiCredentials(
            ssid=self.ssid,
            password=self.password.reveal() if self.password is not None else "",
            security=self.security.control_value,
            hidden=self.hidden,
        )

    def console_credentials(self) -> ConsoleWifiCredentials:
        """For the serial console's ``w`` dialogue."""
        return ConsoleWifiCredentials(
            ssid=self.ssid,
            security=self.security.console_value,
            password=self.password.reveal() if self.password is not None else "",
            cipher=self.cipher.console_value,
        )


@dataclass(frozen=True)
class WifiProfile:
    """The parsed ``[wifi]`` section: everything but the password, which ``resolve`` reads when the step runs."""

    ssid: str
    security: Security
    password_ref: PasswordRef | None
    hidden: bool = False
    cipher: Cipher = Cipher.AES_TKIP

    @classmethod
    def parse(cls, section: Mapping[str, object]) -> WifiProfile:
        """Check every key; WifiSettingsError names the first bad one. Keys: ssid, security, password_ref, hidden,
        cipher (Gen 2 only, optional)."""
        if "password" in section:
            raise WifiSettingsError(f"[{SECTION}] password: never put a Wi-Fi password in the profile; store it in "
                                    "the environment or the OS keyring and name it with password_ref")
        known = {"ssid", "security", "password_ref", "hidden", "cipher"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise WifiSettingsError(f"[{SECTION}] {unknown[0]} is not a Wi-Fi setting; use {', '.join(sorted(known))}")
        ssid = section.get("ssid")
        if not isinstance(ssid, str):
            raise WifiSettingsError(f"[{SECTION}] ssid is required: the network name as text")
        _check_ssid(ssid)
        security = Security.parse(section.get("security", Security.WPA2.value))
        ref_text = section.get("password_ref")
        password_ref = PasswordRef.parse(ref_text) if ref_text is not None else None
        if security.needs_password and password_ref is None:
            raise WifiSettingsError(f"[{SECTION}] password_ref is required for {security.value} network {ssid!r}; "
                                    f"{_REF_HELP}")
        if not security.needs_password and password_ref is not None:
            raise WifiSettingsError(f"[{SECTION}] password_ref is given but network {ssid!r} is open; remove it or "
                                    "set security")
        hidden = section.get("hidden", False)
        if not isinstance(hidden, bool):
            raise WifiSettingsError(f"[{SECTION}] hidden must be true or false, got {hidden!r}")
        cipher_text = section.get("cipher", Cipher.AES_TKIP.value)
        cipher = next((c for c in Cipher if isinstance(cipher_text, str) and c.value == cipher_text.lower()), None)
        if cipher is None:
            raise WifiSettingsError(f"[{SECTION}] cipher = {cipher_text!r} is not a cipher; use "
                                    f"{', '.join(c.value for c in Cipher)}")
        return cls(ssid, security, password_ref, hidden, cipher)

    def resolve(self, environ: Mapping[str, str] | None = None) -> WifiSettings:
        """Read the password from its reference now and return settings ready for a device."""
        password = self.password_ref.resolve(environ) if self.password_ref is not None else None
        return WifiSettings(self.ssid, self.security, password, self.hidden, self.cipher)


def wifi_settings(section: Mapping[str, object], environ: Mapping[str, str] | None = None) -> WifiSettings:
    """Parse a ``[wifi]`` section and resolve its password: what the Wi-Fi step calls when it runs."""
    return WifiProfile.parse(section).resolve(environ)


def _check_ssid(ssid: str) -> None:
    if not ssid.strip():
        raise WifiSettingsError(f"[{SECTION}] ssid is empty; give the network name")
    if len(ssid.encode("utf-8")) > MAX_SSID_BYTES:
        raise WifiSettingsError(f"[{SECTION}] ssid {ssid!r} is longer than {MAX_SSID_BYTES} bytes")
    if any(c in ssid for c in "\r\n\x00"):
        raise WifiSettingsError(f"[{SECTION}] ssid contains a line break or NUL, which a device cannot take")


def _check_password(password: str, security: Security, ssid: str) -> None:
    # Messages give lengths and rules only: the password itself must never reach a log or a screen.
    where = f"[{SECTION}] the password for {security.value} network {ssid!r}"
    if any(c in password for c in "\r\n\x00"):
        raise WifiSettingsError(f"{where} contains a line break or NUL, which a device cannot take; fix the stored "
                                "password")
    hex_key = all(c in "0123456789abcdefABCDEF" for c in password)
    if security is Security.WEP:
        if len(password) in (5, 13) or (hex_key and len(password) in (10, 26)):
            return
        raise WifiSettingsError(f"{where} has {len(password)} characters; a WEP key has 5 or 13 characters, or 10 or "
                                "26 hex digits")
    if len(password) in WPA_PASSPHRASE_LENGTHS or (hex_key and len(password) == 64):
        return
    raise WifiSettingsError(f"{where} has {len(password)} characters; a WPA passphrase has 8 to 63 characters (or "
                            "64 hex digits)")
