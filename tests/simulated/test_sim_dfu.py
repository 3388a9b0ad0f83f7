"""The DfuSe bootloader of a simulated device at the wire level: state machine, erase/write/upload, manifest and
re-enumeration, and the fine points of particle-usb src/dfu.js and Device OS bootloader usbd_dfu.cpp."""

from __future__ import annotations

import errno
import threading
import time

import pytest
import usb.core

from hardware.firmware_builder import build_module
from hardware.simulated import DeviceMode, Timing

from .conftest import (
    DFU_ERROR,
    DFU_IDLE,
    DNBUSY,
    DNLOAD_IDLE,
    ERR_STALLEDPKT,
    ERR_TARGET,
    ERR_UNKNOWN,
    MANIFEST,
    UPLOAD_IDLE,
    pb_decode,
)

PAGE = 4096
USER_START, LEGACY_USER_START = 0xB4000, 0xD4000


def _stalls(call) -> bool:
    try:
        call()
    except usb.core.USBError as exc:
        return exc.errno == errno.EPIPE
    return False


def _flash(host, image: bytes, address: int) -> None:
    for page in range(address, address + len(image), PAGE):
        assert host.erase(page)[0] == 0
    for offset in range(0, len(image), PAGE):
        assert host.write(address + offset, image[offset : offset + PAGE])[2] == DNLOAD_IDLE


def _leave(host) -> None:
    host.dnload(2, b"")
    host.status()


def test_bootloader_starts_idle_with_status_ok(dfu_host):
    assert dfu_host.status() == (0, 0, DFU_IDLE, 0)


def test_dnload_is_acknowledged_with_dnbusy_then_dnload_idle(dfu_host):
    dfu_host.dnload(0, b"\x21" + USER_START.to_bytes(4, "little"))
    assert dfu_host.status() == (0, 0, DNBUSY, 0)
    assert dfu_host.status() == (0, 0, DNLOAD_IDLE, 0)


def test_erase_clears_the_page_to_ff(dfu_host, boron):
    assert boron.read_flash(USER_START, 16) != b"\xff" * 16
    dfu_host.erase(USER_START)
    assert boron.read_flash(USER_START, PAGE) == b"\xff" * PAGE


def test_written_block_reads_back_through_upload(dfu_host):
    data = bytes(range(256)) * 16
    dfu_host.erase(USER_START)
    dfu_host.write(USER_START, data)
    dfu_host.abort()
    assert dfu_host.read(USER_START, PAGE) == data


def test_upload_returns_the_full_wlength(dfu_host):
    assert len(dfu_host.read(0x1000, 100)) == 100


def test_writing_without_erasing_ands_the_bits(dfu_host, boron):
    dfu_host.erase(USER_START)
    dfu_host.write(USER_START, b"\x0f" * 16)
    dfu_host.write(USER_START, b"\xf1" * 16)
    assert boron.read_flash(USER_START, 16) == b"\x01" * 16


def test_writing_to_a_read_only_segment_fails_with_errunknown(dfu_host):
    status, _, state, _ = dfu_host.write(0xF8000, b"\x00" * 16)
    assert (status, state) == (ERR_UNKNOWN, DFU_ERROR)


def test_erasing_the_read_only_mbr_page_fails(dfu_host):
    assert dfu_host.erase(0x0)[:3:2] == (ERR_UNKNOWN, DFU_ERROR)


def test_clrstatus_in_dfu_error_returns_to_idle(dfu_host):
    dfu_host.write(0xF8000, b"\x00")
    dfu_host.clrstatus()
    assert dfu_host.status() == (0, 0, DFU_IDLE, 0)


def test_mass_erase_is_refused_with_errtarget(dfu_host):
    assert dfu_host.dfuse(b"\x41")[:3:2] == (ERR_TARGET, DFU_ERROR)


def test_download_with_block_number_1_gives_errtarget(dfu_host):
    dfu_host.dnload(1, b"\x00" * 16)
    assert dfu_host.settle()[:3:2] == (ERR_TARGET, DFU_ERROR)


def test_unknown_dfuse_command_gives_errstalledpkt(dfu_host):
    assert dfu_host.dfuse(b"\x55\x00")[0] == ERR_STALLEDPKT


def test_set_address_of_the_wrong_length_gives_errunknown(dfu_host):
    assert dfu_host.dfuse(b"\x21\x00\x00")[0] == ERR_UNKNOWN


def test_read_unprotect_gives_errunknown(dfu_host):
    assert dfu_host.dfuse(b"\x92")[0] == ERR_UNKNOWN


def test_upload_block_zero_lists_the_supported_commands(dfu_host):
    assert dfu_host.upload(0, 1024) == bytes([0x00, 0x21, 0x41, 0xFA, 0xFB])


def test_clrstatus_outside_dfu_error_stalls_and_enters_dfu_error(dfu_host):
    assert _stalls(dfu_host.clrstatus)
    assert dfu_host.status()[:3:2] == (ERR_UNKNOWN, DFU_ERROR)


def test_abort_after_download_returns_to_idle(dfu_host):
    dfu_host.set_address(USER_START)
    dfu_host.abort()
    assert dfu_host.state() == DFU_IDLE


def test_download_in_upload_idle_stalls(dfu_host):
    dfu_host.upload(0, 16)
    assert dfu_host.state() == UPLOAD_IDLE
    assert _stalls(lambda: dfu_host.dnload(0, b"\x21\x00\x00\x00\x00"))


def test_download_larger_than_the_transfer_size_stalls(dfu_host):
    assert _stalls(lambda: dfu_host.dnload(2, b"\x00" * (PAGE + 1)))


def test_getstatus_reports_manifest_then_getstatus_and_getstate_stall(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(manifest_s=5.0))
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.dnload(2, b"")
    assert host.status()[2] == MANIFEST
    assert _stalls(host.status)
    assert _stalls(host.state)


def test_leave_resets_into_normal_mode_with_the_normal_product_id(dfu_host, boron):
    _leave(dfu_host)
    assert dfu_host.reopen().idProduct == 0xC00D
    assert boron.mode is DeviceMode.NORMAL


def test_gen2_leave_reports_dnload_idle_instead_of_manifest(make_device, connect):
    device = make_device("photon")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.dnload(2, b"")
    assert host.status()[2] == DNLOAD_IDLE
    assert host.reopen().idProduct == 0xC006


def test_gen2_dct_write_reports_a_500_ms_poll_timeout(make_device, connect):
    device = make_device("photon")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.select_alt(1)
    host.set_address(0)
    host.dnload(2, b"\x01\x02")
    assert host.status()[1:3] == (500, DNBUSY)


def test_dct_writes_replace_bytes_without_erasing(dfu_host, boron):
    dfu_host.select_alt(1)
    dfu_host.write(34, b"\x0f\x0f")
    dfu_host.write(34, b"\xf0\xf0")
    assert boron.read_flash(34, 2, alt=1) == b"\xf0\xf0"


def test_dct_is_not_erasable(dfu_host):
    dfu_host.select_alt(1)
    assert dfu_host.erase(0)[0] == ERR_UNKNOWN


def test_external_flash_round_trip_on_alt_2(dfu_host):
    dfu_host.select_alt(2)
    dfu_host.erase(0x80001000)
    dfu_host.write(0x80001000, b"asset")
    dfu_host.abort()
    assert dfu_host.read(0x80001000, 5) == b"asset"


def test_set_interface_to_a_missing_alt_setting_stalls(dfu_host):
    assert _stalls(lambda: dfu_host.dev.ctrl_transfer(0x01, 11, 3, 0, None))


def test_flashed_user_part_is_reported_by_module_info_after_leave(dfu_host, boron):
    image = build_module("boron", 5, 2, 77, size=3 * PAGE, dependencies=[(4, 1, 6200)], seed=3)
    _flash(dfu_host, image, USER_START)
    _leave(dfu_host)
    dfu_host.reopen()
    modules = [pb_decode(m) for m in pb_decode(dfu_host.request(90)[1])[2]]
    user = next(m for m in modules if m[1] == [5])
    assert user[3] == [77]
    assert user[8] == [image[-38:-6]]
    assert user[11] == [len(image)]


def test_a_user_part_with_a_bad_crc_boots_into_safe_mode(dfu_host, boron):
    image = bytearray(build_module("boron", 5, 2, 77, size=PAGE, dependencies=[(4, 1, 6200)]))
    image[100] ^= 0xFF
    _flash(dfu_host, bytes(image), USER_START)
    _leave(dfu_host)
    dfu_host.reopen()
    assert boron.safe_mode
    assert boron.running_user_part is None


def test_a_corrupt_system_part_keeps_the_device_in_dfu_mode(dfu_host, boron):
    dfu_host.erase(0x28000)
    _leave(dfu_host)
    assert dfu_host.reopen().idProduct == 0xD00D
    assert boron.mode is DeviceMode.DFU


def test_6_2_0_bootloader_erases_the_legacy_user_page_after_a_valid_write_at_b4000(make_device, connect):
    device = make_device()
    legacy = build_module("boron", 5, 1, 5, start_address=LEGACY_USER_START, size=PAGE, dependencies=[(4, 1, 6200)])
    device.install_module(legacy)
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.select_alt(0)
    _flash(host, build_module("boron", 5, 2, 80, size=PAGE, dependencies=[(4, 1, 6200)]), USER_START)
    _leave(host)
    host.reopen()
    assert device.read_flash(LEGACY_USER_START, PAGE) == b"\xff" * PAGE
    assert device.running_user_part.version == 80


def test_enter_safe_mode_command_reboots_into_safe_mode(dfu_host, boron):
    dfu_host.dnload(0, b"\xfa")
    assert dfu_host.status()[2] == MANIFEST
    dfu_host.reopen()
    assert boron.safe_mode


def test_erase_takes_the_timing_models_time(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(page_erase_s=0.05))
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    started = time.monotonic()
    host.erase(USER_START)
    assert time.monotonic() - started >= 0.05


def test_a_transfer_while_the_device_erases_times_out_when_its_timeout_is_shorter(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(page_erase_s=0.3))
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.dnload(0, b"\x41" + USER_START.to_bytes(4, "little"))
    host.status()  # dfuDNBUSY; the erase starts now
    with pytest.raises(usb.core.USBTimeoutError):
        host.dev.ctrl_transfer(0xA1, 3, 0, 0, 6, timeout=20)


def test_bootloader_state_resets_after_reentering_dfu(dfu_host, boron):
    dfu_host.write(0xF8000, b"\x00")
    boron.reboot(DeviceMode.DFU)
    dfu_host.reopen()
    assert dfu_host.status() == (0, 0, DFU_IDLE, 0)


def test_two_devices_erase_in_parallel_without_waiting_for_each_other(make_device, connect):
    devices = [make_device(seed=n, timing=Timing.zero().with_changes(page_erase_s=0.2)) for n in range(2)]
    hosts = []
    for device in devices:
        device.reboot(DeviceMode.DFU)
        hosts.append(connect(device))
    started = time.monotonic()
    threads = [threading.Thread(target=h.erase, args=(USER_START,)) for h in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 0.38  # one after the other would take 0.4 s
    assert all(d.read_flash(USER_START, 4) == b"\xff" * 4 for d in devices)
