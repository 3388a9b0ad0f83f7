"""``hardware.usb.identify``: who a device is and which user part it runs, the one answer the station's USB link and
``particle-station identify`` share."""

from __future__ import annotations

from collections.abc import Callable

from hardware.firmware import ModuleFunction
from hardware.firmware.format import ModuleValidity
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb import HostTiming, ModuleInfo, UsbDevice, identify_device, running_user_part
from station.commands.usb import identify_usb
from station.workflow.usb_link import UsbLink

CHECKED = ModuleValidity.INTEGRITY | ModuleValidity.DEPENDENCIES


def module(function: ModuleFunction, index: int, version: int, *, valid: bool = True) -> ModuleInfo:
    passed = CHECKED if valid else ModuleValidity.DEPENDENCIES
    return ModuleInfo(function, index, version, checked=CHECKED, passed=passed)


def test_a_cellular_device_reports_serial_device_os_modules_iccid_and_imei(
    boron: SimulatedDevice, open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    found = identify_device(open_usb(boron), timing)
    running = boron.running_user_part
    assert running is not None and found.user_part is not None
    assert (found.device_id, found.platform, found.serial) == (boron.device_id, boron.platform, boron.serial)
    assert found.device_os == boron.device_os and found.system_module_version == boron.system_module_version
    assert (found.iccid, found.imei) == (boron.iccid, boron.imei)
    assert (found.user_part.version, found.user_part.hash) == (running.version, running.sha256)
    assert found.user_part.valid


def test_a_wifi_device_has_no_iccid_or_imei(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice],
    timing: HostTiming,
) -> None:
    found = identify_device(open_usb(device_factory("p2")), timing)
    assert found.iccid is None and found.imei is None and found.user_part is not None


def test_the_running_user_part_is_the_first_valid_one() -> None:
    system = module(ModuleFunction.SYSTEM_PART, 1, 6200)
    broken, legacy = module(ModuleFunction.USER_PART, 2, 7, valid=False), module(ModuleFunction.USER_PART, 1, 3)
    assert running_user_part([system, broken, legacy]) == legacy


def test_with_no_valid_user_part_the_first_one_reported_is_the_running_one() -> None:
    broken = module(ModuleFunction.USER_PART, 2, 7, valid=False)
    assert running_user_part([module(ModuleFunction.SYSTEM_PART, 1, 6200), broken]) == broken
    assert running_user_part([module(ModuleFunction.SYSTEM_PART, 1, 6200)]) is None


def test_the_workflow_and_the_command_line_report_the_same_device(
    boron: SimulatedDevice, open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    facts = UsbLink(usb_backend(boron), timing=timing).identify(boron.device_id)
    report = identify_usb(open_usb(boron), timing)
    assert facts.user_part is not None and facts.serial is not None
    assert report.user_part_version == facts.user_part.version
    assert (report.serial, report.device_os) == (str(facts.serial), facts.device_os)
    assert (report.iccid, report.imei) == (str(facts.iccid), str(facts.imei))
