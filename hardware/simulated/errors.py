"""Errors of the device simulator: misuse of the simulator, and the USB-level outcomes a transport turns into
its own exceptions (stall, timeout, device gone)."""

from __future__ import annotations

from hardware.errors import HardwareError


class SimulationError(HardwareError):
    """The simulator was asked for something a real device cannot be or do (bad platform, bad module image)."""


class UsbStall(Exception):
    """The device stalled endpoint 0 for this request (libusb LIBUSB_ERROR_PIPE)."""


class UsbTimeout(Exception):
    """The device did not complete the transfer before the host's timeout (libusb LIBUSB_ERROR_TIMEOUT)."""


class UsbNoDevice(Exception):
    """The device is gone: unplugged, reset or re-enumerated since the handle was opened (LIBUSB_ERROR_NO_DEVICE)."""
