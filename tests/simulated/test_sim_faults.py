"""Faults injected into simulated devices at run time, as a host sees them through pyusb."""

from __future__ import annotations

import errno
import time

import pytest
import usb.core

from hardware.simulated import DeviceMode, Timing

from .conftest import DNLOAD_IDLE, VENDOR_IN

USER_START = 0xB4000


def test_stall_next_stalls_the_matching_request_once(host):
    host.device.faults.stall_next(request=0x50)
    with pytest.raises(usb.core.USBError) as caught:
        host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64)
    assert caught.value.errno == errno.EPIPE
    assert bytes(host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64)) == b"6.2.0"


def test_stall_next_leaves_other_requests_alone(host):
    host.device.faults.stall_next(request=0x50)
    assert host.init(20)["status"] == 0


def test_timeout_next_waits_the_host_timeout_then_raises_a_timeout(host):
    host.device.faults.timeout_next()
    started = time.monotonic()
    with pytest.raises(usb.core.USBTimeoutError):
        host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64, timeout=50)
    assert time.monotonic() - started >= 0.05


def test_busy_next_answers_the_next_inits_busy(host):
    host.device.faults.busy_next(2)
    assert [host.init(20)["status"] for _ in range(3)] == [3, 3, 0]


def test_disconnect_after_bytes_unplugs_the_device_in_the_middle_of_a_transfer(dfu_host, boron):
    dfu_host.erase(USER_START)
    dfu_host.set_address(USER_START)
    boron.faults.disconnect_after_bytes(2048)
    with pytest.raises(usb.core.USBError) as caught:
        dfu_host.dnload(2, b"\x00" * 4096)
    assert caught.value.errno == errno.ENODEV
    assert usb.core.find(backend=dfu_host.backend) is None


def test_a_block_cut_off_mid_transfer_is_not_written(dfu_host, boron):
    dfu_host.erase(USER_START)
    dfu_host.set_address(USER_START)
    boron.faults.disconnect_after_bytes(8)
    with pytest.raises(usb.core.USBError):
        dfu_host.dnload(2, b"\x00" * 16)
    assert boron.read_flash(USER_START, 16) == b"\xff" * 16


def test_transfers_within_the_byte_budget_still_work(host):
    host.device.faults.disconnect_after_bytes(64)
    assert bytes(host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64)) == b"6.2.0"


def test_unplugged_device_disappears_and_stale_handles_fail_with_enodev(host, boron):
    boron.unplug()
    assert usb.core.find(backend=host.backend) is None
    with pytest.raises(usb.core.USBError) as caught:
        host.dev.ctrl_transfer(VENDOR_IN, 0x50, 0, 30, 64)
    assert caught.value.errno == errno.ENODEV


def test_plugged_device_boots_normally_and_enumerates_again(dfu_host, boron):
    boron.unplug()
    boron.plug()
    assert dfu_host.reopen().idProduct == 0xC00D
    assert boron.mode is DeviceMode.NORMAL


def test_plugged_device_appears_only_after_the_reenumeration_delay(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(reenumerate_s=0.1))
    host = connect(device)
    device.unplug()
    device.plug()
    assert usb.core.find(backend=host.backend) is None
    started = time.monotonic()
    host.reopen()
    assert time.monotonic() - started >= 0.05


def test_slow_erase_multiplies_the_erase_time(make_device, connect):
    device = make_device(timing=Timing.zero().with_changes(page_erase_s=0.01))
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.select_alt(0)
    device.faults.slow_erase(10)
    started = time.monotonic()
    host.erase(USER_START)
    assert time.monotonic() - started >= 0.1


def test_corrupt_next_write_stores_data_that_reads_back_wrong(dfu_host, boron):
    data = bytes(range(256)) * 16
    dfu_host.erase(USER_START)
    boron.faults.corrupt_next_write()
    assert dfu_host.write(USER_START, data)[2] == DNLOAD_IDLE  # the device reports success
    dfu_host.abort()
    assert dfu_host.read(USER_START, len(data)) != data


def test_corrupt_next_write_fires_once(dfu_host, boron):
    boron.faults.corrupt_next_write()
    dfu_host.erase(USER_START)
    dfu_host.write(USER_START, b"\x00" * 16)
    dfu_host.write(USER_START + 16, b"\x5a" * 16)
    assert boron.read_flash(USER_START + 16, 16) == b"\x5a" * 16


def test_cleared_faults_do_not_fire(host):
    host.device.faults.stall_next()
    host.device.faults.clear()
    assert host.init(20)["status"] == 0
