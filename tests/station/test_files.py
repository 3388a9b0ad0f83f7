"""Atomic file writes: the new file appears whole or not at all, and a failure leaves no temporary file behind."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from station.files import write_atomically, write_bytes_atomically, write_text_atomically

OLD = b"the previous contents\n"


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "folder" / "file.bin"
    path.parent.mkdir()
    path.write_bytes(OLD)
    return path


def test_writes_the_new_contents_and_leaves_only_the_file(target: Path) -> None:
    write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(target.parent) == ["file.bin"]


def test_creates_a_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.json"
    write_text_atomically(path, "{\"x\": \"é\"}")
    assert path.read_text(encoding="utf-8") == "{\"x\": \"é\"}"


def _half_then(error: BaseException) -> Callable[[BinaryIO], None]:
    def write(stream: BinaryIO) -> None:
        stream.write(b"half of the new")
        raise error

    return write


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), ValueError("bad data"), KeyboardInterrupt()],
    ids=["disk-full", "bug", "interrupt"],
)
def test_a_failure_while_writing_keeps_the_old_file_and_leaves_no_temporary_file(
    target: Path, error: BaseException
) -> None:
    with pytest.raises(type(error)):
        write_atomically(target, _half_then(error))
    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == ["file.bin"]


def test_a_failing_fsync_keeps_the_old_file_and_leaves_no_temporary_file(target: Path) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with pytest.raises(OSError, match=os.strerror(errno.EIO)):
        write_atomically(target, lambda stream: stream.write(b"new"), fsync=disk_full)
    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == ["file.bin"]


def test_a_failing_replace_keeps_the_old_file_and_leaves_no_temporary_file(target: Path) -> None:
    seen: list[bytes] = []

    def held_by_another_program(source: str, destination: str) -> None:
        seen.append(Path(source).read_bytes())  # the temporary file was complete and in the same folder
        assert Path(source).parent == Path(destination).parent
        raise PermissionError(errno.EACCES, "locked", destination)

    with pytest.raises(PermissionError):
        write_atomically(target, lambda stream: stream.write(b"new"), replace=held_by_another_program)
    assert seen == [b"new"]
    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == ["file.bin"]
