"""The station killed with SIGKILL while its workbook child runs: the child does not outlive it, and the temporary
workbook a write in flight leaves is removed when the station starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hardware.simulated import SimulatedDevice
from station.demo.simulated_line import build_simulated_line
from station.records.sheet_writer import remove_stale_temporaries


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def test_sigkill_leaves_no_workbook_child_and_no_temporary_workbook(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "sim", devices=1)
    try:
        profile = sim.profile
        folder = Path(profile.log_folder)
        unit = SimulatedDevice(profile.platform, seed="station-0")  # the identity run --simulate gives its unit
        command = [sys.executable, "-m", "station", "run", "--profile", str(profile.path), "--headless",
                   "--simulate", "1", "--device-timing", "zero", "--lot", "KILL-1"]
        station = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            assert station.stdin is not None
            station.stdin.write(unit.label + "\n")
            station.stdin.flush()
            wait_until(lambda: (folder / "KILL-1.xlsx").exists(), 60, "the first workbook")
            children = children_of(station.pid)
            assert children, "the workbook child is running"
        finally:
            station.send_signal(signal.SIGKILL)
            station.wait(10)
        wait_until(lambda: not any(alive(pid) for pid in children), 20, "the workbook child's exit")

        stale = folder / ".~KILL-1.xlsx.k9x2_a.tmp"  # as a write cut short by the kill leaves it
        stale.write_bytes(b"PK\x03\x04 half a workbook")
        again = subprocess.run(command, input="", capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert not stale.exists()
        assert (folder / "KILL-1.xlsx").exists()
    finally:
        sim.close()


def test_only_temporary_workbooks_are_removed(tmp_path: Path) -> None:
    keep = [tmp_path / "L.xlsx", tmp_path / ".~notes.txt.1.tmp", tmp_path / "journal.sqlite3"]
    for path in keep:
        path.write_text("x")
    stale = tmp_path / ".~L.xlsx.abc123.tmp"
    stale.write_text("x")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert all(path.exists() for path in keep)
    assert os.listdir(tmp_path).count(stale.name) == 0
