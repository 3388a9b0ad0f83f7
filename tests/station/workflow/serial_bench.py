"""A SerialLink to simulated devices' consoles (real ptys through pyserial), with console time-outs short enough
for tests."""

from __future__ import annotations

from hardware.serial.console import ConsoleTimeouts
from hardware.simulated import SimulatedDevice
from hardware.simulated.serial_ports import simulated_comports
from station.workflow.serial_link import SerialLink

FAST_CONSOLE = ConsoleTimeouts(reply=2.0, idle_gap=0.1, probe=0.3, enter_listening=1.0)


def serial_link_to(*devices: SimulatedDevice) -> SerialLink:
    """A SerialLink that sees ``devices``' consoles while they are plugged in and not in DFU mode. Close the
    consoles after use (hardware.simulated.serial_pty.close_all_serial_consoles)."""
    return SerialLink(simulated_comports(devices), timeouts=FAST_CONSOLE, reappear_timeout=10.0, poll=0.01)
