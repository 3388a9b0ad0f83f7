"""The listening-mode console over real ptys served by simulated devices: commands, reply formats, modes, faults."""

from __future__ import annotations

import logging
import time

import pytest
import serial

from hardware.firmware.versions import DeviceOsVersion
from hardware.identifiers import Iccid, Imei
from hardware.serial import (
    ClaimCodeError,
    ConsoleWifiCredentials,
    ListeningEntry,
    ListeningModeError,
    SerialDisconnectedError,
    SerialTimeoutError,
    WifiSetupError,
)
from hardware.serial.console import ConsoleTimeouts
from hardware.serial.protocol import ConsoleWifiSecurity, ModuleFunctionLetter
from hardware.serial.wifi import WifiTimeouts
from hardware.simulated.device import DeviceMode
from hardware.simulated.errors import SimulationError

from .conftest import ConsoleFactory, DeviceFactory

CLAIM_CODE = "A" * 63


def wait_for(condition: object, what: str, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


# -- identify (both reply formats) ----------------------------------------------------------------------------------


def test_identify_on_a_cellular_gen3_device_reads_every_key_value(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    identity = console_for(device).identify()
    assert identity.key_value_form
    assert identity.device_id == device.device_id
    assert identity.serial == device.serial
    assert identity.mobile_secret == device.mobile_secret
    assert identity.imei == device.imei and isinstance(identity.imei, Imei)
    assert identity.iccid == device.iccid and isinstance(identity.iccid, Iccid)
    assert identity.cell_radio_version


def test_identify_on_a_gen3_wifi_device_reads_serial_and_mobile_secret_but_no_modem(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("argon")
    identity = console_for(device).identify()
    assert identity.key_value_form
    assert identity.serial == device.serial
    assert identity.mobile_secret == device.mobile_secret
    assert identity.imei is None and identity.iccid is None


def test_identify_on_a_photon_reads_the_plain_your_device_id_is_reply(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("photon", "3.3.1")
    identity = console_for(device).identify()
    assert not identity.key_value_form
    assert identity.device_id == device.device_id
    assert identity.serial is None and identity.mobile_secret is None


def test_identify_on_a_gen2_cellular_device_reads_the_modem_key_values(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("electron", "3.3.1")
    identity = console_for(device).identify()
    assert identity.key_value_form
    assert identity.imei == device.imei
    assert identity.mobile_secret is None


def test_identify_on_an_unprovisioned_gen3_device_has_no_serial_number(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("bsom", serial_provisioned=False)
    identity = console_for(device).identify()
    assert identity.serial is None
    assert identity.mobile_secret == device.mobile_secret


def test_the_identity_repr_never_shows_the_mobile_secret(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    identity = console_for(device).identify()
    assert device.mobile_secret is not None
    assert device.mobile_secret.value not in repr(identity)


# -- other commands -------------------------------------------------------------------------------------------------


def test_version_reads_the_device_os_version(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    device = make_device("boron", "5.9.0")
    assert console_for(device).version() == DeviceOsVersion(5, 9, 0)


def test_mac_address_is_the_devices_mac_in_lowercase_colon_form(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("p2", "5.9.0")
    assert console_for(device).mac_address().value == device.mac.hex(":")


def test_system_info_lists_the_platform_and_the_module_table(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    info = console_for(device).system_info()
    assert info.platform_id == device.platform.id
    assert info.platform is device.platform
    assert len(info.modules) == len(device.modules)
    user = next(m for m in info.modules if m.function is ModuleFunctionLetter.USER_PART)
    running = device.running_user_part
    assert running is not None
    assert user.sha256 == running.sha256.hex().upper()
    assert user.valid
    assert info.imei == str(device.imei)


def test_claimed_status_follows_the_device(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    device = make_device("boron")
    console = console_for(device)
    assert console.is_claimed() is False
    device.claimed = True
    assert console.is_claimed() is True


def test_set_claim_code_stores_the_code_on_the_device(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    device = make_device("boron")
    console_for(device).set_claim_code(CLAIM_CODE)
    assert device.claim_code == CLAIM_CODE


def test_a_claim_code_of_the_wrong_length_is_refused_before_it_reaches_the_device(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    with pytest.raises(ClaimCodeError, match="63"):
        console_for(device).set_claim_code("short")
    assert device.claim_code == ""


def test_exit_takes_the_device_out_of_listening_mode(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    device = make_device("boron")
    console = console_for(device)
    console.exit_listening_mode()
    wait_for(lambda: device.mode is DeviceMode.NORMAL, "the device to leave listening mode")
    assert not console.is_listening()


# -- Wi-Fi ------------------------------------------------------------------------------------------------------------


def test_wifi_for_an_unscanned_network_answers_security_and_password(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("argon")
    console_for(device).configure_wifi(ConsoleWifiCredentials("lab-net", ConsoleWifiSecurity.WPA2, "s3cret-pass"))
    stored = device.wifi.credentials[-1]
    assert (stored.ssid, stored.security, stored.password) == ("lab-net", 3, "s3cret-pass")
    wait_for(lambda: device.mode is DeviceMode.NORMAL, "the device to leave listening mode after Wi-Fi set-up")


def test_wifi_on_a_photon_also_answers_the_cipher_prompt(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("photon", "3.3.1")
    console_for(device).configure_wifi(ConsoleWifiCredentials("lab-net", ConsoleWifiSecurity.WPA2, "pw-123456"))
    assert device.wifi.credentials[-1].cipher == 1


def test_wifi_for_a_network_the_device_can_see_skips_the_security_prompt(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("argon")
    visible = device.wifi.visible[0]
    console_for(device).configure_wifi(ConsoleWifiCredentials(visible.ssid, ConsoleWifiSecurity.WPA2, "pw-123456"))
    assert device.wifi.credentials[-1].security == visible.security


def test_the_wifi_password_never_appears_in_logs_or_repr(
    make_device: DeviceFactory, console_for: ConsoleFactory, caplog: pytest.LogCaptureFixture
) -> None:
    device = make_device("argon")
    credentials = ConsoleWifiCredentials("lab-net", ConsoleWifiSecurity.WPA2, "do-not-log-me")
    with caplog.at_level(logging.DEBUG):
        console_for(device).configure_wifi(credentials)
    assert "do-not-log-me" not in caplog.text
    assert "do-not-log-me" not in repr(credentials)


def test_a_device_that_cannot_save_wifi_credentials_raises_wifi_setup_error(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("argon")
    console = console_for(device)
    device.console.session.faults.wifi_save_fails = True
    with pytest.raises(WifiSetupError, match="could not save"):
        console.configure_wifi(ConsoleWifiCredentials("lab-net", ConsoleWifiSecurity.WPA2, "pw-123456"))


def test_wifi_on_a_cellular_only_device_times_out_naming_the_port(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    console = console_for(device)
    with pytest.raises(SerialTimeoutError, match=console.port_name):
        console.configure_wifi(ConsoleWifiCredentials("lab-net", password="pw-123456"), WifiTimeouts(first_prompt=0.3))


# -- modes and baud-rate triggers -------------------------------------------------------------------------------------


def test_a_device_in_normal_mode_does_not_answer_the_listening_probe(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    assert not console_for(make_device("boron", listening=False)).is_listening()


def test_the_28800_baud_trigger_puts_a_device_below_6_into_listening_mode(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron", "5.9.0", listening=False)
    assert console_for(device).enter_listening_mode() is ListeningEntry.BAUD_TRIGGER
    assert device.mode is DeviceMode.LISTENING


def test_the_28800_baud_trigger_is_ignored_from_6_0_0_and_the_operator_is_told_to_hold_mode(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron", "6.2.0", listening=False)
    with pytest.raises(ListeningModeError, match="MODE button"):
        console_for(device).enter_listening_mode()
    assert device.mode is DeviceMode.NORMAL


def test_a_known_device_os_6_fails_at_once_without_trying_the_trigger(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron", "6.2.0", listening=False)
    started = time.monotonic()
    with pytest.raises(ListeningModeError, match="6.2.0.*MODE button"):
        console_for(device).enter_listening_mode(device_os=DeviceOsVersion(6, 2, 0))
    assert time.monotonic() - started < 1.5


def test_a_given_start_listening_request_is_used_instead_of_the_trigger(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron", "6.2.0", listening=False)
    entry = console_for(device).enter_listening_mode(start_listening=device.start_listening)
    assert entry is ListeningEntry.REQUEST


def test_a_device_already_listening_is_left_as_it_is(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    assert console_for(make_device("boron")).enter_listening_mode() is ListeningEntry.ALREADY


def test_the_14400_baud_trigger_resets_the_device_into_dfu_and_its_serial_port_goes_away(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron", "6.2.0", listening=False)
    console_for(device).enter_dfu_mode()
    wait_for(lambda: device.mode is DeviceMode.DFU, "the device to enter DFU mode")
    with pytest.raises(SimulationError, match="no serial port"):
        device.serial_port()


# -- faults ---------------------------------------------------------------------------------------------------------


NOISE = b"\x00\xff#~\x81noise\r\n"


def test_garbage_around_every_reply_does_not_disturb_any_command(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    console = console_for(device)
    faults = device.console.session.faults
    faults.garbage_before, faults.garbage_after = NOISE, NOISE
    assert console.identify().device_id == device.device_id
    assert console.version() == DeviceOsVersion(5, 9, 0)
    assert console.system_info().platform_id == device.platform.id
    assert console.mac_address().value == device.mac.hex(":")
    assert console.is_claimed() is False
    console.set_claim_code(CLAIM_CODE)
    assert device.claim_code == CLAIM_CODE


def test_garbage_around_the_plain_identify_reply_is_ignored(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("photon", "3.3.1")
    console = console_for(device)
    device.console.session.faults.garbage_before = NOISE
    device.console.session.faults.garbage_after = NOISE
    assert console.identify().device_id == device.device_id


def test_a_slow_reply_within_the_timeout_is_read_completely(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    console = console_for(device)
    device.console.session.faults.reply_delay = 0.4
    identity = console.identify()
    assert identity.iccid == device.iccid


def test_replies_arriving_in_pieces_are_assembled(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    device = make_device("boron")
    console = console_for(device)
    device.console.session.faults.dribble = 0.005
    assert console.identify().iccid == device.iccid
    assert console.system_info().platform_id == device.platform.id


def test_a_reply_slower_than_the_timeout_raises_a_timeout_naming_the_port(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    console = console_for(device, ConsoleTimeouts(reply=0.3))
    device.console.session.faults.reply_delay = 1.0
    with pytest.raises(SerialTimeoutError, match=rf"no reply to 'v' .*{console.port_name}"):
        console.version()


def test_a_dropped_connection_raises_a_disconnect_error_naming_the_port(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    console = console_for(device)
    device.console.session.hang_up()
    with pytest.raises(SerialDisconnectedError, match=console.port_name):
        console.version()


def test_after_a_drop_the_device_serves_a_new_port_in_the_same_mode(
    make_device: DeviceFactory, console_for: ConsoleFactory
) -> None:
    device = make_device("boron")
    first = device.serial_port()
    device.console.session.hang_up()
    console = console_for(device)
    assert console.port_name != first or device.console.session.alive
    assert console.version() == DeviceOsVersion(5, 9, 0)


def test_the_port_cannot_be_opened_twice_at_once(make_device: DeviceFactory, console_for: ConsoleFactory) -> None:
    from hardware.serial import SerialPortError, open_port

    device = make_device("boron")
    first = open_port(device.serial_port())
    try:
        with pytest.raises(SerialPortError, match="in use by another program"):
            open_port(device.serial_port())
    finally:
        first.close()


def test_a_port_opened_with_pyserial_directly_answers_like_the_device(make_device: DeviceFactory) -> None:
    device = make_device("boron")
    with serial.Serial(device.serial_port(), 9600, timeout=1.0) as port:
        port.write(b"c")
        assert port.read_until(b"\r\n") == b"Device claimed: no\r\n"
