"""The identity of a simulated device: device id built per MCU, serial number with its SKU prefix, mobile secret,
Wi-Fi MAC, and for cellular platforms an ICCID and IMEI with valid Luhn digits.

Device ids as Device OS builds them (``hal/src/*/deviceid_hal.c*``): nRF52840 = u32 0x68CE0FE0 little-endian + FICR
DEVICEID[0..1]; RTL872x = ``0a 10 ac ed 20 21`` + the 6-byte Wi-Fi MAC from eFuse; STM32 = the 12-byte UID. Serial
numbers: SKU prefix + 11 characters (RTL872x: the eFuse front part, then the MAC's last three bytes), as on Particle's
labels (docs ``hardware/best-practices/serial-number.md``). ICCID (ITU-T E.118) and IMEI (3GPP TS 23.003) end in a
Luhn check digit.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from hardware.identifiers import DeviceId, Iccid, Imei, MobileSecret, SerialNumber
from hardware.simulated.platform_facts import Board, Family

NRF_ID_PREFIX = bytes.fromhex("e00fce68")
"""u32 0x68CE0FE0 little-endian, followed by FICR DEVICEID[0..1]."""
RTL_ID_PREFIX = bytes.fromhex("0a10aced2021")
"""Followed by the 6-byte Wi-Fi MAC from eFuse."""

SKU_PREFIXES: dict[str, str] = {
    "p2": "P046",
    "msom": "P054",
    "tracker": "P031",
    "esomx": "P052",
    "electron": "E31T",
    "boron": "B40T",
    "argon": "ARNT",
    # The simulator's choices, so that every platform has a serial number:
    "photon": "PH1T",
    "p1": "P1HT",
    "xenon": "XENT",
    "asom": "ASMT",
    "bsom": "P045",
    "xsom": "XSMT",
    "b5som": "P036",
    "trackerm": "P061",
    "electron2": "P063",
    "sulu": "P064",
}

_ALNUM = string.ascii_uppercase + string.digits


def luhn_digit(partial: str) -> str:
    """The check digit that makes ``partial`` + digit pass the Luhn test."""
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: DeviceId
    serial: SerialNumber | None
    """None when the serial number was never provisioned (request 21 then answers result −1)."""
    mobile_secret: MobileSecret | None = field(repr=False)
    mac: bytes
    iccid: Iccid | None
    imei: Imei | None

    @property
    def label(self) -> str:
        """The data-matrix label text: ``<serial> <mobile secret>`` (Gen 3+) or the serial alone."""
        serial = self.serial.value if self.serial else ""
        return f"{serial} {self.mobile_secret.value}" if self.mobile_secret else serial


def _device_id_bytes(board: Board, rng: random.Random, mac: bytes) -> bytes:
    if board.family is Family.NRF52840:
        return NRF_ID_PREFIX + rng.randbytes(8)
    if board.family is Family.RTL872X:
        return RTL_ID_PREFIX + mac
    return rng.randbytes(12)


def _mac(rng: random.Random) -> bytes:
    raw = bytearray(rng.randbytes(6))
    raw[0] &= 0xFC  # unicast, globally administered
    return bytes(raw)


def _serial(board: Board, rng: random.Random, mac: bytes) -> SerialNumber:
    prefix = SKU_PREFIXES.get(board.name, "PSIM")
    if board.family is Family.RTL872X:
        # eFuse front part: product (4), manufacturer (2), year (1), week (2); then the MAC's last 3 bytes.
        front = prefix + "".join(rng.choices(string.ascii_uppercase, k=2)) + str(rng.randrange(10))
        front += f"{rng.randrange(1, 53):02d}"
        return SerialNumber.parse(front + mac[3:].hex().upper())
    return SerialNumber.parse(prefix + "".join(rng.choices(_ALNUM, k=11)))


def _iccid(rng: random.Random) -> Iccid:
    partial = "8901" + "".join(rng.choices(string.digits, k=15))
    return Iccid.parse(partial + luhn_digit(partial))


def _imei(rng: random.Random) -> Imei:
    partial = "35" + "".join(rng.choices(string.digits, k=12))
    return Imei.parse(partial + luhn_digit(partial))


def make_identity(
    board: Board,
    rng: random.Random,
    *,
    device_id: DeviceId | str | None = None,
    serial: SerialNumber | str | None = None,
    serial_provisioned: bool = True,
    mobile_secret: MobileSecret | str | None = None,
    iccid: Iccid | str | None = None,
    imei: Imei | str | None = None,
) -> DeviceIdentity:
    """Fill in what the caller did not give, deterministically from ``rng``."""
    mac = _mac(rng)
    if device_id is None:
        device = DeviceId(_device_id_bytes(board, rng, mac).hex())
    else:
        device = device_id if isinstance(device_id, DeviceId) else DeviceId.parse(device_id)
        if board.family is Family.RTL872X and device.value.startswith(RTL_ID_PREFIX.hex()):
            mac = bytes.fromhex(device.value[12:])
    number: SerialNumber | None = None
    if serial_provisioned:
        if serial is None:
            number = _serial(board, rng, mac)
        else:
            number = serial if isinstance(serial, SerialNumber) else SerialNumber.parse(serial)
    secret: MobileSecret | None = None
    if board.gen3_or_later:
        if mobile_secret is None:
            secret = MobileSecret("".join(rng.choices(_ALNUM, k=15)))
        else:
            secret = mobile_secret if isinstance(mobile_secret, MobileSecret) else MobileSecret.parse(mobile_secret)
    card: Iccid | None = None
    modem: Imei | None = None
    if board.cellular:
        card = _iccid(rng) if iccid is None else iccid if isinstance(iccid, Iccid) else Iccid.parse(iccid)
        modem = _imei(rng) if imei is None else imei if isinstance(imei, Imei) else Imei.parse(imei)
    return DeviceIdentity(device, number, secret, mac, card, modem)
