"""Find Particle devices on USB in normal and DFU mode, open one by id, and wait for it to re-enumerate.

The pyusb backend is a constructor argument everywhere: libusb-1.0 for real devices, a simulated backend in tests.
Facts: VID/PIDs from @particle/device-constants 4.2.1 (src/constants.json); iSerialNumber = lowercase device id in
Device OS 6.2.0 bootloader/src/nRF52840/usbd_device.cpp and hal/src/rtl872x/usbd_device.cpp; open and re-open by id
as particle-usb 4.1.0 src/device-base.js (openDeviceById) does.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import usb.backend.libusb1
import usb.core
import usb.util

from hardware.errors import IdentifierError
from hardware.identifiers import DeviceId
from hardware.platforms import Platform, UsbMatch, by_usb_id, is_particle_usb_id
from hardware.usb.errors import (
    DeviceDisconnectedError,
    DeviceNotFoundError,
    DeviceWaitTimeoutError,
    LibusbNotFoundError,
    MultipleDevicesError,
    UsbStallError,
    UsbTimeoutError,
    UsbTransferError,
)
from hardware.usb.protocol import (
    DESCRIPTOR_STRING,
    GET_DESCRIPTOR,
    LANGID_EN_US,
    STANDARD_DEVICE_IN,
    STRING_DESCRIPTOR_MAX_LENGTH,
    TRANSFER_TIMEOUT_MS,
)

log = logging.getLogger(__name__)

UsbBackend = Any
"""A pyusb backend (``usb.backend.IBackend``): libusb-1.0 for hardware, a simulated one in tests."""

LIBUSB_MISSING = "libusb-1.0 not found: install libusb-1.0-0 (Debian/Ubuntu: sudo apt-get install libusb-1.0-0)"

# libusb error codes that pyusb exposes as ``backend_error_code`` (libusb.h).
_LIBUSB_ERROR_NO_DEVICE = -4
_LIBUSB_ERROR_PIPE = -9
_LIBUSB_ERROR_ACCESS = -3


class DeviceMode(enum.Enum):
    NORMAL = "normal"
    DFU = "dfu"

    def __str__(self) -> str:
        return "DFU" if self is DeviceMode.DFU else "normal"


def default_backend(load: Callable[[], UsbBackend | None] = usb.backend.libusb1.get_backend) -> UsbBackend:
    """The libusb-1.0 pyusb backend (from ``load``), or LibusbNotFoundError when the library is not installed."""
    backend = load()
    if backend is None:
        raise LibusbNotFoundError(LIBUSB_MISSING)
    return backend


@dataclass(frozen=True)
class DeviceInfo:
    """What discovery learns about one Particle device without opening a control channel."""

    device_id: DeviceId | None
    """None when the USB serial string could not be read (see ``problem``)."""
    platform: Platform
    mode: DeviceMode
    bus: int | None = None
    address: int | None = None
    problem: str = ""
    port: str | None = None
    """The physical port path as Linux names it (``1-1.2`` = bus 1, hub port 1, port 2): stable across re-plugs and
    mode changes, unlike the address, so station slots are mapped to it."""

    def __repr__(self) -> str:
        return f"DeviceInfo({self.device_id or '?'}, {self.platform.name}, {self.mode.value})"

    def describe(self) -> str:
        who = str(self.device_id) if self.device_id else f"unidentified device at bus {self.bus} address {self.address}"
        return f"{self.platform.display_name} {who} ({self.mode} mode)"


def _is_errno(exc: usb.core.USBError, code: int, libusb_code: int) -> bool:
    return exc.errno == code or getattr(exc, "backend_error_code", None) == libusb_code


def translate_usb_error(exc: usb.core.USBError, who: str, what: str, timeout_ms: int) -> UsbTransferError:
    """The package's error for a pyusb failure of ``what`` on device ``who``."""
    if isinstance(exc, usb.core.USBTimeoutError):
        return UsbTimeoutError(
            f"{what} to {who} timed out after {timeout_ms} ms; check the cable, or reset the device and retry"
        )
    if _is_errno(exc, errno.EPIPE, _LIBUSB_ERROR_PIPE):
        return UsbStallError(f"{who} stalled {what} (it refused the request in its current state)")
    if _is_errno(exc, errno.ENODEV, _LIBUSB_ERROR_NO_DEVICE):
        return DeviceDisconnectedError(f"{who} disconnected during {what}; reconnect it (check the cable) and retry")
    if _is_errno(exc, errno.EACCES, _LIBUSB_ERROR_ACCESS):
        return UsbTransferError(
            f"no permission to use {who} ({what}); install Particle's udev rule (50-particle.rules) or run as root"
        )
    return UsbTransferError(f"{what} to {who} failed: {exc}; reconnect the device and retry")


class UsbDevice:
    """An open Particle device: its identity plus control transfers that raise the package's errors."""

    def __init__(self, device: usb.core.Device, info: DeviceInfo, backend: UsbBackend) -> None:
        if info.device_id is None:
            raise ValueError("a UsbDevice needs a known device id")
        self._device: usb.core.Device | None = device
        self.info = info
        self.backend = backend

    @property
    def device_id(self) -> DeviceId:
        assert self.info.device_id is not None
        return self.info.device_id

    @property
    def platform(self) -> Platform:
        return self.info.platform

    @property
    def mode(self) -> DeviceMode:
        return self.info.mode

    @property
    def pyusb_device(self) -> usb.core.Device:
        if self._device is None:
            raise DeviceDisconnectedError(f"{self.describe()} was closed; open it again")
        return self._device

    def describe(self) -> str:
        return f"device {self.device_id} ({self.platform.display_name}, {self.mode} mode)"

    def control_in(
        self,
        request_type: int,
        request: int,
        value: int,
        index: int,
        length: int,
        *,
        what: str,
        timeout_ms: int = TRANSFER_TIMEOUT_MS,
    ) -> bytes:
        """An IN control transfer; the reply may be shorter than ``length``."""
        try:
            data = self.pyusb_device.ctrl_transfer(request_type, request, value, index, length, timeout_ms)
        except usb.core.USBError as exc:
            raise translate_usb_error(exc, self.describe(), what, timeout_ms) from exc
        return bytes(data)

    def control_out(
        self,
        request_type: int,
        request: int,
        value: int,
        index: int,
        data: bytes = b"",
        *,
        what: str,
        timeout_ms: int = TRANSFER_TIMEOUT_MS,
    ) -> None:
        """An OUT control transfer; an empty ``data`` means no data stage."""
        try:
            written = self.pyusb_device.ctrl_transfer(request_type, request, value, index, data or None, timeout_ms)
        except usb.core.USBError as exc:
            raise translate_usb_error(exc, self.describe(), what, timeout_ms) from exc
        if data and written != len(data):
            raise UsbTransferError(
                f"{what} to {self.describe()} sent {written} of {len(data)} bytes; reconnect the device and retry"
            )

    def select_alt_setting(self, interface: int, alt: int) -> None:
        """Claim ``interface`` and switch it to alternate setting ``alt`` (standard SET_INTERFACE through libusb)."""
        what = f"selecting alt setting {alt} of interface {interface}"
        try:
            usb.util.claim_interface(self.pyusb_device, interface)
            self.pyusb_device.set_interface_altsetting(interface=interface, alternate_setting=alt)
        except usb.core.USBError as exc:
            raise translate_usb_error(exc, self.describe(), what, TRANSFER_TIMEOUT_MS) from exc
        except ValueError as exc:  # pyusb: no such interface/alt setting in the descriptors
            raise UsbTransferError(f"{self.describe()} has no {what.removeprefix('selecting ')}: {exc}") from exc

    def read_string(self, index: int, *, what: str) -> str:
        """A string descriptor read as particle-usb does (language 0x0409, no LANGID request first)."""
        return read_string_descriptor(self.pyusb_device, index, who=self.describe(), what=what)

    def close(self) -> None:
        """Release the OS handle; the object cannot be used afterwards."""
        if self._device is not None:
            try:
                usb.util.dispose_resources(self._device)
            except usb.core.USBError as exc:  # the device may already be gone after a reset
                log.debug("closing %s: %s", self.describe(), exc)
            self._device = None

    def reopen(self, mode: DeviceMode, *, timeout: float = 60.0, poll: float = 0.5) -> UsbDevice:
        """Close this handle and wait for the same device to enumerate in ``mode`` (after a reset or mode change)."""
        self.close()
        return wait_for_device(self.device_id, mode, timeout=timeout, poll=poll, backend=self.backend)

    def __enter__(self) -> UsbDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"UsbDevice({self.describe()})"


def read_string_descriptor(device: usb.core.Device, index: int, *, who: str, what: str) -> str:
    """String descriptor ``index`` decoded as UTF-16LE from byte 2, as particle-usb reads it (usb-device-node.js)."""
    wvalue = (DESCRIPTOR_STRING << 8) | index
    try:
        raw = bytes(
            device.ctrl_transfer(
                STANDARD_DEVICE_IN,
                GET_DESCRIPTOR,
                wvalue,
                LANGID_EN_US,
                STRING_DESCRIPTOR_MAX_LENGTH,
                TRANSFER_TIMEOUT_MS,
            )
        )
    except usb.core.USBError as exc:
        raise translate_usb_error(exc, who, what, TRANSFER_TIMEOUT_MS) from exc
    if len(raw) < 2 or raw[1] != DESCRIPTOR_STRING:
        raise UsbTransferError(f"{who} returned a malformed string descriptor for {what}; reconnect it and retry")
    length = min(raw[0], len(raw))
    return raw[2:length].decode("utf-16-le", errors="replace")


def _candidates(backend: UsbBackend) -> list[usb.core.Device]:
    found = usb.core.find(
        find_all=True,
        backend=backend,
        custom_match=lambda d: is_particle_usb_id(d.idVendor, d.idProduct),
    )
    return list(found)


def _identify(device: usb.core.Device, match: UsbMatch) -> DeviceInfo:
    mode = DeviceMode.DFU if match.dfu else DeviceMode.NORMAL
    bus, address = getattr(device, "bus", None), getattr(device, "address", None)
    where = f"{match.platform.display_name} at bus {bus} address {address}"
    problem = ""
    device_id: DeviceId | None = None
    try:
        serial = read_string_descriptor(device, device.iSerialNumber, who=where, what="reading the serial string")
        printable = "".join(c for c in serial if c.isprintable()).lower()
        device_id = DeviceId.parse(printable)
    except UsbTransferError as exc:
        problem = str(exc)
    except IdentifierError as exc:
        problem = f"{where} has a USB serial string that is not a device id: {exc}"
    finally:
        with contextlib.suppress(usb.core.USBError):
            usb.util.dispose_resources(device)
    return DeviceInfo(device_id, match.platform, mode, bus, address, problem, _port_path(device))


def _port_path(device: usb.core.Device) -> str | None:
    ports = getattr(device, "port_numbers", None)
    bus = getattr(device, "bus", None)
    if not ports or bus is None:
        return None
    return f"{bus}-{'.'.join(str(p) for p in ports)}"


def _scan(backend: UsbBackend) -> list[tuple[usb.core.Device, DeviceInfo]]:
    out = []
    for device in _candidates(backend):
        match = by_usb_id(device.idVendor, device.idProduct)
        out.append((device, _identify(device, match)))
    return out


def list_devices(*, backend: UsbBackend | None = None) -> list[DeviceInfo]:
    """Every Particle device on USB, in normal or DFU mode, sorted by device id."""
    backend = default_backend() if backend is None else backend
    infos = [info for _, info in _scan(backend)]
    return sorted(infos, key=lambda i: (i.device_id is None, str(i.device_id or ""), i.mode.value))


def open_device(
    device_id: DeviceId | None = None, *, backend: UsbBackend | None = None, mode: DeviceMode | None = None
) -> UsbDevice:
    """The device with ``device_id`` (in ``mode`` if given), or the only Particle device when no id is given."""
    backend = default_backend() if backend is None else backend
    found = _scan(backend)
    usable = [(d, i) for d, i in found if i.device_id is not None and (mode is None or i.mode is mode)]
    unreadable = [i for _, i in found if i.device_id is None]
    if device_id is not None:
        usable = [(d, i) for d, i in usable if i.device_id == device_id]
    if len(usable) == 1:
        device, info = usable[0]
        return UsbDevice(device, info, backend)
    in_mode = f" in {mode} mode" if mode else ""
    if not usable:
        who = f"device {device_id}" if device_id else "Particle device"
        hint = f" ({len(unreadable)} other device(s) could not be read: {unreadable[0].problem})" if unreadable else ""
        raise DeviceNotFoundError(
            f"no {who} found on USB{in_mode}{hint}; connect it with a data cable and check it is powered"
        )
    if device_id is not None:
        raise MultipleDevicesError(
            f"device {device_id} appears {len(usable)} times on USB; disconnect the duplicates and retry"
        )
    names = ", ".join(str(i.device_id) for _, i in usable)
    raise MultipleDevicesError(
        f"{len(usable)} Particle devices found on USB{in_mode} ({names}); name one with --device ID"
    )


def wait_for_device(
    device_id: DeviceId,
    mode: DeviceMode,
    *,
    timeout: float = 60.0,
    poll: float = 0.5,
    backend: UsbBackend | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> UsbDevice:
    """Re-open ``device_id`` once it enumerates in ``mode``, polling every ``poll`` seconds up to ``timeout``."""
    backend = default_backend() if backend is None else backend
    deadline = clock() + timeout
    while True:
        try:
            return open_device(device_id, backend=backend, mode=mode)
        except DeviceNotFoundError:
            pass
        if clock() >= deadline:
            raise DeviceWaitTimeoutError(
                f"device {device_id} did not appear in {mode} mode within {timeout:g} s; check the cable and "
                "that the device is powered, then retry"
            )
        sleep(poll)
