"""The links' Wi-Fi and setup-done steps: UsbLink through the real pyusb path, SerialLink through real ptys, both
against simulated devices."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest

from cloud_client.credentials import Secret
from hardware.errors import HardwareError
from hardware.firmware import ModuleFunction, parse_module
from hardware.firmware_builder import build_module
from hardware.identifiers import DeviceId
from hardware.progress import CancelToken
from hardware.simulated import DeviceMode, SimulatedDevice, usb_backend
from hardware.simulated.serial_pty import close_all_serial_consoles
from hardware.usb.timing import HostTiming
from station.config.wifi import Cipher, Security, WifiSettings
from station.workflow.device import (
    SETUP_DONE_SET,
    SETUP_DONE_SKIPPED,
    DeviceLink,
    SetupDoneError,
    WifiRefusedError,
)
from station.workflow.serial_link import SerialLink
from station.workflow.usb_link import UsbLink

from . import serial_bench

PASSWORD = "Line7-Wifi-Pa55phrase"
LEGACY_WPA2, LEGACY_AES = 3, 1
"""WiFiAccessPoint.security WPA2 and cipher AES as the legacy request 113 carries them (device-os-protobuf
control/wifi.proto)."""


def make_device(platform: str, **options: object) -> SimulatedDevice:
    return SimulatedDevice(platform, seed=f"links-wifi-{platform}-{options.get('device_os', '')}",
                           **options)  # type: ignore[arg-type]


def link_to(device: SimulatedDevice) -> UsbLink:
    return UsbLink(usb_backend(device), timing=HostTiming.fast(poll=0.001))


def wpa2(ssid: str = "factory-line", **options: object) -> WifiSettings:
    return WifiSettings(ssid, Security.WPA2, Secret(PASSWORD), **options)  # type: ignore[arg-type]


def device_id(device: SimulatedDevice) -> DeviceId:
    return device.device_id


@pytest.mark.parametrize("platform", ["argon", "p2"])
def test_gen3_and_rtl_devices_store_the_network_with_request_507(platform: str) -> None:
    device = make_device(platform)
    note = link_to(device).set_wifi_credentials(device_id(device), wpa2())
    stored = device.wifi.credentials[-1]
    assert (stored.ssid, stored.security, stored.password, stored.credentials_type) == (
        "factory-line", 3, PASSWORD, 1)
    assert device.wifi.joined is None
    assert "507" in note


def test_join_uses_request_500_and_the_device_joins_the_network() -> None:
    device = make_device("p2")
    note = link_to(device).set_wifi_credentials(device_id(device), wpa2(), join=True)
    assert device.wifi.joined == "factory-line"
    assert "500" in note


def test_hidden_network_flag_reaches_the_device() -> None:
    device = make_device("argon")
    link_to(device).set_wifi_credentials(device_id(device), wpa2("back-office", hidden=True))
    assert device.wifi.credentials[-1].hidden is True


def test_open_network_is_stored_without_a_password() -> None:
    device = make_device("argon")
    link_to(device).set_wifi_credentials(device_id(device), WifiSettings("guest", Security.OPEN))
    stored = device.wifi.credentials[-1]
    assert (stored.ssid, stored.security, stored.password, stored.credentials_type) == ("guest", 0, "", 0)


def test_gen2_device_gets_the_legacy_request_with_the_cipher() -> None:
    device = make_device("photon")
    note = link_to(device).set_wifi_credentials(device_id(device), wpa2(cipher=Cipher.AES))
    stored = device.wifi.credentials[-1]
    assert (stored.ssid, stored.security, stored.cipher, stored.password) == (
        "factory-line", LEGACY_WPA2, LEGACY_AES, PASSWORD)
    assert "113" in note


def test_security_type_the_device_refuses_is_a_clear_error_naming_the_profile_key() -> None:
    device = make_device("p2")
    wep = WifiSettings("old-lab", Security.WEP, Secret("abcde"))
    with pytest.raises(WifiRefusedError) as caught:
        link_to(device).set_wifi_credentials(device_id(device), wep)
    message = str(caught.value)
    assert "wep" in message and "[wifi]" in message and device.device_id.value in message
    assert device.wifi.credentials == ()


def test_gen2_device_cannot_take_wpa3_and_nothing_is_stored() -> None:
    device = make_device("photon")
    with pytest.raises(WifiRefusedError, match="wpa3"):
        link_to(device).set_wifi_credentials(device_id(device), WifiSettings("new-ap", Security.WPA3,
                                                                             Secret(PASSWORD)))
    assert device.wifi.credentials == ()


def test_no_log_record_of_any_wifi_path_holds_the_password(caplog: pytest.LogCaptureFixture) -> None:
    devices = [make_device("argon"), make_device("p2"), make_device("photon")]
    with caplog.at_level(logging.DEBUG):
        for device in devices:
            link_to(device).set_wifi_credentials(device_id(device), wpa2())
        link_to(devices[1]).set_wifi_credentials(device_id(devices[1]), wpa2(), join=True)
        with pytest.raises(WifiRefusedError) as refused:
            link_to(devices[1]).set_wifi_credentials(device_id(devices[1]),
                                                     WifiSettings("old-lab", Security.WEP, Secret(PASSWORD[:13])))
    assert caplog.records, "the Wi-Fi paths log what they did"
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert PASSWORD not in logged and PASSWORD[:13] not in logged
    assert PASSWORD[:13] not in str(refused.value)


def test_setup_done_below_device_os_4_sets_the_flag_and_reads_it_back() -> None:
    device = make_device("argon", device_os="3.3.1")
    outcome = link_to(device).setup_done(device_id(device))
    assert outcome.startswith(SETUP_DONE_SET)
    assert device.setup_done is True


def test_setup_done_from_device_os_4_is_skipped_with_the_reason() -> None:
    device = make_device("boron", device_os="4.2.0")
    outcome = link_to(device).setup_done(device_id(device))
    assert outcome == f"{SETUP_DONE_SKIPPED}: Device OS 4.2.0 >= 4.0 always reports setup done"
    assert device.setup_done is False


def test_setup_done_on_gen2_is_skipped_because_there_is_no_flag() -> None:
    device = make_device("photon")
    outcome = link_to(device).setup_done(device_id(device))
    assert outcome.startswith(f"{SETUP_DONE_SKIPPED}: ") and "Gen 2" in outcome


# --- the same steps over the serial console (SerialLink), on simulated devices' ptys ----------------------------

@pytest.fixture
def serial_link_to() -> Iterator[Callable[[SimulatedDevice], SerialLink]]:
    yield serial_bench.serial_link_to
    close_all_serial_consoles()


def test_serial_link_stores_the_network_through_the_w_dialogue(
    serial_link_to: Callable[[SimulatedDevice], SerialLink]
) -> None:
    device = make_device("argon", device_os="5.9.0")
    note = serial_link_to(device).set_wifi_credentials(device_id(device), wpa2("lab-net"))
    stored = device.wifi.credentials[-1]
    assert (stored.ssid, stored.security, stored.password) == ("lab-net", 3, PASSWORD)
    assert "serial console" in note


def test_serial_link_gives_a_gen2_device_the_cipher(serial_link_to: Callable[[SimulatedDevice], SerialLink]) -> None:
    device = make_device("photon")
    serial_link_to(device).set_wifi_credentials(device_id(device), wpa2("lab-net", cipher=Cipher.AES))
    stored = device.wifi.credentials[-1]
    assert (stored.ssid, stored.cipher, stored.password) == ("lab-net", LEGACY_AES, PASSWORD)


def test_serial_link_logs_no_password(
    serial_link_to: Callable[[SimulatedDevice], SerialLink], caplog: pytest.LogCaptureFixture
) -> None:
    device = make_device("photon")
    with caplog.at_level(logging.DEBUG):
        serial_link_to(device).set_wifi_credentials(device_id(device), wpa2("lab-net"))
    assert caplog.records
    assert PASSWORD not in "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)


def test_serial_link_identifies_the_device(serial_link_to: Callable[[SimulatedDevice], SerialLink]) -> None:
    device = make_device("boron", device_os="5.9.0")
    facts = serial_link_to(device).identify(device_id(device))
    assert (facts.device_id, facts.platform.name, facts.device_os, facts.serial) == (
        device.device_id, "boron", "5.9.0", device.serial)
    assert facts.iccid == device.iccid


def test_serial_link_sends_a_device_it_put_in_listening_mode_back_out(
    serial_link_to: Callable[[SimulatedDevice], SerialLink]
) -> None:
    device = make_device("boron", device_os="5.9.0")
    serial_link_to(device).identify(device_id(device))
    deadline = time.monotonic() + 5.0
    while device.mode is DeviceMode.LISTENING and time.monotonic() < deadline:
        time.sleep(0.01)  # the simulated console handles the 'x' on its own thread
    assert device.mode is DeviceMode.NORMAL


def test_serial_link_cannot_set_setup_done_below_4_and_says_to_use_usb(
    serial_link_to: Callable[[SimulatedDevice], SerialLink]
) -> None:
    device = make_device("argon", device_os="3.3.1")
    with pytest.raises(SetupDoneError, match="UsbLink"):
        serial_link_to(device).setup_done(device_id(device))


def test_serial_link_skips_setup_done_from_device_os_4(serial_link_to: Callable[[SimulatedDevice], SerialLink]) -> None:
    device = make_device("argon", device_os="5.9.0")
    assert serial_link_to(device).setup_done(device_id(device)).startswith(f"{SETUP_DONE_SKIPPED}: Device OS 5.9.0")


def test_serial_link_is_a_device_link_that_refuses_device_os_updates(
    serial_link_to: Callable[[SimulatedDevice], SerialLink]
) -> None:
    device = make_device("boron", device_os="5.9.0")
    link: DeviceLink = serial_link_to(device)
    with pytest.raises(HardwareError, match="only over USB"):
        link.update_device_os(device_id(device), [], lambda _: None, CancelToken())


def test_serial_link_flashes_a_user_part_and_confirms_it_runs(
    serial_link_to: Callable[[SimulatedDevice], SerialLink]
) -> None:
    device = make_device("boron", device_os="5.9.0")
    data = build_module("boron", ModuleFunction.USER_PART, 2, 9, size=6000,
                        dependencies=[(ModuleFunction.SYSTEM_PART, 1, 5901)], seed=3)
    module = parse_module(data, source="boron-app-v9.bin")
    report = serial_link_to(device).flash_user_part(device_id(device), module, lambda _: None, CancelToken())
    assert report.verified and report.bytes_written == len(data)
    assert device.running_user_part is not None
