"""What the operating system's serial-port list would say about simulated devices: each one's CDC console (a pty)
while it is plugged in and not in DFU mode, with its USB ids and its device id as the port's serial number, as
pyserial's ``list_ports.comports()`` describes a real Particle device."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hardware.simulated.device import SimulatedDevice
from hardware.simulated.lifecycle import DeviceMode


@dataclass
class SimulatedPortInfo:
    """The fields of a pyserial ListPortInfo that the host reads."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str = "simulated"


def simulated_comports(devices: Sequence[SimulatedDevice]) -> Callable[[], list[SimulatedPortInfo]]:
    """A port lister over ``devices`` (the list is read on every call: devices added later are seen). The consoles
    start on first listing; close them with serial_pty.close_all_serial_consoles."""

    def comports() -> list[SimulatedPortInfo]:
        return [SimulatedPortInfo(device.serial_port(), device.platform.usb_vendor_id, device.platform.usb_product_id,
                                  device.device_id.value.upper())
                for device in list(devices) if device.present and device.mode is not DeviceMode.DFU]

    return comports
