"""How the USB bridge shows one simulated device to node: as node-usb shows a device (its descriptors under libusb's
field names, ``extra`` bytes in base64), and its CDC console as node's ``serialport`` lists a port on Linux (udev's
vendor and product ids, serial number and /dev/serial/by-id name)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from hardware.simulated.backend import SimulatedUsbBackend
from hardware.simulated.usb_facts import CDC_COMMUNICATION_CLASS

_BUS_FIELDS = frozenset({"bus", "address", "port_number", "port_numbers", "speed"})
"""What the backend adds to the device descriptor about where the device sits on the bus."""


def b64(data: bytes | Sequence[int]) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _fields(namespace: SimpleNamespace) -> dict[str, Any]:
    """The descriptor's b* / w* / i* fields, with ``extra_descriptors`` as ``extra`` in base64."""
    values = {k: v for k, v in vars(namespace).items() if k[:1] in "biw"}
    values["extra"] = b64(getattr(namespace, "extra_descriptors", b""))
    return values


def device_view(backend: SimulatedUsbBackend, ref: Any, key: str) -> dict[str, Any]:
    """One enumerated device (``ref`` from ``backend.enumerate_devices()``) through the backend's descriptor
    getters, the ones pyusb calls."""
    device = backend.get_device_descriptor(ref)
    return {
        "key": key,
        "busNumber": device.bus,
        "deviceAddress": device.address,
        "portNumbers": list(device.port_numbers),
        "deviceDescriptor": {k: v for k, v in vars(device).items() if k not in _BUS_FIELDS},
        "configDescriptor": _configuration(backend, ref),
    }


def _configuration(backend: SimulatedUsbBackend, ref: Any) -> dict[str, Any]:
    configuration = backend.get_configuration_descriptor(ref, 0)
    interfaces = []
    for number in range(configuration.bNumInterfaces):
        alts = []
        for alt in itertools.count():
            try:
                interface = backend.get_interface_descriptor(ref, number, alt, 0)
            except IndexError:
                break
            endpoints = [
                _fields(backend.get_endpoint_descriptor(ref, ep, number, alt, 0))
                for ep in range(interface.bNumEndpoints)
            ]
            alts.append({**_fields(interface), "endpoints": endpoints})
        interfaces.append(alts)
    return {**_fields(configuration), "interfaces": interfaces}


def serial_port_view(ref: Any) -> dict[str, str] | None:
    """The device's CDC console (starting its pty) named from its own descriptors; None without one (DFU mode)."""
    descriptors = ref.descriptors
    interfaces = descriptors.configuration.interfaces
    if not any(alt.bInterfaceClass == CDC_COMMUNICATION_CLASS for alts in interfaces for alt in alts):
        return None
    device = descriptors.device
    manufacturer = descriptors.strings.get(device.iManufacturer, "")
    product = descriptors.strings.get(device.iProduct, "")
    serial = descriptors.strings.get(device.iSerialNumber, "")
    by_id = "_".join(part.replace(" ", "_") for part in ("usb-" + manufacturer, product, serial))
    return {
        "path": ref.function.device.serial_port(),
        "manufacturer": manufacturer,
        "serialNumber": serial,
        "vendorId": f"{device.idVendor:04x}",
        "productId": f"{device.idProduct:04x}",
        "pnpId": f"{by_id}-if00",
    }
