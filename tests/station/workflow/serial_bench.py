"""A SerialLink to simulated devices' consoles (real ptys through pyserial): the port list the operating system
would give for each device, and console time-outs short enough for tests."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.serial.console import ConsoleTimeouts
from hardware.simulated import DeviceMode, SimulatedDevice
from station.workflow.serial_link import SerialLink

FAST_CONSOLE = ConsoleTimeouts(reply=2.0, idle_gap=0.1, probe=0.3, enter_listening=1.0)


@dataclass
class PtyPortInfo:
    """What the OS port list says about a simulated device's CDC port (the seam SerialLink takes)."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str = "simulated"


def serial_link_to(*devices: SimulatedDevice) -> SerialLink:
    """A SerialLink that sees ``devices``' consoles while they are plugged in and not in DFU mode. Close the
    consoles after use (hardware.simulated.serial_pty.close_all_serial_consoles)."""

    def comports() -> list[PtyPortInfo]:
        return [PtyPortInfo(device.serial_port(), device.platform.usb_vendor_id, device.platform.usb_product_id,
                            device.device_id.value.upper())
                for device in devices if device.present and device.mode is not DeviceMode.DFU]

    return SerialLink(comports, timeouts=FAST_CONSOLE, reappear_timeout=10.0, poll=0.01)
