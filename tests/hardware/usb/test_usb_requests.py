"""Every typed control request against simulated devices through pyusb (Device OS system/inc/system_control.h;
device-os-protobuf 2.9.0 control/*.proto; particle-usb 4.1.0 src/device.js)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.firmware import ModuleFunction, ModuleStore, parse_module
from hardware.firmware_builder import build_module
from hardware.progress import ProgressEvent
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb import ControlWifiCredentials, DeviceControl, DeviceMode, HostTiming, WifiSecurity, open_device
from hardware.usb.errors import NotSupportedError, UsbRequestError
from hardware.usb.flashing import open_control, reopen
from hardware.usb.module_info import find_module
from hardware.usb.protocol import DeviceModeValue

Factory = Callable[..., SimulatedDevice]
ControlOf = Callable[[SimulatedDevice], DeviceControl]


def test_device_id_request_returns_the_device_id(boron: SimulatedDevice, control_of: ControlOf) -> None:
    assert control_of(boron).device_id() == boron.device_id


def test_serial_number_request_returns_the_serial(boron: SimulatedDevice, control_of: ControlOf) -> None:
    assert control_of(boron).serial_number() == boron.serial


def test_unprovisioned_serial_number_is_none(device_factory: Factory, control_of: ControlOf) -> None:
    assert control_of(device_factory("p2", serial_provisioned=False)).serial_number() is None


@pytest.mark.parametrize("version", ["6.2.0", "5.9.0", "4.2.0"])
def test_system_version_request_and_raw_request_agree(
    version: str, device_factory: Factory, control_of: ControlOf
) -> None:
    control = control_of(device_factory("boron", device_os=version))
    assert control.system_version() == control.raw_system_version() == version


def test_raw_device_id_matches_the_framed_request(boron: SimulatedDevice, control_of: ControlOf) -> None:
    control = control_of(boron)
    assert control.raw_device_id() == control.device_id() == boron.device_id


@pytest.mark.parametrize("version", ["6.2.0", "5.5.0"], ids=["modules-field-2", "deprecated-field-1"])
def test_module_info_lists_bootloader_system_and_user_part_in_both_formats(
    version: str, device_factory: Factory, control_of: ControlOf
) -> None:
    device = device_factory("boron", device_os=version)
    modules = control_of(device).module_info()
    expected = {(m.function.value, m.index, m.version) for m in device.modules}
    assert {(m.function.value, m.index, m.version) for m in modules} == expected


def test_new_module_info_format_carries_hash_store_and_dependencies(
    boron: SimulatedDevice, control_of: ControlOf
) -> None:
    user = find_module(control_of(boron).module_info(), ModuleFunction.USER_PART)
    sim = boron.running_user_part
    assert user is not None and sim is not None
    assert (user.hash, user.store, user.valid) == (sim.sha256, ModuleStore.MAIN, True)
    assert [(d.function, d.index, d.version) for d in user.dependencies] == [(ModuleFunction.SYSTEM_PART, 1, 6200)]


def test_deprecated_module_info_maps_the_ctrl_type_enum(device_factory: Factory, control_of: ControlOf) -> None:
    modules = control_of(device_factory("boron", device_os="5.5.0")).module_info()
    assert find_module(modules, ModuleFunction.SYSTEM_PART, 1) is not None
    assert find_module(modules, ModuleFunction.BOOTLOADER, 0) is not None


def test_enter_dfu_makes_the_device_re_enumerate_in_dfu_mode(boron: SimulatedDevice, timing: HostTiming) -> None:
    device = open_device(boron.device_id, backend=usb_backend(boron))
    open_control(device, timing).enter_dfu_mode()
    with reopen(device, DeviceMode.DFU, timing) as dfu:
        assert dfu.mode is DeviceMode.DFU


def test_reset_request_reboots_the_device(boron: SimulatedDevice, control_of: ControlOf) -> None:
    boots = boron.boot_count
    control_of(boron).reset()
    assert boron.present and boron.boot_count == boots + 1


def test_listening_mode_starts_and_stops(boron: SimulatedDevice, control_of: ControlOf) -> None:
    control = control_of(boron)
    control.start_listening()
    listening = control.device_mode()
    control.stop_listening()
    assert (listening, control.device_mode()) == (DeviceModeValue.LISTENING, DeviceModeValue.NORMAL)


def test_setup_done_is_set_and_read_below_4_0_0(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("boron", device_os="3.3.1")
    control = control_of(device)
    control.set_setup_done(True)
    assert control.is_setup_done() and device.setup_done


def test_setup_done_can_be_cleared_below_4_0_0(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("boron", device_os="3.3.1")
    device.setup_done = True
    control_of(device).set_setup_done(False)
    assert not device.setup_done


def test_setup_done_from_4_0_0_reads_true_without_asking(device_factory: Factory, control_of: ControlOf) -> None:
    assert control_of(device_factory("boron", device_os="4.2.0")).is_setup_done() is True


def test_clearing_setup_done_from_4_0_0_is_not_supported(boron: SimulatedDevice, control_of: ControlOf) -> None:
    with pytest.raises(NotSupportedError, match="removed in Device OS 4.0.0"):
        control_of(boron).set_setup_done(False)


def test_setup_done_is_a_gen3_only_request(device_factory: Factory, control_of: ControlOf) -> None:
    with pytest.raises(NotSupportedError, match="Gen 3"):
        control_of(device_factory("p2")).is_setup_done()


def test_claim_code_is_stored_on_the_device(boron: SimulatedDevice, control_of: ControlOf) -> None:
    control_of(boron).set_claim_code("c" * 63)
    assert boron.claim_code == "c" * 63


def test_is_claimed_reports_the_device_flag(boron: SimulatedDevice, control_of: ControlOf) -> None:
    control = control_of(boron)
    before = control.is_claimed()
    boron.claimed = True
    assert (before, control.is_claimed()) == (False, True)


def test_cellular_ids_return_iccid_and_imei(boron: SimulatedDevice, control_of: ControlOf) -> None:
    ids = control_of(boron).cellular_ids()
    assert (ids.iccid, ids.imei) == (boron.iccid, boron.imei)


def test_imei_is_none_on_device_os_6_0_0(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("boron", device_os="6.0.0")
    ids = control_of(device).cellular_ids()
    assert (ids.iccid, ids.imei) == (device.iccid, None)


def test_cellular_ids_on_a_wifi_only_device_are_not_supported(device_factory: Factory, control_of: ControlOf) -> None:
    with pytest.raises(NotSupportedError, match="no cellular modem"):
        control_of(device_factory("p2")).cellular_ids()


def test_wifi_credentials_go_through_request_507_on_gen3(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("p2")
    control_of(device).set_wifi_credentials(ControlWifiCredentials("line-7", "s3cret-pass", WifiSecurity.WPA2_PSK))
    (stored,) = device.wifi.credentials
    assert (stored.ssid, stored.password, stored.security, stored.credentials_type) == ("line-7", "s3cret-pass", 3, 1)
    assert device.wifi.joined is None


def test_open_network_is_sent_without_a_password(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("p2")
    control_of(device).set_wifi_credentials(ControlWifiCredentials("guest", security=WifiSecurity.NO_SECURITY))
    (stored,) = device.wifi.credentials
    assert (stored.ssid, stored.security, stored.password, stored.credentials_type) == ("guest", 0, "", 0)


def test_join_new_network_stores_and_joins(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("argon")
    control_of(device).join_new_network(ControlWifiCredentials("factory-line", "pw-123456"))
    assert device.wifi.joined == "factory-line"


def test_legacy_wifi_credentials_go_through_request_113_on_gen2(device_factory: Factory, control_of: ControlOf) -> None:
    device = device_factory("photon")
    control_of(device).set_wifi_credentials(ControlWifiCredentials("line-7", "s3cret-pass", WifiSecurity.WPA2_PSK))
    (stored,) = device.wifi.credentials
    assert (stored.ssid, stored.password, stored.security) == ("line-7", "s3cret-pass", 3)


def test_wifi_credentials_password_is_not_in_repr() -> None:
    assert "s3cret" not in repr(ControlWifiCredentials("line-7", "s3cret-pass"))


def test_wifi_on_a_cellular_only_device_is_not_supported(boron: SimulatedDevice, control_of: ControlOf) -> None:
    with pytest.raises(NotSupportedError, match="no Wi-Fi"):
        control_of(boron).set_wifi_credentials(ControlWifiCredentials("x", "password1"))


def test_normal_mode_firmware_update_installs_a_bootloader(boron: SimulatedDevice, timing: HostTiming) -> None:
    image = build_module("boron", ModuleFunction.BOOTLOADER, 0, 3200, size=16 * 1024)
    device = open_device(boron.device_id, backend=usb_backend(boron))
    events: list[ProgressEvent] = []
    open_control(device, timing).update_firmware(image, progress=events.append)
    with reopen(device, DeviceMode.NORMAL, timing) as again:
        bootloader = find_module(open_control(again, timing).module_info(), ModuleFunction.BOOTLOADER, 0)
    assert bootloader is not None and bootloader.version == 3200
    assert events[-1].done == events[-1].total == len(image)


def test_normal_mode_update_of_a_corrupt_module_is_refused_by_the_device(
    boron: SimulatedDevice, control_of: ControlOf
) -> None:
    image = bytearray(build_module("boron", ModuleFunction.BOOTLOADER, 0, 3200, size=8 * 1024))
    image[100] ^= 0xFF
    assert parse_module(bytes(image)).crc_ok is False
    with pytest.raises(UsbRequestError, match="BAD_DATA"):
        control_of(boron).update_firmware(bytes(image))
