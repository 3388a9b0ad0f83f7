"""The hardware package's error hierarchy: every failure that a device, a label or a binary can cause."""

from __future__ import annotations


class HardwareError(Exception):
    """Base class for every error raised by the hardware package."""


class IdentifierError(HardwareError, ValueError):
    """A scanned or typed identifier (label, device id, serial, ICCID, IMEI) is not valid."""


class FirmwareError(HardwareError):
    """A firmware file cannot be parsed as a Particle module binary."""


class UnknownPlatformError(HardwareError, LookupError):
    """A platform id, name or USB product id that is not in the platform table."""
