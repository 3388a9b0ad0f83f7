"""Errors of the serial console and YMODEM flashing; each names the port and says what the operator can do."""

from __future__ import annotations

from hardware.errors import HardwareError


class SerialConsoleError(HardwareError):
    """Base class for every failure on a Particle device's USB serial (CDC) port."""

    def __init__(self, message: str, *, port: str = "") -> None:
        super().__init__(message)
        self.port = port


class SerialPortError(SerialConsoleError):
    """The port cannot be found, opened or used (missing, busy, no permission)."""


class SerialDisconnectedError(SerialPortError):
    """The port went away while in use (device reset, cable pulled, USB re-enumeration)."""


class SerialTimeoutError(SerialConsoleError):
    """The device did not answer a console command within its time limit."""


class SerialReplyError(SerialConsoleError):
    """The device answered, but the answer is not what the console protocol defines."""


class ListeningModeError(SerialConsoleError):
    """The device could not be put into listening mode from the host."""


class ClaimCodeError(SerialConsoleError):
    """The device refused a claim code."""


class WifiSetupError(SerialConsoleError):
    """The Wi-Fi credentials dialogue failed or the device could not save the credentials."""


class YmodemError(SerialConsoleError):
    """A YMODEM transfer failed (no receiver, too many retries, the device cancelled or rejected the file)."""


class SerialFlashingUnsupportedError(YmodemError):
    """The device runs Device OS 6 or later, which no longer accepts firmware over serial."""
