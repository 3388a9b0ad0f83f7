"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

Every file the station writes whole (workbooks, import reports and their progress, the firmware cache, sounds) goes
through ``write_atomically``. The emulator in ``cloud_client.emulator.persistence`` keeps its own few lines for the
same, as cloud_client may not import station.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

ReplaceFunction = Callable[[str, str], None]
"""Moves the finished temporary file over the target (``os.replace``); a seam for tests."""
FsyncFunction = Callable[[int], None]
"""Flushes a file descriptor to the disk (``os.fsync``); a seam for tests."""


def write_atomically(
    path: str | Path,
    write: Callable[[BinaryIO], object],
    *,
    replace: ReplaceFunction = os.replace,
    fsync: FsyncFunction = os.fsync,
) -> None:
    """Create ``path`` (and its folder) with what ``write`` writes to a binary stream, atomically.

    ``write`` writes to a temporary file in the same folder, which is flushed, fsynced and moved over ``path`` in one
    step, then the folder is synced so the move itself survives a power cut. On any failure (also KeyboardInterrupt)
    the temporary file is removed, the previous ``path`` is left as it was, and the exception propagates unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".~{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            # mkstemp makes the file 0600; the finished file gets the mode any new file gets (0666 less the umask,
            # 0644 with the usual 022), like the journal beside it, so whoever may read the folder may read it.
            os.fchmod(handle, 0o666 & ~current_umask())
        with os.fdopen(handle, "w+b") as stream:
            write(stream)
            stream.flush()
            fsync(stream.fileno())
        replace(temporary, str(path))
    except BaseException:
        # A stray temporary file is better than hiding the error that brought us here.
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


_umask: int | None = None


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux's /proc), else once by
    setting and restoring it."""
    global _umask
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    if _umask is None:
        _umask = os.umask(0o022)
        os.umask(_umask)
    return _umask


def write_bytes_atomically(path: str | Path, data: bytes) -> None:
    write_atomically(path, lambda stream: stream.write(data))


def write_text_atomically(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    write_atomically(path, lambda stream: stream.write(text.encode(encoding)))


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder and commits renames on its own."""
    if os.name == "posix":
        with contextlib.suppress(OSError):
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
