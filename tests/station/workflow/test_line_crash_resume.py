"""The station process killed with SIGKILL mid-unit, then restarted: the unit resumes; journal and workbook agree.

The simulated device lives inside the station process, so the restarted station meets the same unit (same
identity) power-cycled to its factory firmware: the flash is redone, while the cloud work done before the kill is
checked, not repeated.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import openpyxl

from cloud_client.emulator import EmulatorServer
from hardware.platforms import by_name
from hardware.simulated import SimulatedDevice
from station.demo.simulated_line import OWNER, product_firmware, register_device

PRODUCT = 777
TOKEN = "b" * 40
SEED = "crash"


def journal_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def start_station(profile: Path, url: str, tmp_path: Path, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "KILLTEST_ACCESS_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--profile", str(profile), "--headless", "--simulate", "1",
         "--simulate-seed", SEED, "--device-timing", "realistic", "--cloud-url", url, "--lot", "LOT-1"],
        stdin=subprocess.PIPE, stdout=(tmp_path / f"{name}.out").open("w"), stderr=subprocess.STDOUT, text=True,
        env=env,
    )


def test_sigkill_mid_flash_then_restart_resumes_the_unit(tmp_path: Path) -> None:
    boron = by_name("boron")
    unit = SimulatedDevice(boron, seed=f"{SEED}-0")  # the identity the station's simulated unit will have
    firmware = product_firmware(boron, PRODUCT, 7, size=160 * 1024)
    (tmp_path / "fw.bin").write_bytes(firmware)
    with EmulatorServer() as emulator:
        emulator.add_owned_product(PRODUCT, "boron", OWNER, access_token=TOKEN)
        register_device(emulator, unit)
        url = emulator.base_url or emulator.start()
        profile = tmp_path / "station.toml"
        profile.write_text(
            f'[station]\nname = "crash test"\nlog_folder = "data"\n[product]\nid = {PRODUCT}\nplatform = "boron"\n'
            f'[firmware]\nfile = "fw.bin"\nsha256 = "{hashlib.sha256(firmware).hexdigest()}"\n'
            f'[steps]\nclaim = "product-owner"\n[cloud]\nbase_url = "{url}"\ncredentials = "env:KILLTEST"\n'
        )
        journal = tmp_path / "data" / "journal.sqlite3"

        first = start_station(profile, url, tmp_path, "first")
        assert first.stdin is not None
        first.stdin.write(unit.label + "\n")
        first.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            steps = dict(journal_rows(journal, "SELECT step, status FROM steps"))
            if steps.get("flash") == "started" and steps.get("pre_add") == "passed":
                break
            assert first.poll() is None, (tmp_path / "first.out").read_text()
            time.sleep(0.01)
        else:
            raise AssertionError("the unit never reached the flash step")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert journal_rows(journal, "SELECT state FROM units") == [("in progress",)]

        second = start_station(profile, url, tmp_path, "second")
        second.communicate(unit.label + "\n", timeout=120)
        output = (tmp_path / "second.out").read_text()
        assert second.returncode == 0, output

        [(state, attempts, device_id)] = journal_rows(journal, "SELECT state, attempts, device_id FROM units")
        assert (state, attempts, device_id) == ("PASS", 2, unit.device_id.value)
        flashes = journal_rows(journal, "SELECT status FROM steps WHERE step = 'flash' ORDER BY id")
        assert flashes == [("started",), ("passed",)]
        pre_adds = journal_rows(journal, "SELECT status, detail FROM steps WHERE step = 'pre_add' ORDER BY id")
        assert [s for s, _ in pre_adds] == ["passed", "passed"]
        assert '"checked": true' in str(pre_adds[1][1])
        ok = Counter((m, p) for m, p, status in emulator.request_log if status < 300)
        assert ok[("POST", f"/v1/products/{PRODUCT}/devices")] == 1  # journalled before the kill: never repeated
        # The kill may land between the cloud's reply to the claim and its journal entry; the claim then runs again,
        # which is safe (a claim by the same account is success), and the cloud ends in the same state.
        assert ok[("POST", "/v1/devices")] in (1, 2)
        stored = next(d for d in emulator.snapshot()["devices"] if d["id"] == unit.device_id.value)
        assert (stored["product_id"], stored["owner"]) == (PRODUCT, OWNER)

        workbook = openpyxl.load_workbook(tmp_path / "data" / "LOT-1.xlsx")
        sheet = workbook["Units"]
        header = [c.value for c in sheet[1]]
        rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
        assert len(rows) == 1
        assert rows[0]["Device ID"] == unit.device_id.value and rows[0]["State"] == "PASS"
