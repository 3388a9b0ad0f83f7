"""YMODEM flashing into simulated devices over real ptys, and the framing facts of the sender."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.firmware.versions import DeviceOsVersion
from hardware.firmware_builder import with_bad_crc
from hardware.progress import Cancelled, CancelToken, ProgressEvent
from hardware.serial import SerialDisconnectedError, SerialFlashingUnsupportedError, YmodemError
from hardware.serial.protocol import YmodemByte
from hardware.serial.ymodem import BlockCheck, build_block, crc16, header_payload
from hardware.simulated.device import DeviceMode, SimulatedDevice
from hardware.simulated.errors import SimulationError

from .conftest import FAST_YMODEM, ConsoleFactory, DeviceFactory

UserPart = Callable[..., bytes]


def flash(console_for: ConsoleFactory, device: SimulatedDevice, image: bytes, **kwargs: object) -> None:
    console_for(device).flash_module(image, ymodem_timeouts=FAST_YMODEM, **kwargs)  # type: ignore[arg-type]


def stored_at_prefix_start(device: SimulatedDevice, image: bytes) -> bytes:
    start = int.from_bytes(image[0:4], "little")
    return device.read_flash(start, len(image))


def running_sha(device: SimulatedDevice) -> bytes:
    running = device.running_user_part
    assert running is not None
    return running.sha256


# -- transfers that land --------------------------------------------------------------------------------------------


def test_a_module_sent_over_ymodem_lands_byte_exact_and_valid_in_the_device(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    image = user_part("boron", version=9)
    flash(console_for, device, image)
    assert stored_at_prefix_start(device, image) == image
    running = device.running_user_part
    assert running is not None and running.version == 9 and running.valid
    assert live_console_or_none(device) is None or device.console.session.block_check_errors == 0


def live_console_or_none(device: SimulatedDevice) -> object | None:
    try:
        return device.console.session
    except SimulationError:
        return None


def test_every_block_carries_a_correct_crc16(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    console = console_for(device)
    simulated = device.console.session
    console.flash_module(user_part("boron"), ymodem_timeouts=FAST_YMODEM)
    assert simulated.block_check_errors == 0


def test_a_receiver_asking_for_checksums_gets_checksum_blocks(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    console = console_for(device)
    simulated = device.console.session
    simulated.faults.checksum_mode = True
    image = user_part("boron", version=10)
    console.flash_module(image, ymodem_timeouts=FAST_YMODEM)
    assert stored_at_prefix_start(device, image) == image
    assert simulated.block_check_errors == 0


def test_1024_byte_blocks_are_accepted(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    image = user_part("boron", version=11, size=5000)
    flash(console_for, device, image, block_size=1024)
    assert stored_at_prefix_start(device, image) == image


def test_a_gen2_device_accepts_a_module_for_its_platform(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("photon", "3.3.1")
    image = user_part("photon", version=12, system=3302)
    flash(console_for, device, image)
    assert stored_at_prefix_start(device, image) == image


def test_progress_reports_every_byte_sent_and_the_validation(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    events: list[ProgressEvent] = []
    image = user_part("boron", size=1000)
    flash(console_for, device, image, progress=events.append)
    transfer = [e for e in events if e.phase == "transfer"]
    assert transfer[-1].done == transfer[-1].total == len(image)
    assert [e.done for e in transfer] == sorted(e.done for e in transfer)
    assert events[-1].phase == "validate" and events[-1].fraction == 1.0


# -- retries --------------------------------------------------------------------------------------------------------


def test_naked_blocks_are_sent_again_and_the_transfer_completes(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    console = console_for(device)
    device.console.session.faults.nak_blocks = 3
    image = user_part("boron", version=13)
    console.flash_module(image, ymodem_timeouts=FAST_YMODEM)
    assert stored_at_prefix_start(device, image) == image


def test_an_unanswered_block_is_sent_again_after_the_block_timeout(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    console = console_for(device)
    device.console.session.faults.ignore_blocks = 1
    image = user_part("boron", version=14)
    console.flash_module(image, ymodem_timeouts=FAST_YMODEM)
    assert stored_at_prefix_start(device, image) == image


def test_line_noise_before_acks_is_ignored(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    console = console_for(device)
    device.console.session.faults.ymodem_noise = b"\x00\xffxyz"
    image = user_part("boron", version=15)
    console.flash_module(image, ymodem_timeouts=FAST_YMODEM)
    assert stored_at_prefix_start(device, image) == image


def test_a_receiver_that_keeps_naking_fails_the_transfer_and_keeps_the_firmware(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    before = running_sha(device)
    console = console_for(device)
    device.console.session.faults.nak_blocks = 100
    with pytest.raises(YmodemError, match=rf"{console.port_name}.*did not acknowledge the block 1"):
        console.flash_module(user_part("boron"), ymodem_timeouts=FAST_YMODEM)
    assert running_sha(device) == before


# -- interruptions and rejections -----------------------------------------------------------------------------------


def test_a_drop_mid_transfer_leaves_the_running_firmware_untouched_and_a_retry_succeeds(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    before = running_sha(device)
    console = console_for(device)
    device.console.session.faults.drop_after_bytes = 2000
    image = user_part("boron", version=16)
    with pytest.raises(SerialDisconnectedError, match=console.port_name):
        console.flash_module(image, ymodem_timeouts=FAST_YMODEM)
    assert running_sha(device) == before
    assert device.mode is DeviceMode.LISTENING

    flash(console_for, device, image)
    assert stored_at_prefix_start(device, image) == image
    assert running_sha(device) != before


def test_a_module_for_another_platform_is_rejected_and_the_firmware_is_kept(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    before = running_sha(device)
    with pytest.raises(YmodemError, match="rejected the module"):
        flash(console_for, device, user_part("argon"))
    assert running_sha(device) == before


def test_a_module_with_a_bad_crc_is_rejected_and_the_firmware_is_kept(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    before = running_sha(device)
    with pytest.raises(YmodemError, match="rejected the module"):
        flash(console_for, device, with_bad_crc(user_part("boron")))
    assert running_sha(device) == before


def test_cancelling_sends_can_can_keeps_the_firmware_and_leaves_the_console_usable(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0")
    before = running_sha(device)
    console = console_for(device)
    cancel = CancelToken()

    def cancel_after_first_block(event: ProgressEvent) -> None:
        if event.phase == "transfer" and event.done > 0:
            cancel.cancel()

    with pytest.raises(Cancelled, match="keeps its current firmware"):
        console.flash_module(user_part("boron"), progress=cancel_after_first_block, cancel=cancel)
    assert running_sha(device) == before
    assert console.version() == DeviceOsVersion(5, 9, 0)


# -- Device OS 6 and later ------------------------------------------------------------------------------------------


def test_device_os_6_is_refused_up_front_naming_dfu(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "6.2.0")
    before = running_sha(device)
    with pytest.raises(SerialFlashingUnsupportedError, match=r"6\.2\.0.*DFU"):
        flash(console_for, device, user_part("boron", system=6200))
    assert running_sha(device) == before


def test_the_devices_own_no_longer_supported_reply_is_recognised(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "6.2.0")
    with pytest.raises(SerialFlashingUnsupportedError, match="no longer supports YMODEM.*DFU"):
        # Claiming 5.9.0 skips the up-front check, so the device itself must refuse.
        flash(console_for, device, user_part("boron"), device_os=DeviceOsVersion(5, 9, 0))


def test_a_device_not_in_listening_mode_never_starts_the_transfer(
    make_device: DeviceFactory, console_for: ConsoleFactory, user_part: UserPart
) -> None:
    device = make_device("boron", "5.9.0", listening=False)
    with pytest.raises(YmodemError, match="did not start the YMODEM transfer.*listening mode"):
        flash(console_for, device, user_part("boron"), device_os=DeviceOsVersion(5, 9, 0))


# -- framing facts --------------------------------------------------------------------------------------------------


def test_crc16_is_the_xmodem_variant() -> None:
    assert crc16(b"123456789") == 0x31C3


def test_the_header_block_holds_the_name_a_nul_the_decimal_length_and_a_space_zero_padded() -> None:
    payload = header_payload(6000)
    assert payload.startswith(b"binary\x006000 \x00")
    assert len(payload) == 128 and payload.rstrip(b"\x00") == b"binary\x006000 "


def test_a_block_is_mark_seq_complement_data_and_a_big_endian_crc() -> None:
    data = bytes(range(128))
    block = build_block(258, data, BlockCheck.CRC16)
    assert block[:3] == bytes((YmodemByte.SOH, 2, 0xFD))
    assert block[3:131] == data
    assert block[131:] == crc16(data).to_bytes(2, "big")


def test_a_checksum_block_ends_in_the_low_byte_of_the_sum() -> None:
    data = bytes([0xFF] * 1024)
    block = build_block(1, data, BlockCheck.CHECKSUM)
    assert block[0] == YmodemByte.STX and len(block) == 3 + 1024 + 1
    assert block[-1] == (0xFF * 1024) & 0xFF
