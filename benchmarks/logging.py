"""Benchmark: what recording one unit costs the line at 100 and at 10,000 units in a lot, ours against naive.

Ours: journal ``begin_unit`` + three ``step_started``/``step_ended`` + ``update_unit`` + ``SpreadsheetWriter.notify``,
with the writer thread running and rewriting the workbook in the background meanwhile. Naive: open the lot's
workbook, append one row, save it (what a station that keeps its log only in Excel pays per unit).

Run from the project folder: ``.venv/bin/python -m benchmarks.logging`` (or ``python benchmarks/logging.py``).
It prints figures only; nothing here asserts a timing.
"""

# This file is named logging.py, which would shadow the standard library's logging module for every import made
# while its own folder is first on sys.path (``python benchmarks/logging.py``); put the project folder there first.
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.getcwd()) == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

import argparse  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import openpyxl  # noqa: E402

from station.records.journal import Journal  # noqa: E402
from station.records.sheet_writer import SpreadsheetWriter  # noqa: E402
from station.records.spreadsheet import COLUMNS  # noqa: E402
from station.records.step_table import StepStatus  # noqa: E402
from station.records.unit_table import UnitState  # noqa: E402

LOT = "12345-20260101-001"
STEPS = ("identify", "flash", "verify")
SIZES = (100, 10_000)


@dataclass
class Figures:
    median_ms: float
    mean_ms: float
    p95_ms: float
    samples: int
    note: str = ""


def _unit_values(index: int) -> dict[str, object]:
    return {
        "serial": f"P046AB{index:09d}",
        "device_id": f"e00fce68{index:016x}",
        "platform": "boron",
        "device_os": "6.1.1",
        "iccid": f"8901{index:016d}",
        "imei": f"35{index:013d}",
        "firmware_version": 7,
        "firmware_sha256": "ab" * 32,
        "slot": index % 2,
        "operator": "op-7",
        "station": "Line 1 Station A",
    }


def prefill_journal(path: Path, units: int) -> Journal:
    """A journal whose lot already holds ``units`` finished units (bulk-loaded: set-up, not measured)."""
    journal = Journal(path)
    journal.open_lot(LOT, station="Line 1 Station A", product_id=12345, profile="bench.toml", operator="op-7")
    journal.close()
    db = sqlite3.connect(path)
    base = time.time() - units * 60
    with db:
        for index in range(units):
            values = _unit_values(index)
            started = base + index * 60
            cursor = db.execute(
                "INSERT INTO units (lot, unit_key, serial, device_id, platform, device_os, iccid, imei, "
                "firmware_version, firmware_sha256, slot, operator, station, state, attempts, started_at, ended_at, "
                "first_result, cycle_seconds, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, "
                "?, ?, ?)",
                (LOT, f"unit-{index}", *values.values(), UnitState.PASS.value, started, started + 45,
                 UnitState.PASS.value, 45.0, started + 45),
            )
            db.executemany(
                "INSERT INTO steps (unit_id, step, status, started_at, ended_at, detail) VALUES (?, ?, ?, ?, ?, '{}')",
                [(cursor.lastrowid, step, StepStatus.PASSED.value, started, started + 10) for step in STEPS],
            )
    db.close()
    return Journal(path)


def record_one_unit(journal: Journal, writer: SpreadsheetWriter, index: int) -> None:
    unit, _ = journal.unit_table.begin(LOT, f"new-{index}", **_unit_values(100_000 + index))
    for step in STEPS:
        step_id = journal.step_table.started(unit.id, step)
        journal.step_table.ended(step_id, StepStatus.PASSED)
    journal.unit_table.update(unit.id, state=UnitState.PASS, first_result=UnitState.PASS.value,
                              ended_at=time.time(), cycle_seconds=42.0)
    writer.notify()


def _figures(samples: list[float], note: str = "") -> Figures:
    ordered = sorted(samples)
    return Figures(
        median_ms=statistics.median(ordered) * 1000,
        mean_ms=statistics.fmean(ordered) * 1000,
        p95_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
        samples=len(ordered),
        note=note,
    )


def measure_ours(folder: Path, size: int, units: int, pace: float, isolate: bool) -> Figures:
    """Record ``units`` units, one every ``pace`` seconds, while the writer rewrites the workbook meanwhile."""
    journal = prefill_journal(folder / "journal.sqlite3", size)
    writer = SpreadsheetWriter(journal, LOT, folder, min_interval=2.0, isolate=isolate).start()
    writer.flush()
    writes_before = writer.writes
    samples: list[float] = []
    next_unit = time.perf_counter()
    for index in range(units):
        # Pacing stands in for the minutes a real unit spends on the fixture; it is not part of the figure.
        time.sleep(max(0.0, next_unit - time.perf_counter()))
        began = time.perf_counter()
        record_one_unit(journal, writer, index)
        samples.append(time.perf_counter() - began)
        next_unit = began + pace
    writer.close()
    journal.close()
    return _figures(samples, f"{writer.writes - writes_before} background rewrites meanwhile")


def measure_naive(folder: Path, size: int, samples_wanted: int) -> Figures:
    path = folder / "naive.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([column.header for column in COLUMNS])
    for index in range(size):
        sheet.append([f"unit-{index}", *(str(v) for v in _unit_values(index).values())])
    workbook.save(path)
    samples: list[float] = []
    for index in range(samples_wanted):
        began = time.perf_counter()
        workbook = openpyxl.load_workbook(path)
        workbook.active.append([f"new-{index}", *(str(v) for v in _unit_values(100_000 + index).values())])
        workbook.save(path)
        samples.append(time.perf_counter() - began)
    return _figures(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=500, help="units to record per lot size (ours)")
    parser.add_argument("--pace-ms", type=float, default=20.0, help="start a unit every this many ms (ours)")
    parser.add_argument(
        "--writer", choices=("process", "thread"), default="process",
        help="build the workbook in the writer's child process (the default) or in its thread",
    )
    parser.add_argument("--naive-samples", type=int, default=5, help="units to append per lot size (naive)")
    args = parser.parse_args(argv)
    ours: dict[int, Figures] = {}
    naive: dict[int, Figures] = {}
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        for size in SIZES:
            folder = Path(tmp) / f"lot-{size}"
            folder.mkdir()
            print(f"measuring {size} units in the lot ...", file=sys.stderr, flush=True)
            ours[size] = measure_ours(folder, size, args.units, args.pace_ms / 1000, args.writer == "process")
            naive[size] = measure_naive(folder, size, args.naive_samples)
    print(f"{'method':<42}{'units in lot':>13}{'median ms':>11}{'mean ms':>10}{'p95 ms':>10}{'samples':>9}  note")
    for name, table in ((f"ours (journal + notify, {args.writer})", ours), ("naive (open, append, save .xlsx)", naive)):
        for size in SIZES:
            f = table[size]
            figures = f"{f.median_ms:>11.2f}{f.mean_ms:>10.2f}{f.p95_ms:>10.2f}{f.samples:>9}"
            print(f"{name:<42}{size:>13}{figures}  {f.note}")
    small, large = SIZES
    for name, table in (("ours", ours), ("naive", naive)):
        print(
            f"ratio {large}/{small} {name}: median {table[large].median_ms / table[small].median_ms:.2f}, "
            f"mean {table[large].mean_ms / table[small].mean_ms:.2f}"
        )
    print("goal: ours <= 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
