"""Ctrl-C (or SIGTERM) during a headless run stops cleanly: the running unit is recorded as interrupted (not FAIL),
the lot's figures are printed, and the exit code is 130."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloud_client.emulator import EmulatorServer
from hardware.platforms import by_name
from hardware.simulated import SimulatedDevice
from station.demo.simulated_line import OWNER, product_firmware, register_device

from .test_line_crash_resume import journal_rows

PRODUCT = 778
TOKEN = "c" * 40
SEED = "ctrl-c"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_mid_flash_records_the_unit_interrupted_and_prints_the_summary(tmp_path: Path,
                                                                             stop: signal.Signals) -> None:
    # SIGTERM (a service manager stopping the station, `kill`) is handled as Ctrl-C.
    boron = by_name("boron")
    unit = SimulatedDevice(boron, seed=f"{SEED}-0")
    firmware = product_firmware(boron, PRODUCT, 7, size=160 * 1024)
    (tmp_path / "fw.bin").write_bytes(firmware)
    with EmulatorServer() as emulator:
        emulator.add_owned_product(PRODUCT, "boron", OWNER, access_token=TOKEN)
        register_device(emulator, unit)
        url = emulator.base_url or emulator.start()
        profile = tmp_path / "station.toml"
        profile.write_text(
            f'[station]\nname = "ctrl-c test"\nlog_folder = "data"\n[product]\nid = {PRODUCT}\nplatform = "boron"\n'
            f'[firmware]\nfile = "fw.bin"\nsha256 = "{hashlib.sha256(firmware).hexdigest()}"\n'
            f'[steps]\nclaim = "product-owner"\n[cloud]\nbase_url = "{url}"\ncredentials = "env:CTRLC"\n'
        )
        journal = tmp_path / "data" / "journal.sqlite3"
        env = {**os.environ, "CTRLC_ACCESS_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        station = subprocess.Popen(
            [sys.executable, "-m", "station", "run", "--profile", str(profile), "--headless", "--simulate", "1",
             "--simulate-seed", SEED, "--device-timing", "realistic", "--cloud-url", url, "--lot", "LOT-1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        assert station.stdin is not None
        station.stdin.write(unit.label + "\n")
        station.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            steps = dict(journal_rows(journal, "SELECT step, status FROM steps"))
            if steps.get("flash") == "started":
                break
            assert station.poll() is None
            time.sleep(0.01)
        else:
            raise AssertionError("the unit never reached the flash step")
        station.send_signal(stop)
        output, _ = station.communicate(timeout=60)
        assert station.returncode == 130, output
        assert "Traceback" not in output
        assert journal_rows(journal, "SELECT state, reason_code FROM units") == [("interrupted", "interrupted")]
        assert "1 interrupted" in output and "yield –" in output, output
