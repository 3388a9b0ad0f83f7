"""Control-request types a simulated device answers, checked through the wire-level host (Device OS system_control.h;
particle-usb src/device.js)."""

from __future__ import annotations

from hardware.firmware_builder import build_module
from hardware.simulated import DeviceMode

from .conftest import pb_decode, pb_field

NOT_SUPPORTED, INVALID_STATE, OUT_OF_RANGE = -120, -210, -290


def test_device_id_request_returns_the_lowercase_id(host, boron):
    result, reply = host.request(20)
    assert (result, pb_decode(reply)[1]) == (0, [boron.device_id.value.encode()])


def test_serial_number_request_returns_the_provisioned_serial(host, boron):
    result, reply = host.request(21)
    assert (result, pb_decode(reply)[1]) == (0, [boron.serial.value.encode()])


def test_serial_number_request_fails_with_minus_one_when_not_provisioned(make_device, connect):
    host = connect(make_device(serial_provisioned=False))
    assert host.request(21) == (-1, b"")


def test_system_version_request_returns_the_device_os_version(make_device, connect):
    host = connect(make_device(device_os="5.9.0"))
    assert pb_decode(host.request(30)[1])[1] == [b"5.9.0"]


def test_unknown_request_type_is_not_supported(host):
    assert host.request(4242) == (NOT_SUPPORTED, b"")


def test_dfu_request_replies_then_the_device_reenumerates_with_the_dfu_product_id(host, boron):
    assert host.request(50) == (0, b"")
    assert host.reopen().idProduct == 0xD00D
    assert boron.mode is DeviceMode.DFU


def test_reset_request_reboots_into_normal_mode(host, boron):
    assert host.request(40) == (0, b"")
    assert host.reopen().idProduct == 0xC00D
    assert boron.boot_count == 2


def test_start_listening_makes_get_device_mode_report_listening(host):
    host.request(70)
    assert pb_decode(host.request(72)[1]) == {1: [1]}


def test_stop_listening_returns_to_normal_mode(host, boron):
    host.request(70)
    host.request(71)
    assert host.request(72) == (0, b"")  # NORMAL_MODE is the proto3 default: no field
    assert boron.mode is DeviceMode.NORMAL


def test_start_listening_when_already_listening_is_ok(host):
    host.request(70)
    assert host.request(70) == (0, b"")


def test_set_setup_done_true_is_accepted_from_4_0_0(host):
    assert host.request(73, pb_field(1, 1)) == (0, b"")


def test_set_setup_done_false_is_not_supported_from_4_0_0(host):
    assert host.request(73, b"")[0] == NOT_SUPPORTED  # done=false is the proto3 default: sent as no field


def test_is_setup_done_is_always_true_from_4_0_0(host):
    assert pb_decode(host.request(74)[1]) == {1: [1]}


def test_setup_done_flag_is_stored_below_4_0_0(make_device, connect):
    device = make_device(device_os="3.3.1")
    host = connect(device)
    assert host.request(74) == (0, b"")
    host.request(73, pb_field(1, 1))
    assert pb_decode(host.request(74)[1]) == {1: [1]}
    assert device.setup_done


def test_module_info_from_5_6_0_uses_field_2_with_hash(host, boron):
    result, reply = host.request(90)
    modules = [pb_decode(m) for m in pb_decode(reply)[2]]
    assert result == 0 and 1 not in pb_decode(reply)
    user = next(m for m in modules if m[1] == [5])
    assert user[8] == [boron.running_user_part.sha256]
    assert user[3] == [6] and user[2] == [2]
    assert pb_decode(user[9][0]) == {1: [4], 2: [1], 3: [6200]}


def test_module_info_reports_checked_and_passed_flags(host):
    modules = [pb_decode(m) for m in pb_decode(host.request(90)[1])[2]]
    assert all(m[6] == m[7] == [0x1E] for m in modules)


def test_module_info_always_sends_a_hash(host):
    modules = [pb_decode(m) for m in pb_decode(host.request(90)[1])[2]]
    assert all(len(m[8][0]) == 32 for m in modules)


def test_module_info_below_5_6_0_uses_the_deprecated_field_1(make_device, connect):
    host = connect(make_device(device_os="5.5.0"))
    reply = pb_decode(host.request(90)[1])
    assert 2 not in reply
    types = [pb_decode(m).get(1, [0])[0] for m in reply[1]]
    assert types == [1, 2, 3, 6]  # ctrl enum: bootloader, system part, user part, radio stack


def test_claim_code_request_stores_the_code(host, boron):
    code = "c" * 63
    assert host.request(200, pb_field(1, code)) == (0, b"")
    assert boron.claim_code == code


def test_is_claimed_reports_the_device_flag(host, boron):
    boron.claimed = True
    assert pb_decode(host.request(201)[1]) == {1: [1]}


def test_iccid_request_returns_iccid_and_imei_on_6_2_0(host, boron):
    reply = pb_decode(host.request(554)[1])
    assert reply == {1: [boron.iccid.value.encode()], 2: [boron.imei.value.encode()]}


def test_iccid_request_leaves_imei_empty_on_6_0_0(make_device, connect):
    device = make_device(device_os="6.0.0")
    reply = pb_decode(connect(device).request(554)[1])
    assert reply == {1: [device.iccid.value.encode()]}


def test_iccid_request_is_not_supported_on_wifi_only_platforms(make_device, connect):
    assert connect(make_device("argon")).request(554)[0] == NOT_SUPPORTED


def test_wifi_join_new_network_stores_credentials(make_device, connect):
    device = make_device("argon")
    host = connect(device)
    credentials = pb_field(1, 1) + pb_field(2, "secret-pass")
    payload = pb_field(1, "plant-wifi") + pb_field(3, 3) + pb_field(4, credentials)
    assert host.request(500, payload) == (0, b"")
    stored = device.wifi.credentials[0]
    assert (stored.ssid, stored.security, stored.password) == ("plant-wifi", 3, "secret-pass")
    assert device.wifi.joined == "plant-wifi"


def test_wifi_credentials_repr_hides_the_password(make_device, connect):
    device = make_device("argon")
    connect(device).request(507, pb_field(1, "x") + pb_field(4, pb_field(2, "hunter22")))
    assert "hunter22" not in repr(device.wifi.credentials)


def test_wifi_known_networks_lists_stored_ssids(make_device, connect):
    host = connect(make_device("p2"))
    host.request(507, pb_field(1, "a"))
    host.request(507, pb_field(1, "b"))
    networks = [pb_decode(n)[1][0] for n in pb_decode(host.request(502)[1])[1]]
    assert networks == [b"a", b"b"]


def test_wifi_remove_unknown_network_is_not_found(make_device, connect):
    assert connect(make_device("p2")).request(503, pb_field(1, "nope"))[0] == -170


def test_new_wifi_requests_are_not_supported_on_gen2(make_device, connect):
    assert connect(make_device("photon")).request(507, pb_field(1, "a"))[0] == NOT_SUPPORTED


def test_legacy_wifi_set_credentials_stores_them_on_gen2(make_device, connect):
    device = make_device("photon")
    ap = pb_field(1, "legacy-net") + pb_field(3, 3) + pb_field(8, "pw123456")
    assert connect(device).request(113, pb_field(1, ap)) == (0, b"")
    assert device.wifi.credentials[0].ssid == "legacy-net"


def test_legacy_wifi_requests_are_not_supported_on_gen3(make_device, connect):
    assert connect(make_device("argon")).request(114)[0] == NOT_SUPPORTED


def test_protected_state_reports_unprotected_from_6_0_0(host):
    assert host.request(76) == (0, b"")


def _user_part(version: int = 42) -> bytes:
    return build_module("boron", 5, 2, version, size=8192, dependencies=[(4, 1, 6200)], seed=version)


def _update(host, image: bytes, validate_only: bool = False) -> int:
    result, reply = host.request(250, pb_field(1, len(image)))
    assert (result, pb_decode(reply)) == (0, {1: [1024]})
    for offset in range(0, len(image), 1024):
        assert host.request(253, pb_field(1, image[offset : offset + 1024]))[0] == 0
    return host.request(251, pb_field(1, int(validate_only)))[0]


def test_normal_mode_update_applies_the_module_after_reboot(host, boron):
    assert _update(host, _user_part(42)) == 0
    host.reopen()
    assert boron.running_user_part.version == 42


def test_normal_mode_update_with_validate_only_changes_nothing(host, boron):
    assert _update(host, _user_part(43), validate_only=True) == 0
    assert not boron.reset_pending
    assert boron.running_user_part.version == 6


def test_finish_with_bytes_remaining_is_invalid_state(host):
    host.request(250, pb_field(1, 100))
    host.request(253, pb_field(1, b"x" * 10))
    assert host.request(251)[0] == INVALID_STATE


def test_update_data_beyond_the_announced_size_is_out_of_range(host):
    host.request(250, pb_field(1, 4))
    assert host.request(253, pb_field(1, b"12345"))[0] == OUT_OF_RANGE


def test_compressed_update_format_is_not_supported(host):
    assert host.request(250, pb_field(1, 100) + pb_field(2, 1))[0] == NOT_SUPPORTED


def test_update_of_a_module_for_another_platform_is_rejected(host):
    foreign = build_module("argon", 5, 2, 42, size=8192)
    assert _update(host, foreign) == -280  # BAD_DATA


def test_cancel_update_then_finish_is_invalid_state(host):
    host.request(250, pb_field(1, 10))
    host.request(252)
    assert host.request(251)[0] == INVALID_STATE
