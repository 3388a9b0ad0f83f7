"""Errors of the USB host side: finding a device, moving bytes, control-request results, DFU and flashing."""

from __future__ import annotations

from hardware.errors import HardwareError
from hardware.usb.protocol import DfuState, DfuStatus, ResultCode


class UsbError(HardwareError):
    """Base class for every failure talking to a Particle device over USB."""


class LibusbNotFoundError(UsbError):
    """The libusb-1.0 library is not installed, so no USB device can be reached."""


class DeviceNotFoundError(UsbError):
    """No matching Particle device is connected."""


class MultipleDevicesError(UsbError):
    """Several Particle devices are connected and none was named."""


class DeviceWaitTimeoutError(UsbError):
    """A device did not (re-)appear in the expected mode in time."""


class UsbTransferError(UsbError):
    """A USB transfer failed."""


class UsbStallError(UsbTransferError):
    """The device stalled a control transfer (it refused the request in its current state)."""


class UsbTimeoutError(UsbTransferError):
    """A USB transfer did not complete in time."""


class DeviceDisconnectedError(UsbTransferError):
    """The device went away in the middle of an operation."""


class ControlProtocolError(UsbError):
    """The device's control-request framing replies broke the protocol."""


class RequestTimeoutError(UsbError):
    """A control request did not finish within its timeout (it was cancelled with RESET)."""


class DeviceBusyError(UsbError):
    """The device kept refusing new control requests (BUSY or no memory) until the timeout."""


class DeviceMemoryError(UsbError):
    """The device ran out of memory for a control request and dropped it."""


class RequestCancelledError(UsbError):
    """The device no longer knows the request (NOT_FOUND): it was cancelled or the device restarted."""


class AppRequestTimeout(RequestTimeoutError):
    """An application request (type 10) got no answer within its timeout, or waited that long for a free slot."""


class AppRequestLost(UsbError):
    """The device reset, vanished or forgot an application request (type 10) before answering it."""


class AppRequestTooLarge(UsbError, ValueError):
    """An application request payload is larger than the 65,535 bytes the framing can carry."""


class UsbRequestError(UsbError):
    """A control request finished with a non-zero result code."""

    def __init__(self, message: str, *, request: int, result: int) -> None:
        super().__init__(message)
        self.request = request
        self.result = result

    @property
    def result_name(self) -> str:
        try:
            return ResultCode(self.result).name
        except ValueError:
            return f"RESULT_{self.result}"


class NotSupportedError(UsbRequestError):
    """The device does not support this request (NOT_SUPPORTED), e.g. a feature of another platform or version."""


class NotAllowedError(UsbRequestError):
    """The application on the device filtered this request out (NOT_ALLOWED)."""


class AppRequestFailed(UsbRequestError):
    """The application on the device answered a request (type 10) with a non-zero result."""


class DfuError(UsbError):
    """A DFU operation failed; carries the device's last DFU state and status when known."""

    def __init__(self, message: str, *, state: DfuState | None = None, status: DfuStatus | None = None) -> None:
        super().__init__(message)
        self.state = state
        self.status = status


class DfuLayoutError(DfuError):
    """A DfuSe memory-layout string cannot be parsed."""


class ReadOnlyRegionError(DfuError):
    """A write would touch a flash segment the device reports as not writable."""


class VerifyError(DfuError):
    """Flash read back over DFU differs from what was written."""


class DeviceProtectedError(UsbRequestError, DfuError):
    """The device is a Protected Device and refused: a control request answered DEVICE_PROTECTED (-1801), or a DFU
    request answered errVENDOR (0x0B). One type for both, so callers catch one thing; ``request``/``result`` are set
    for a control request, ``state``/``status`` for DFU (the others are None)."""

    def __init__(
        self,
        message: str,
        *,
        request: int | None = None,
        result: int = ResultCode.DEVICE_PROTECTED,
        state: DfuState | None = None,
        status: DfuStatus | None = None,
    ) -> None:
        UsbError.__init__(self, message)
        self.request = -1 if request is None else request
        self.result = result
        self.state = state
        self.status = status


class ServiceModeRefusedError(UsbRequestError):
    """The device refused a step of the Service Mode handshake (SetProtectedState 77): key mismatch (-1802),
    invalid signature (-1803), a confirm too late (-160), no prepare (-210) or a bad argument (-270)."""


class DfuseCommandUnsupportedError(DfuError):
    """The bootloader does not list a DfuSe command in its GET_COMMAND reply (an older Device OS)."""


class FlashError(UsbError):
    """Flashing a device did not end with the new firmware confirmed running."""


class IncompatibleFirmwareError(FlashError):
    """A firmware module does not fit the device (platform, Device OS dependency, placement)."""
