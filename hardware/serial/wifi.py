"""The listening console's ``w`` dialogue: answer the device's Wi-Fi prompts by matching them, password never shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hardware.serial.errors import SerialTimeoutError, WifiSetupError
from hardware.serial.protocol import (
    WIFI_CIPHER_PROMPT,
    WIFI_EAP_PROMPT_PREFIX,
    WIFI_FAILURE,
    WIFI_PASSWORD_PROMPT,
    WIFI_SECURITY_PROMPT_PREFIX,
    WIFI_SSID_PROMPT,
    WIFI_SUCCESS_MARKERS,
    ConsoleKey,
    ConsoleWifiCipher,
    ConsoleWifiSecurity,
)
from hardware.serial.reading import SerialPortIO
from hardware.serial.replies import decode

log = logging.getLogger(__name__)

_MAX_SSID_BYTES = 32


@dataclass(frozen=True)
class ConsoleWifiCredentials:
    """A network for the device to join; the password never appears in repr, logs or error messages."""

    ssid: str
    security: ConsoleWifiSecurity = ConsoleWifiSecurity.WPA2
    password: str = field(default="", repr=False)
    cipher: ConsoleWifiCipher = ConsoleWifiCipher.AES

    def __post_init__(self) -> None:
        if not self.ssid.strip():
            raise WifiSetupError("Wi-Fi SSID is empty; give the network name")
        if len(self.ssid.encode("utf-8")) > _MAX_SSID_BYTES:
            raise WifiSetupError(f"Wi-Fi SSID {self.ssid!r} is longer than {_MAX_SSID_BYTES} bytes")
        for name, value in (("SSID", self.ssid), ("password", self.password)):
            if any(c in value for c in "\r\n"):
                raise WifiSetupError(f"Wi-Fi {name} contains a line break, which the device console cannot take")
        if self.security is not ConsoleWifiSecurity.UNSECURED and not self.password:
            raise WifiSetupError(f"Wi-Fi network {self.ssid!r} uses {self.security.name} but no password was given")

    def __repr__(self) -> str:
        return f"ConsoleWifiCredentials(ssid={self.ssid!r}, security={self.security.name}, password='***')"


@dataclass(frozen=True)
class WifiTimeouts:
    first_prompt: float = 5.0
    """particle-cli allows 5 s for the first prompt."""
    step: float = 15.0
    """… and up to 15 s for each later prompt, including the time the device takes to save."""


DEFAULT_WIFI_TIMEOUTS = WifiTimeouts()


def configure_wifi(
    link: SerialPortIO, credentials: ConsoleWifiCredentials, timeouts: WifiTimeouts = DEFAULT_WIFI_TIMEOUTS
) -> None:
    """Run the ``w`` dialogue; on success the device saves the credentials and leaves listening mode."""
    link.discard_input()
    link.write(ConsoleKey.WIFI.byte)
    log.info("configuring Wi-Fi network %r on %s", credentials.ssid, link.name)
    received = bytearray()
    cursor = 0
    step = "the first Wi-Fi prompt (SSID)"
    deadline = link.now() + timeouts.first_prompt
    while True:
        chunk = link.read_available()
        if chunk:
            received += chunk
        text = decode(bytes(received))
        tail = text[cursor:]
        if any(marker in tail for marker in WIFI_SUCCESS_MARKERS):
            log.info("device on %s saved Wi-Fi network %r", link.name, credentials.ssid)
            return
        if WIFI_FAILURE.strip() in tail:
            raise WifiSetupError(
                f"the device on {link.name} could not save the credentials for Wi-Fi network {credentials.ssid!r}; "
                "reset the device, put it in listening mode and try again",
                port=link.name,
            )
        prompt = _next_prompt(tail)
        if prompt is not None:
            position, name, answer = _answer(prompt, credentials, link.name)
            link.write(answer.encode("utf-8") + b"\n")
            log.debug("answered the %s prompt on %s", name, link.name)
            cursor += position
            step = f"the step after the {name} prompt"
            deadline = link.now() + timeouts.step
            continue
        if link.now() >= deadline:
            raise SerialTimeoutError(
                f"Wi-Fi set-up on {link.name} stalled waiting for {step}; check that the device is a Wi-Fi device "
                "in listening mode (LED blinking dark blue) and try again",
                port=link.name,
            )


_PROMPTS = (
    ("SSID", WIFI_SSID_PROMPT),
    ("security", WIFI_SECURITY_PROMPT_PREFIX),
    ("cipher", WIFI_CIPHER_PROMPT),
    ("password", WIFI_PASSWORD_PROMPT),
    ("EAP type", WIFI_EAP_PROMPT_PREFIX),
)


def _next_prompt(tail: str) -> tuple[int, str, str] | None:
    """The earliest complete prompt in ``tail``: (position, name, prompt text)."""
    found: list[tuple[int, str, str]] = []
    for name, prompt in _PROMPTS:
        position = tail.find(prompt)
        if position < 0:
            continue
        if name == "security":
            # The security prompt's option list differs between builds; it is complete at its final ": ".
            end = tail.find(": ", position + len(prompt))
            if end < 0:
                continue
            found.append((position, name, tail[position : end + 2]))
        else:
            found.append((position, name, prompt))
    return min(found) if found else None


def _answer(prompt: tuple[int, str, str], credentials: ConsoleWifiCredentials, port: str) -> tuple[int, str, str]:
    position, name, text = prompt
    end = position + len(text)
    if name == "SSID":
        return end, name, credentials.ssid
    if name == "security":
        return end, name, str(int(credentials.security))
    if name == "cipher":
        return end, name, str(int(credentials.cipher))
    if name == "password":
        return end, name, credentials.password
    raise WifiSetupError(
        f"the device on {port} asks for WPA Enterprise settings for {credentials.ssid!r}, which the station does "
        "not support; choose a network with WPA2/WPA3 personal security",
        port=port,
    )
