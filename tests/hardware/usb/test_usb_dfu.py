"""DfuSe against simulated bootloaders through pyusb: layout, erase, download, read-back verify, leave, faults,
progress and cancellation (particle-usb 4.1.0 src/dfu.js; Device OS 6.2.0 bootloader/src/nRF52840/usbd_dfu.cpp)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from hardware.progress import Cancelled, CancelToken, ProgressEvent
from hardware.simulated import DeviceMode as SimMode
from hardware.simulated import SimulatedDevice, Timing, usb_backend
from hardware.usb import DeviceMode, DfuSession, HostTiming, list_devices, open_device
from hardware.usb.dfu_replies import DfuDescriptors
from hardware.usb.errors import (
    DeviceDisconnectedError,
    DfuError,
    ReadOnlyRegionError,
    UsbStallError,
    UsbTimeoutError,
    VerifyError,
)
from hardware.usb.protocol import DfuRequest, DfuState

Factory = Callable[..., SimulatedDevice]
SessionOf = Callable[..., DfuSession]

PAGE = 4096
NRF_USER = 0xB4000


@pytest.fixture
def dfu_session(timing: HostTiming) -> Iterator[SessionOf]:
    """``dfu_session(device, timing=None)``: the device rebooted into DFU mode and a session on it."""
    handles = []

    def make(device: SimulatedDevice, session_timing: HostTiming | None = None) -> DfuSession:
        device.reboot(mode=SimMode.DFU)
        handle = open_device(device.device_id, backend=usb_backend(device), mode=DeviceMode.DFU)
        handles.append(handle)
        return DfuSession(handle, timing=session_timing or timing)

    yield make
    for handle in handles:
        handle.close()


def pattern(size: int, seed: int = 1) -> bytes:
    return bytes((i * 7 + seed) % 256 for i in range(size))


def test_transfer_size_comes_from_the_dfu_functional_descriptor(boron: SimulatedDevice, dfu_session: SessionOf) -> None:
    assert dfu_session(boron).transfer_size == 4096


def test_transfer_size_falls_back_to_1024_without_a_functional_descriptor() -> None:
    interface = bytes([9, 4, 0, 0, 0, 0xFE, 1, 2, 6])
    config = bytes([9, 2, 18, 0, 1, 1, 0, 0x80, 50]) + interface
    assert DfuDescriptors.parse(config).transfer_size == 1024


def test_functional_descriptor_sets_transfer_size_and_alt_strings() -> None:
    interfaces = bytes([9, 4, 0, 0, 0, 0xFE, 1, 2, 6]) + bytes([9, 4, 0, 1, 0, 0xFE, 1, 2, 7])
    functional = bytes([9, 0x21, 0x0B]) + struct.pack("<HHH", 255, 2048, 0x011A)
    parsed = DfuDescriptors.parse(bytes([9, 2, 36, 0, 1, 1, 0, 0x80, 50]) + interfaces + functional)
    assert (parsed.transfer_size, parsed.alt_strings) == (2048, {0: 6, 1: 7})


@pytest.mark.parametrize(
    ("platform", "start", "end"),
    [("boron", 0, 0x100000), ("p2", 0x08000000, 0x08800000), ("photon", 0x08000000, 0x08100000)],
)
def test_internal_flash_layout_is_read_from_alt_setting_0(
    platform: str, start: int, end: int, device_factory: Factory, dfu_session: SessionOf
) -> None:
    layout = dfu_session(device_factory(platform)).layout(0)
    assert (layout.name, layout.start, layout.end) == ("Internal Flash", start, end)


def test_write_lands_byte_exact_and_erases_only_the_pages_it_covers(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    before, after = pattern(PAGE, 3), pattern(PAGE, 5)
    boron.write_flash(NRF_USER - PAGE, before)
    boron.write_flash(NRF_USER + 3 * PAGE, after)
    data = pattern(2 * PAGE + 100)
    session = dfu_session(boron)
    session.write(NRF_USER, data)
    assert boron.read_flash(NRF_USER, len(data)) == data
    assert boron.read_flash(NRF_USER + len(data), 3 * PAGE - len(data)) == b"\xff" * (3 * PAGE - len(data))
    assert boron.read_flash(NRF_USER - PAGE, PAGE) == before
    assert boron.read_flash(NRF_USER + 3 * PAGE, PAGE) == after


def test_read_back_right_after_a_download_returns_the_data(boron: SimulatedDevice, dfu_session: SessionOf) -> None:
    session = dfu_session(boron)
    data = pattern(3 * PAGE + 17)
    session.write(NRF_USER, data)
    assert session.read(NRF_USER, len(data)) == data


def test_write_into_read_only_memory_is_refused_before_anything_is_erased(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    mbr = boron.read_flash(0, PAGE)
    with pytest.raises(ReadOnlyRegionError, match="read-only"):
        dfu_session(boron).write(0, pattern(PAGE))
    assert boron.read_flash(0, PAGE) == mbr


def test_corrupted_write_is_caught_by_verify_and_a_retry_succeeds(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    session = dfu_session(boron)
    data = pattern(4 * PAGE)
    boron.faults.corrupt_next_write()
    session.write(NRF_USER, data)
    with pytest.raises(VerifyError, match="NOT flashed") as caught:
        session.verify(NRF_USER, data)
    assert str(boron.device_id) in str(caught.value)
    session.write(NRF_USER, data)
    session.verify(NRF_USER, data)


def test_stalled_dfuse_command_is_retried_after_the_configured_delay(
    boron: SimulatedDevice, dfu_session: SessionOf, timing: HostTiming
) -> None:
    slept: list[float] = []
    session = dfu_session(boron, replace(timing, dfu_command_retry_delay=0.25, sleep=slept.append))
    boron.faults.stall_next(DfuRequest.DNLOAD, count=2)
    data = pattern(PAGE)
    session.write(NRF_USER, data)
    assert boron.read_flash(NRF_USER, PAGE) == data and slept.count(0.25) == 2


def test_command_stalling_past_the_retries_fails_clearly_and_a_later_write_succeeds(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    session = dfu_session(boron)
    boron.faults.stall_next(DfuRequest.DNLOAD, count=5)
    with pytest.raises(DfuError, match="refused 5 times"):
        session.write(NRF_USER, pattern(PAGE))
    session.write(NRF_USER, pattern(PAGE))
    assert boron.read_flash(NRF_USER, PAGE) == pattern(PAGE)


def test_status_timeout_raises_timeout_error_and_a_later_write_succeeds(
    boron: SimulatedDevice, dfu_session: SessionOf, short_timeouts: HostTiming
) -> None:
    session = dfu_session(boron, short_timeouts)
    boron.faults.timeout_next(DfuRequest.GETSTATUS)
    with pytest.raises(UsbTimeoutError, match="GETSTATUS"):
        session.write(NRF_USER, pattern(PAGE))
    session.write(NRF_USER, pattern(PAGE))
    assert boron.read_flash(NRF_USER, PAGE) == pattern(PAGE)


def test_slow_erase_within_the_transfer_timeout_completes(
    device_factory: Factory, dfu_session: SessionOf, timing: HostTiming
) -> None:
    device = device_factory("boron", timing=Timing.zero().with_changes(page_erase_s=0.001))
    device.faults.slow_erase(10)
    dfu_session(device).write(NRF_USER, pattern(2 * PAGE))
    assert device.read_flash(NRF_USER, 2 * PAGE) == pattern(2 * PAGE)


def test_erase_slower_than_the_transfer_timeout_fails_and_succeeds_once_normal(
    device_factory: Factory, dfu_session: SessionOf, short_timeouts: HostTiming
) -> None:
    device = device_factory("boron", timing=Timing.zero().with_changes(page_erase_s=0.001))
    device.faults.slow_erase(100)
    session = dfu_session(device, short_timeouts)
    with pytest.raises(UsbTimeoutError, match="timed out"):
        session.write(NRF_USER, pattern(PAGE))
    device.faults.clear()
    session.write(NRF_USER, pattern(PAGE))
    assert device.read_flash(NRF_USER, PAGE) == pattern(PAGE)


def test_disconnect_mid_download_raises_disconnected(boron: SimulatedDevice, dfu_session: SessionOf) -> None:
    session = dfu_session(boron)
    boron.faults.disconnect_after_bytes(3 * PAGE)
    with pytest.raises(DeviceDisconnectedError, match="disconnected"):
        session.write(NRF_USER, pattern(8 * PAGE))
    assert not boron.plugged


def test_device_in_dfu_error_is_recovered_with_clrstatus(boron: SimulatedDevice, dfu_session: SessionOf) -> None:
    session = dfu_session(boron)
    with pytest.raises(UsbStallError):
        session.clear_status()  # outside dfuERROR the bootloader stalls and enters dfuERROR (usbd_dfu.cpp)
    assert session.get_status().state == DfuState.DFU_ERROR
    session.write(NRF_USER, pattern(PAGE))
    assert boron.read_flash(NRF_USER, PAGE) == pattern(PAGE)


def test_leave_on_gen3_ends_in_manifest_and_the_device_boots_normally(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    session = dfu_session(boron)
    state = session.leave()
    assert state in (DfuState.DFU_MANIFEST, None)
    assert [i.mode for i in list_devices(backend=usb_backend(boron))] == [DeviceMode.NORMAL]


@pytest.mark.parametrize("platform", ["photon", "electron"])
def test_leave_on_gen2_ends_in_dnload_idle(platform: str, device_factory: Factory, dfu_session: SessionOf) -> None:
    device = device_factory(platform)
    assert dfu_session(device).leave() == DfuState.DFU_DNLOAD_IDLE


def test_progress_reports_erase_then_write_then_verify_up_to_the_total(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    events: list[ProgressEvent] = []
    session = dfu_session(boron)
    data = pattern(3 * PAGE)
    session.write(NRF_USER, data, progress=events.append)
    session.verify(NRF_USER, data, progress=events.append)
    phases = [e.phase for e in events]
    assert phases == sorted(phases, key=["erase", "write", "verify"].index)
    for phase in ("erase", "write", "verify"):
        done = [e.done for e in events if e.phase == phase]
        assert done == sorted(done) and done[-1] == len(data)


def test_cancelling_stops_between_blocks_and_a_retry_succeeds(boron: SimulatedDevice, dfu_session: SessionOf) -> None:
    session = dfu_session(boron)
    token = CancelToken()
    data = pattern(6 * PAGE)

    def cancel_after_first_block(event: ProgressEvent) -> None:
        if event.phase == "write":
            token.cancel()

    with pytest.raises(Cancelled):
        session.write(NRF_USER, data, progress=cancel_after_first_block, cancel=token)
    assert boron.read_flash(NRF_USER + PAGE, PAGE) == b"\xff" * PAGE
    session.write(NRF_USER, data)
    session.verify(NRF_USER, data)


def test_status_poll_timeout_is_slept_before_the_next_getstatus(
    device_factory: Factory, dfu_session: SessionOf, timing: HostTiming
) -> None:
    photon = device_factory("photon")
    slept: list[float] = []
    session = dfu_session(photon, replace(timing, sleep=slept.append))
    session.write(0, pattern(64), alt=1)  # Gen 2 DCT: 1 ms erase, 500 ms write polls (Device OS v2.3.1 usbd_dct_if.c)
    assert 0.5 in slept and photon.read_flash(0, 64, alt=1) == pattern(64)


def test_external_flash_alt_setting_is_written_at_its_own_addresses(
    boron: SimulatedDevice, dfu_session: SessionOf
) -> None:
    session = dfu_session(boron)
    session.write(0x80200000, pattern(PAGE + 1), alt=2)
    session.verify(0x80200000, pattern(PAGE + 1), alt=2)
    assert session.layout(2).name == "External Flash" and boron.read_flash(0x80200000, PAGE + 1, alt=2) == pattern(
        PAGE + 1
    )
