"""The cloud's own view of Particle platforms: id, name, radio, and how its factory ids and serials look."""

from __future__ import annotations

from dataclasses import dataclass

# The architecture keeps cloud_client independent of hardware/, so the emulator carries the few platform facts a
# cloud needs (@particle/device-constants 4.2.1; docs.particle.io/hardware/best-practices/serial-number/) instead of
# importing hardware.platforms.


@dataclass(frozen=True)
class CloudPlatform:
    id: int
    name: str
    cellular: bool
    id_prefix: str
    """Hex every device id of this MCU family starts with ("" = no fixed prefix, e.g. STM32 unique ids)."""
    sku_prefix: str
    """First four characters of a serial number for this platform."""


_NRF = "e00fce68"  # nRF52840: u32 0x68CE0FE0 little-endian (Device OS hal/src/nRF52840/deviceid_hal.cpp)
_RTL = "0a10aced2021"  # RTL872x: 0a 10 ac ed 20 21 + Wi-Fi MAC (Device OS hal/src/rtl872x/deviceid_hal.cpp)

# SKU prefixes P046, P054, P031 and P052 are on docs.particle.io's serial-number page, as are the old E31T, B40T and
# ARNT;
# the rest are plausible stand-ins (unconfirmed): nothing in the cloud API checks them.
PLATFORMS: tuple[CloudPlatform, ...] = (
    CloudPlatform(0, "core", False, "", "COR0"),
    CloudPlatform(6, "photon", False, "", "PH0A"),
    CloudPlatform(8, "p1", False, "", "P1AA"),
    CloudPlatform(10, "electron", True, "", "E31T"),
    CloudPlatform(12, "argon", False, _NRF, "ARNT"),
    CloudPlatform(13, "boron", True, _NRF, "B40T"),
    CloudPlatform(14, "xenon", False, _NRF, "XENK"),
    CloudPlatform(15, "esomx", True, _NRF, "P052"),
    CloudPlatform(22, "asom", False, _NRF, "ASOM"),
    CloudPlatform(23, "bsom", True, _NRF, "B40H"),
    CloudPlatform(24, "xsom", False, _NRF, "XSOM"),
    CloudPlatform(25, "b5som", True, _NRF, "B52H"),
    CloudPlatform(26, "tracker", True, _NRF, "P031"),
    CloudPlatform(28, "trackerm", True, _RTL, "P060"),
    CloudPlatform(32, "p2", False, _RTL, "P046"),
    CloudPlatform(35, "msom", True, _RTL, "P054"),
    CloudPlatform(37, "electron2", True, _NRF, "P065"),
    CloudPlatform(38, "sulu", True, _RTL, "P070"),
    CloudPlatform(42, "tachyon", True, "", "P075"),
)

COMMON_PLATFORMS = ("boron", "bsom", "p2", "msom", "tracker", "argon")
"""Platforms that get a factory pool when no product names one."""

_ALIASES = {"photon2": "p2", "e-series": "electron", "b-som": "bsom", "m-som": "msom", "e404x": "esomx"}
_BY_NAME = {p.name: p for p in PLATFORMS}
_BY_ID = {p.id: p for p in PLATFORMS}


class UnknownCloudPlatform(LookupError):
    """A platform name or id the emulator does not know."""


def platform_by_name(name: str) -> CloudPlatform:
    """The platform called ``name`` (Device OS name, an alias such as ``photon2``, or its decimal id)."""
    key = name.strip().lower()
    if key.isdigit():
        return platform_by_id(int(key))
    key = _ALIASES.get(key, key)
    try:
        return _BY_NAME[key]
    except KeyError:
        known = ", ".join(p.name for p in PLATFORMS)
        raise UnknownCloudPlatform(f"unknown platform {name!r}; known platforms: {known}") from None


def platform_by_id(platform_id: int) -> CloudPlatform:
    """The platform with this Device OS platform id."""
    try:
        return _BY_ID[platform_id]
    except KeyError:
        raise UnknownCloudPlatform(f"unknown platform id {platform_id}") from None
