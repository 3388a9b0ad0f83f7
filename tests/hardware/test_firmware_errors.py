"""Inputs that are not module binaries, and files that cannot be read, give FirmwareError with a clear message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hardware.errors import FirmwareError, HardwareError
from hardware.firmware import MAX_MODULE_FILE_SIZE, load_module, parse_module

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"


def test_empty_file_is_refused():
    with pytest.raises(FirmwareError, match=r"empty\.bin is empty"):
        load_module(FIXTURES / "empty.bin")


def test_file_shorter_than_a_prefix_is_refused():
    with pytest.raises(FirmwareError, match=r"only 20 bytes.*at least 64"):
        load_module(FIXTURES / "truncated-header.bin")


def test_random_bytes_are_not_a_module():
    with pytest.raises(FirmwareError, match=r"random\.bin \(4096 bytes\) is not a Particle module binary"):
        load_module(FIXTURES / "random.bin")


def test_zero_filled_buffer_is_not_a_module():
    with pytest.raises(FirmwareError, match="not a Particle module binary"):
        parse_module(bytes(4096))


def test_firmware_error_is_a_hardware_error():
    with pytest.raises(HardwareError):
        parse_module(b"")


def test_huge_buffer_is_refused():
    with pytest.raises(FirmwareError, match="16 MB limit"):
        parse_module(bytes(MAX_MODULE_FILE_SIZE + 1))


def test_huge_file_is_refused_by_size(tmp_path: Path):
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as stream:
        stream.truncate(MAX_MODULE_FILE_SIZE + 1)  # sparse: nothing is actually written or read
    with pytest.raises(FirmwareError, match=r"huge\.bin is 16777217 bytes"):
        load_module(huge)


def test_missing_file_names_the_path(tmp_path: Path):
    missing = tmp_path / "nope.bin"
    with pytest.raises(FirmwareError, match=r"nope\.bin does not exist"):
        load_module(missing)


def test_directory_is_refused(tmp_path: Path):
    with pytest.raises(FirmwareError, match="is a folder, not a firmware file"):
        load_module(tmp_path)


def test_symlink_loop_is_an_unreadable_path(tmp_path: Path):
    loop = tmp_path / "loop.bin"
    loop.symlink_to(loop)
    with pytest.raises(FirmwareError, match=r"cannot open firmware file .*loop\.bin"):
        load_module(loop)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_says_permission_denied(tmp_path: Path):
    locked = tmp_path / "locked.bin"
    locked.write_bytes((FIXTURES / "boron-user.bin").read_bytes())
    locked.chmod(0)
    with pytest.raises(FirmwareError, match=r"locked\.bin: permission denied"):
        load_module(locked)


def test_fifo_is_not_read(tmp_path: Path):
    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    with pytest.raises(FirmwareError, match="not a regular file"):
        load_module(fifo)


def test_path_with_nul_byte_is_a_firmware_error():
    with pytest.raises(FirmwareError, match="cannot open firmware file"):
        load_module("bad\0name.bin")


def test_non_path_argument_is_a_firmware_error():
    with pytest.raises(FirmwareError, match="must be a file path"):
        load_module(42)  # type: ignore[arg-type]


def test_non_bytes_input_is_a_firmware_error():
    with pytest.raises(FirmwareError, match="expected bytes"):
        parse_module("not bytes")  # type: ignore[arg-type]


def test_bytearray_and_memoryview_are_accepted():
    raw = (FIXTURES / "boron-user.bin").read_bytes()
    assert parse_module(bytearray(raw)) == parse_module(memoryview(raw)) == parse_module(raw)
