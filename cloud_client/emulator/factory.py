"""Plausible manufactured devices, deterministic from a seed: device ids, serials, mobile secrets, IMEIs, ICCIDs."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from cloud_client.emulator.catalog import CloudPlatform

_SECRET_ALPHABET = string.ascii_uppercase + string.digits


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits`` (used by IMEIs and ICCIDs)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class ManufacturedDevice:
    device_id: str
    platform_id: int
    serial_number: str
    mobile_secret: str
    iccid: str | None
    imei: str | None


class DeviceFactory:
    """Makes devices as a factory would ship them; the same seed always yields the same devices in the same order."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def _hex(self, count: int) -> str:
        return "".join(self._random.choice("0123456789abcdef") for _ in range(count))

    def _digits(self, count: int) -> str:
        return "".join(self._random.choice(string.digits) for _ in range(count))

    def make(self, platform: CloudPlatform) -> ManufacturedDevice:
        device_id = platform.id_prefix + self._hex(24 - len(platform.id_prefix))
        # Serial: SKU prefix (4), manufacturer (2), year (1), week (2), then 6 uppercase hex (as Device OS
        # hal/src/rtl872x/deviceid_hal.cpp builds it).
        serial = (
            platform.sku_prefix
            + "".join(self._random.choice(string.ascii_uppercase) for _ in range(2))
            + str(self._random.randint(0, 9))
            + f"{self._random.randint(1, 52):02d}"
            + self._hex(6).upper()
        )
        secret = "".join(self._random.choice(_SECRET_ALPHABET) for _ in range(15))
        iccid = imei = None
        if platform.cellular:
            body = "89" + "01" + self._digits(15)
            iccid = body + luhn_digit(body)  # 20 digits
            tac_and_serial = "35" + self._digits(12)
            imei = tac_and_serial + luhn_digit(tac_and_serial)
        return ManufacturedDevice(device_id, platform.id, serial, secret, iccid, imei)
