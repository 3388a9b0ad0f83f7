"""Finding Particle devices on USB through pyusb, opening one by id, and waiting for re-enumeration
(particle-usb 4.1.0 src/device-base.js; particle-cli 3.43.1 src/cmd/usb-util.js)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb import DeviceMode, HostTiming, list_devices, open_device, wait_for_device
from hardware.usb.discovery import default_backend
from hardware.usb.errors import (
    DeviceNotFoundError,
    DeviceWaitTimeoutError,
    LibusbNotFoundError,
    MultipleDevicesError,
)

Factory = Callable[..., SimulatedDevice]


def test_lists_devices_of_every_family_with_platform_and_lowercase_id(device_factory: Factory) -> None:
    devices = [device_factory(name) for name in ("boron", "p2", "photon", "electron", "msom")]
    found = list_devices(backend=usb_backend(*devices))
    assert {(str(i.device_id), i.platform.name, i.mode) for i in found} == {
        (d.device_id.value, d.platform.name, DeviceMode.NORMAL) for d in devices
    }


def test_device_id_from_usb_is_lowercase(boron: SimulatedDevice) -> None:
    (info,) = list_devices(backend=usb_backend(boron))
    assert str(info.device_id) == str(info.device_id).lower()


def test_lists_a_device_in_dfu_mode_as_dfu(boron: SimulatedDevice) -> None:
    boron.reboot(mode=boron.mode.DFU)
    (info,) = list_devices(backend=usb_backend(boron))
    assert (info.device_id, info.mode) == (boron.device_id, DeviceMode.DFU)


def test_empty_bus_lists_nothing() -> None:
    assert list_devices(backend=usb_backend()) == []


def test_open_without_id_returns_the_only_device(boron: SimulatedDevice) -> None:
    with open_device(backend=usb_backend(boron)) as device:
        assert (device.device_id, device.platform.name) == (boron.device_id, "boron")


def test_open_without_id_refuses_when_several_are_connected_and_names_them(device_factory: Factory) -> None:
    a, b = device_factory("boron"), device_factory("p2")
    with pytest.raises(MultipleDevicesError) as caught:
        open_device(backend=usb_backend(a, b))
    assert str(a.device_id) in str(caught.value) and str(b.device_id) in str(caught.value)
    assert "--device" in str(caught.value)


def test_open_by_id_picks_that_device_among_several(device_factory: Factory) -> None:
    a, b = device_factory("boron"), device_factory("p2")
    with open_device(b.device_id, backend=usb_backend(a, b)) as device:
        assert device.device_id == b.device_id and device.platform.name == "p2"


def test_open_with_no_device_says_none_was_found() -> None:
    with pytest.raises(DeviceNotFoundError, match="no Particle device found on USB"):
        open_device(backend=usb_backend())


def test_open_unknown_id_names_the_missing_device(boron: SimulatedDevice, device_factory: Factory) -> None:
    other = device_factory("p2")
    with pytest.raises(DeviceNotFoundError, match=str(other.device_id)):
        open_device(other.device_id, backend=usb_backend(boron))


def test_open_in_a_mode_ignores_the_device_in_the_other_mode(boron: SimulatedDevice) -> None:
    with pytest.raises(DeviceNotFoundError, match="in DFU mode"):
        open_device(boron.device_id, backend=usb_backend(boron), mode=DeviceMode.DFU)


def test_wait_for_device_reopens_it_after_it_rebooted_into_dfu(boron: SimulatedDevice, timing: HostTiming) -> None:
    boron.enter_dfu(delay=0.01)
    with wait_for_device(boron.device_id, DeviceMode.DFU, timeout=5, poll=0.001, backend=usb_backend(boron)) as dev:
        assert dev.mode is DeviceMode.DFU


def test_wait_for_device_times_out_naming_device_and_mode(boron: SimulatedDevice) -> None:
    with pytest.raises(DeviceWaitTimeoutError) as caught:
        wait_for_device(boron.device_id, DeviceMode.DFU, timeout=0.02, poll=0.005, backend=usb_backend(boron))
    assert str(boron.device_id) in str(caught.value) and "DFU mode" in str(caught.value)


def test_missing_libusb_is_reported_with_what_to_install() -> None:
    with pytest.raises(LibusbNotFoundError, match="libusb-1.0 not found: install libusb-1.0-0"):
        default_backend(load=lambda: None)


def test_unplugged_device_disappears_and_reappears_when_plugged(boron: SimulatedDevice) -> None:
    backend = usb_backend(boron)
    boron.unplug()
    assert list_devices(backend=backend) == []
    boron.plug()
    assert [i.device_id for i in list_devices(backend=backend)] == [boron.device_id]
