"""A pyusb backend hosting simulated devices, so host code runs pyusb's real code path (``usb.core.find``,
descriptors, ``usb.util.get_string``, ``ctrl_transfer``, ``set_interface_altsetting``) against them, and gets the
same ``usb.core.USBError`` errnos libusb gives for a stall, a timeout or an unplugged device."""

from __future__ import annotations

import array
import errno
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from types import SimpleNamespace
from typing import Any

import usb.backend
import usb.core

from hardware.simulated.descriptors import UsbDescriptors
from hardware.simulated.device import SimulatedDevice
from hardware.simulated.errors import UsbNoDevice, UsbStall, UsbTimeout
from hardware.simulated.usb_facts import Recipient, StandardRequest
from hardware.simulated.usb_function import Setup, UsbFunction, usb_function

# libusb error codes and the strings pyusb's libusb1 backend attaches to them.
LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_NOT_FOUND = -5
LIBUSB_ERROR_TIMEOUT = -7
LIBUSB_ERROR_PIPE = -9
LIBUSB_SPEED_FULL = 2
BUS_NUMBER = 1
_CONTAINERS = frozenset({"extra", "interfaces", "endpoints"})


@contextmanager
def _as_usb_errors() -> Iterator[None]:
    try:
        yield
    except UsbStall:
        raise usb.core.USBError("Pipe error", LIBUSB_ERROR_PIPE, errno.EPIPE) from None
    except UsbTimeout:
        raise usb.core.USBTimeoutError("Operation timed out", LIBUSB_ERROR_TIMEOUT, errno.ETIMEDOUT) from None
    except UsbNoDevice:
        raise usb.core.USBError(
            "No such device (it may have been disconnected)", LIBUSB_ERROR_NO_DEVICE, errno.ENODEV
        ) from None


class _DeviceRef:
    """One device on one connection, as ``enumerate_devices`` yields it; descriptors are cached like libusb's."""

    def __init__(self, function: UsbFunction, session: int, descriptors: UsbDescriptors, port: int, address: int):
        self.function = function
        self.session = session
        self.descriptors = descriptors
        self.port = port
        self.address = address

    def __repr__(self) -> str:
        return f"<simulated USB device {self.function.device!r} port {self.port} address {self.address}>"


class _Handle:
    def __init__(self, ref: _DeviceRef) -> None:
        self.ref = ref
        self.claimed: set[int] = set()


def _namespace(descriptor: Any, **extra: Any) -> SimpleNamespace:
    """The descriptor's USB fields (bLength, wMaxPacketSize, iInterface …) plus ``extra`` as plain attributes."""
    values = {f.name: getattr(descriptor, f.name) for f in fields(descriptor) if f.name not in _CONTAINERS}
    values.update(extra)
    return SimpleNamespace(**values)


class SimulatedUsbBackend(usb.backend.IBackend):  # type: ignore[misc]
    """Devices appear on bus 1, one port each (in the order given), with a new address at every enumeration."""

    def __init__(self, devices: tuple[SimulatedDevice, ...] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._ports: list[UsbFunction] = []
        self._addresses: dict[tuple[int, int], int] = {}
        self._next_address = itertools.count()
        for device in devices:
            self.add(device)

    @property
    def devices(self) -> tuple[SimulatedDevice, ...]:
        with self._lock:
            return tuple(f.device for f in self._ports)

    def add(self, device: SimulatedDevice) -> None:
        """Connect another device on the next free port."""
        with self._lock:
            self._ports.append(usb_function(device))

    def remove(self, device: SimulatedDevice) -> None:
        with self._lock:
            self._ports = [f for f in self._ports if f.device is not device]

    # --- enumeration and descriptors -----------------------------------------------------------------------------

    def enumerate_devices(self) -> list[_DeviceRef]:
        with self._lock:
            ports = list(enumerate(self._ports, start=1))
        refs = []
        for port, function in ports:
            seen = function.enumeration()
            if seen is None:
                continue
            refs.append(_DeviceRef(function, seen.session, seen.descriptors, port, self._address(port, seen.session)))
        return refs

    def _address(self, port: int, session: int) -> int:
        with self._lock:
            key = (port, session)
            if key not in self._addresses:
                self._addresses[key] = 1 + next(self._next_address) % 127
            return self._addresses[key]

    def get_parent(self, dev: _DeviceRef) -> None:
        return None

    def get_device_descriptor(self, dev: _DeviceRef) -> SimpleNamespace:
        return _namespace(
            dev.descriptors.device,
            bus=BUS_NUMBER,
            address=dev.address,
            port_number=dev.port,
            port_numbers=(dev.port,),
            speed=LIBUSB_SPEED_FULL,
        )

    def get_configuration_descriptor(self, dev: _DeviceRef, config: int) -> SimpleNamespace:
        if config != 0:
            raise usb.core.USBError("Entity not found", LIBUSB_ERROR_NOT_FOUND, errno.ENOENT)
        configuration = dev.descriptors.configuration
        return _namespace(
            configuration,
            wTotalLength=configuration.wTotalLength,
            bNumInterfaces=configuration.bNumInterfaces,
            extra_descriptors=list(configuration.extra),
        )

    def get_interface_descriptor(self, dev: _DeviceRef, intf: int, alt: int, config: int) -> SimpleNamespace:
        interfaces = dev.descriptors.configuration.interfaces
        if config != 0 or intf >= len(interfaces):
            raise IndexError(f"Invalid interface index {intf}")
        if alt >= len(interfaces[intf]):
            raise IndexError(f"Invalid alternate setting index {alt}")
        interface = interfaces[intf][alt]
        return _namespace(interface, bNumEndpoints=interface.bNumEndpoints, extra_descriptors=list(interface.extra))

    def get_endpoint_descriptor(self, dev: _DeviceRef, ep: int, intf: int, alt: int, config: int) -> SimpleNamespace:
        interface = dev.descriptors.configuration.interfaces[intf][alt]
        if ep >= len(interface.endpoints):
            raise IndexError(f"Invalid endpoint index {ep}")
        endpoint = interface.endpoints[ep]
        return _namespace(endpoint, extra_descriptors=list(endpoint.extra))

    # --- handles -------------------------------------------------------------------------------------------------

    def open_device(self, dev: _DeviceRef) -> _Handle:
        with _as_usb_errors():
            dev.function.require(dev.session)
        return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        dev_handle.claimed.clear()

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._standard_out(dev_handle, Recipient.DEVICE, StandardRequest.SET_CONFIGURATION, config_value, 0)

    def get_configuration(self, dev_handle: _Handle) -> int:
        with _as_usb_errors():
            dev_handle.ref.function.require(dev_handle.ref.session)
        return dev_handle.ref.function.configuration

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._standard_out(dev_handle, Recipient.INTERFACE, StandardRequest.SET_INTERFACE, altsetting, intf)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        ref = dev_handle.ref
        with _as_usb_errors():
            known = ref.function.has_interface(ref.session, intf)
        if not known:
            raise usb.core.USBError("Entity not found", LIBUSB_ERROR_NOT_FOUND, errno.ENOENT)
        dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        dev_handle.claimed.discard(intf)
        with _as_usb_errors():
            dev_handle.ref.function.require(dev_handle.ref.session)

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        ref = dev_handle.ref
        length = len(data) * data.itemsize
        setup = Setup(bmRequestType, bRequest, wValue, wIndex, length)
        out = b"" if setup.direction_in else data.tobytes()
        with _as_usb_errors():
            reply = ref.function.control_transfer(ref.session, setup, out, timeout)
        if not setup.direction_in:
            return length
        data[: len(reply)] = array.array("B", reply)
        return len(reply)

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        with _as_usb_errors():
            dev_handle.ref.function.require(dev_handle.ref.session)

    def reset_device(self, dev_handle: _Handle) -> None:
        with _as_usb_errors():
            dev_handle.ref.function.require(dev_handle.ref.session)

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        return None

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        return None

    def _standard_out(self, dev_handle: _Handle, recipient: int, request: int, value: int, index: int) -> None:
        ref = dev_handle.ref
        setup = Setup(recipient, request, value, index, 0)
        with _as_usb_errors():
            ref.function.control_transfer(ref.session, setup, b"", 1000)


def usb_backend(*devices: SimulatedDevice) -> SimulatedUsbBackend:
    """A pyusb backend hosting ``devices``: pass it as ``usb.core.find(backend=...)``."""
    return SimulatedUsbBackend(devices)
