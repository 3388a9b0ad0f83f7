"""The 6.2.0 nRF bootloader's legacy-slot erase must not destroy a new app that itself covers 0xD4000."""

from __future__ import annotations

from hardware.firmware import ModuleFunction, parse_module
from hardware.firmware_builder import build_module
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb.discovery import open_device
from hardware.usb.flashing import flash_user_firmware
from hardware.usb.timing import HostTiming


def test_a_256k_boron_app_on_6_2_0_survives_the_legacy_slot_erase() -> None:
    device = SimulatedDevice("boron", seed="large-app", device_os="6.2.0")
    image = build_module("boron", ModuleFunction.USER_PART, 2, 6, size=200 * 1024,
                         dependencies=[(ModuleFunction.SYSTEM_PART, 1, 6200)], product_id=1, product_version=3)
    module = parse_module(image)
    assert module.start_address + len(image) > 0xD4000
    backend = usb_backend(device)
    result = flash_user_firmware(open_device(device.device_id, backend=backend), module, timing=HostTiming.fast())
    result.device.close()
    assert device.read_flash(module.start_address, len(image)) == image
    running = device.running_user_part
    assert running is not None and running.start == 0xB4000 and running.product == (1, 3)
