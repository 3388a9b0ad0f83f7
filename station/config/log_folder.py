"""Whether a profile's log folder can hold the journal and workbooks, checked without creating anything."""

from __future__ import annotations

import tempfile
from pathlib import Path


def log_folder_problem(folder: Path) -> str | None:
    return folder_problem(folder, "the log folder",
                          "set station.log_folder in the profile to a folder the station can write")


def folder_problem(folder: Path, what: str, hint: str) -> str | None:
    """One sentence on why the station cannot keep its records in ``folder``, or None when it can.

    ``what`` names the folder in the sentence (``the log folder``), ``hint`` says how to fix it.

    The folder need not exist yet (the line creates it), but its nearest existing ancestor must be a folder the
    station can write in. Writing is tried for real (a temporary file, removed at once): permission bits say
    nothing to root, nor about a read-only mount.
    """
    if folder.exists() and not folder.is_dir():
        return f"{what} {folder} is a file, not a folder; {hint}"
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{what} {folder} cannot be created: {existing} is a file; {hint}"
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".station-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if existing == folder:
            return f"{what} {folder} is not writable ({reason}); {hint}"
        return f"{what} {folder} cannot be created: {existing} is not writable ({reason}); {hint}"
    return None
