"""The USB host side: find Particle devices, send control requests, flash over DfuSe, update Device OS.

Every entry point takes the pyusb backend (libusb-1.0 for hardware, ``hardware.simulated.usb_backend`` in tests) as
an argument, so real and simulated devices run through the same code.

    with open_device(backend=backend) as device:           # normal or DFU mode
        result = flash_user_firmware(device, load_module("app.bin"))
        result.device.close()
"""

from hardware.usb.control import ControlChannel, ControlReply
from hardware.usb.dfu import DfuSession
from hardware.usb.dfuse_layout import MemoryLayout, MemorySegment
from hardware.usb.discovery import (
    DeviceInfo,
    DeviceMode,
    UsbDevice,
    default_backend,
    list_devices,
    open_device,
    wait_for_device,
)
from hardware.usb.flashing import FlashResult, PhaseTime, flash_user_firmware, open_control
from hardware.usb.identify import UsbIdentity, identify_device, running_user_part
from hardware.usb.module_info import ModuleDependency, ModuleInfo
from hardware.usb.os_update import OsUpdateResult, SkippedModule, update_device_os
from hardware.usb.requests import CellularIds, ControlWifiCredentials, DeviceControl, WifiSecurity
from hardware.usb.timing import HostTiming

__all__ = [
    "CellularIds",
    "ControlChannel",
    "ControlReply",
    "ControlWifiCredentials",
    "DeviceControl",
    "DeviceInfo",
    "DeviceMode",
    "DfuSession",
    "FlashResult",
    "HostTiming",
    "MemoryLayout",
    "MemorySegment",
    "ModuleDependency",
    "ModuleInfo",
    "OsUpdateResult",
    "PhaseTime",
    "SkippedModule",
    "UsbDevice",
    "UsbIdentity",
    "WifiSecurity",
    "default_backend",
    "flash_user_firmware",
    "identify_device",
    "list_devices",
    "open_control",
    "open_device",
    "running_user_part",
    "update_device_os",
    "wait_for_device",
]
