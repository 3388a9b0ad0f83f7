"""The control-request framing of a simulated device (INIT/CHECK/SEND/RECV/RESET, raw 0x50) at the wire level
(particle-usb src/usb-protocol.js; Device OS usb_control_request_channel.cpp)."""

from __future__ import annotations

import errno

import pytest
import usb.core

from hardware.simulated import DeviceMode, Timing

from .conftest import VENDOR_IN, VENDOR_OUT, pb_decode, pb_field

ECHO, DEVICE_ID, SYSTEM_VERSION = 1, 20, 30
OK, PENDING, BUSY, NOT_FOUND = 0, 2, 3, 5


def _stalls(call) -> bool:
    try:
        call()
    except usb.core.USBError as exc:
        return exc.errno == errno.EPIPE
    return False


def test_init_without_payload_replies_ok_with_a_request_id(host):
    reply = host.init(DEVICE_ID)
    assert reply == {"flags": 0x03, "status": OK, "length": 8, "id": 1}


def test_check_of_a_finished_request_with_reply_gives_size_and_result(host):
    request_id = host.init(DEVICE_ID)["id"]
    reply = host.check(request_id)
    assert reply == {"flags": 0x0D, "status": OK, "length": 14, "size": 26, "result": 0}


def test_recv_returns_the_reply_and_frees_the_request(host, boron):
    request_id = host.init(DEVICE_ID)["id"]
    size = host.check(request_id)["size"]
    assert pb_decode(host.recv(request_id, size))[1] == [boron.device_id.value.encode()]
    assert host.check(request_id)["status"] == NOT_FOUND


def test_check_of_a_finished_request_without_reply_gives_result_and_frees_it(host):
    request_id = host.init(70)["id"]  # START_LISTENING: no reply message
    reply = host.check(request_id)
    assert reply == {"flags": 0x09, "status": OK, "length": 10, "result": 0}
    assert host.check(request_id)["status"] == NOT_FOUND


def test_init_with_payload_up_to_64_bytes_is_ok_and_waits_for_send(host):
    request_id = host.init(ECHO, 64)["id"]
    assert host.check(request_id) == {"flags": 0x01, "status": OK, "length": 6}


def test_init_with_payload_over_64_bytes_is_pending(host):
    reply = host.init(ECHO, 65)
    assert (reply["flags"], reply["status"], reply["length"]) == (0x03, PENDING, 8)


def test_large_echo_round_trips_through_pending_allocation_and_chunks(host):
    payload = bytes(range(256)) * 40  # 10240 bytes: three SEND and three RECV chunks
    request_id = host.init(ECHO, len(payload))["id"]
    assert host.check(request_id)["status"] == OK  # allocation done
    for offset in range(0, len(payload), 4096):
        host.send(request_id, payload[offset : offset + 4096])
    size = host.check(request_id)["size"]
    received = b"".join(host.recv(request_id, min(4096, size - o)) for o in range(0, size, 4096))
    assert received == payload


def test_check_is_pending_while_the_handler_runs(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(handler_s=0.5))
    host = connect(device)
    request_id = host.init(DEVICE_ID)["id"]
    assert host.check(request_id) == {"flags": 0x01, "status": PENDING, "length": 6}


def test_allocation_is_pending_until_the_handler_time_passed(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(handler_s=0.5))
    host = connect(device)
    request_id = host.init(ECHO, 100)["id"]
    assert host.check(request_id)["status"] == PENDING
    assert _stalls(lambda: host.send(request_id, b"x" * 100))


def test_fifth_active_request_is_answered_busy(host):
    for _ in range(4):
        assert host.init(ECHO, 10)["status"] == OK
    assert host.init(ECHO, 10) == {"flags": 0x01, "status": BUSY, "length": 6}


def test_reset_of_all_requests_frees_the_slots(host):
    for _ in range(4):
        host.init(ECHO, 10)
    assert host.reset(0)["status"] == OK
    assert host.init(ECHO, 10)["status"] == OK


def test_reset_of_one_request_makes_it_unknown(host):
    request_id = host.init(ECHO, 10)["id"]
    assert host.reset(request_id) == {"flags": 0x01, "status": OK, "length": 6}
    assert host.check(request_id)["status"] == NOT_FOUND


def test_reset_of_an_unknown_id_is_not_found(host):
    assert host.reset(99)["status"] == NOT_FOUND


@pytest.mark.parametrize("service", [1, 2, 5])
def test_service_requests_with_wlength_below_64_stall(host, service):
    assert _stalls(lambda: host.dev.ctrl_transfer(VENDOR_IN, service, 0, 1, 63))


def test_send_for_an_unknown_request_stalls(host):
    assert _stalls(lambda: host.send(42, b"abc"))


def test_send_beyond_the_announced_size_stalls(host):
    request_id = host.init(ECHO, 4)["id"]
    assert _stalls(lambda: host.send(request_id, b"12345"))


def test_send_after_the_payload_is_complete_stalls(host):
    request_id = host.init(ECHO, 3)["id"]
    host.send(request_id, b"abc")
    assert _stalls(lambda: host.send(request_id, b"d"))


def test_recv_before_the_reply_is_ready_stalls(make_device, connect):
    host = connect(make_device(timing=Timing.zero().with_changes(handler_s=0.5)))
    request_id = host.init(DEVICE_ID)["id"]
    assert _stalls(lambda: host.recv(request_id, 26))


def test_recv_of_more_than_the_remaining_reply_stalls(host):
    request_id = host.init(DEVICE_ID)["id"]
    size = host.check(request_id)["size"]
    assert _stalls(lambda: host.recv(request_id, size + 1))


def test_recv_with_wlength_zero_stalls(host):
    request_id = host.init(DEVICE_ID)["id"]
    host.check(request_id)
    assert _stalls(lambda: host.recv(request_id, 0))


def test_request_ids_count_up_and_restart_at_one_after_a_reset(host, boron):
    assert [host.init(ECHO, 1)["id"] for _ in range(3)] == [1, 2, 3]
    boron.reboot()
    host.reopen()
    assert host.init(ECHO, 1)["id"] == 1


def test_raw_vendor_device_id_is_24_uppercase_hex_characters(host, boron):
    raw = bytes(host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 20, 64))
    assert raw == boron.device_id.value.upper().encode()


def test_raw_vendor_device_id_with_short_wlength_stalls_instead_of_truncating(host):
    assert _stalls(lambda: host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 20, 23))


def test_raw_vendor_system_version_has_no_nul(host):
    assert bytes(host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64)) == b"6.2.0"


def test_raw_vendor_system_version_shorter_than_the_string_stalls(host):
    assert _stalls(lambda: host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 4))


def test_raw_vendor_in_with_wlength_over_64_stalls(host):
    assert _stalls(lambda: host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 65))


def test_raw_vendor_reset_drops_the_device_and_it_comes_back_normal(host, boron):
    boots = boron.boot_count
    host.dev.ctrl_transfer(VENDOR_OUT, 0x50, 0, 40, None)
    host.reopen()
    assert boron.boot_count == boots + 1
    assert host.dev.idProduct == 0xC00D


def test_raw_vendor_out_without_data_stage_stalls_on_rtl(make_device, connect):
    host = connect(make_device("p2"))
    assert _stalls(lambda: host.dev.ctrl_transfer(VENDOR_OUT, 0x50, 0, 40, None))


def test_raw_vendor_out_with_one_zero_byte_resets_an_rtl_device(make_device, connect):
    device = make_device("p2")
    host = connect(device)
    host.dev.ctrl_transfer(VENDOR_OUT, 0x50, 0, 40, b"\x00")
    host.reopen()
    assert device.boot_count == 2


def test_unknown_vendor_request_stalls(host):
    assert _stalls(lambda: host.dev.ctrl_transfer(VENDOR_IN, 0x51, 0, 0, 64))


def test_raw_vendor_requests_stall_in_dfu_mode(dfu_host):
    assert _stalls(lambda: dfu_host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64))


def test_stale_handle_after_dfu_request_fails_with_no_device(host, boron):
    host.request(50)
    with pytest.raises(usb.core.USBError) as caught:
        host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64)
    assert caught.value.errno == errno.ENODEV
    assert boron.mode is DeviceMode.DFU


def test_echo_request_through_the_full_sequence(host):
    assert host.request(ECHO, pb_field(1, "hello")) == (0, pb_field(1, "hello"))
