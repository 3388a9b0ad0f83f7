"""Simulated Particle devices: one device model (identity, flash, modes, timing, faults) exposed through a pyusb
backend (and, via ``SimulatedDevice.serial_port()``, a pty serial console).

    device = SimulatedDevice("boron", seed=1)
    found = usb.core.find(backend=usb_backend(device), idVendor=0x2B04)

The simulator stands for the device: every number and text it puts on the wire is its own copy, written from the
public specifications and Particle's sources (``usb_facts``, ``control_facts``, ``control_messages``, ``dfu_facts``,
``flash_layout``, ``serial_facts``, ``module_format``, ``platform_facts``, ``versions``), never imported from the host
packages (``hardware.usb``, ``hardware.serial``, ``hardware.firmware``), so a host that gets one wrong is caught.
"""

from hardware.simulated.backend import SimulatedUsbBackend, usb_backend
from hardware.simulated.device import DeviceMode, SimulatedDevice
from hardware.simulated.errors import SimulationError
from hardware.simulated.faults import Faults, SerialFaults, TestFault, TestFaultKind
from hardware.simulated.module_format import ModuleFunction
from hardware.simulated.module_image import Dependency, ModuleImage
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.test_firmware import TEST_FIRMWARE_MARKER, TestFirmwareManifest
from hardware.simulated.timing import Timing
from hardware.simulated.wifi import StoredWifiNetwork, VisibleNetwork

FaultPlan = Faults

__all__ = [
    "TEST_FIRMWARE_MARKER",
    "Dependency",
    "DeviceMode",
    "FaultPlan",
    "Faults",
    "ModuleFunction",
    "ModuleImage",
    "ModuleRecord",
    "SerialFaults",
    "SimulatedDevice",
    "SimulatedUsbBackend",
    "SimulationError",
    "StoredWifiNetwork",
    "TestFault",
    "TestFaultKind",
    "TestFirmwareManifest",
    "Timing",
    "VisibleNetwork",
    "usb_backend",
]
