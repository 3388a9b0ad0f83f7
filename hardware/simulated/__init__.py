"""Simulated Particle devices: one device model (identity, flash, modes, timing, faults) exposed through a pyusb
backend (and, via ``SimulatedDevice.serial_port()``, a pty serial console).

    device = SimulatedDevice("boron", seed=1)
    found = usb.core.find(backend=usb_backend(device), idVendor=0x2B04)
"""

from hardware.simulated.backend import SimulatedUsbBackend, usb_backend
from hardware.simulated.device import DeviceMode, SimulatedDevice
from hardware.simulated.errors import SimulationError
from hardware.simulated.faults import Faults
from hardware.simulated.module_image import Dependency, ModuleImage
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.timing import Timing
from hardware.simulated.wifi import StoredWifiNetwork, VisibleNetwork

FaultPlan = Faults

__all__ = [
    "Dependency",
    "DeviceMode",
    "FaultPlan",
    "Faults",
    "ModuleImage",
    "ModuleRecord",
    "SimulatedDevice",
    "SimulatedUsbBackend",
    "SimulationError",
    "StoredWifiNetwork",
    "Timing",
    "VisibleNetwork",
    "usb_backend",
]
