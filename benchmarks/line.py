"""Line throughput: simulated units with the realistic timing model, the cloud emulator with 100 ms latency.

Run from the repository root: ``.venv/bin/python benchmarks/line.py``. Measures, in one run:
- pure flash time: ``flash_user_firmware`` alone on a fresh simulated unit (the device-bound floor of a cycle);
- a 1-slot line and a 4-slot line running the whole unit (find, identify, label check, flash, verify, final
  check, and pre-add / SIM / claim / groups over the emulator), the operator plugging in each unit as it scans it.
Prints units per hour for both, the mean cycle time as a ratio to the pure flash time (goal <= 1.10: the cloud's
latency is hidden behind flashing), and the 4-slot speed-up over one slot (goal >= 3.5); API requests per unit
(counted at the emulator, goal <= 3.5) and the share of Particle's per-IP budget (10,000 requests per 5 minutes,
docs.particle.io Cloud API, 'API rate limits') the 4-slot line uses (goal < 5 %). Figures only, no asserts.

``--tests``: the profile gains fixture tests (the platform's test firmware from fixtures/firmware, and the ops of
docs/fixture-protocol.md with its suggested limits). Also prints the test stage's host overhead: the time the
journal's ``tests`` step took per unit beyond what the simulated device spends measuring (each op's share of
``Timing.test_op_s``), as a percentage of that device time (goal <= 5 %), and the 4-slot speed-up (goal >= 3.5).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This folder holds benchmarks/logging.py, which would shadow the standard library's logging module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from hardware.firmware import load_module  # noqa: E402
from hardware.simulated import SimulatedDevice, Timing  # noqa: E402
from hardware.simulated.test_personality import OP_WEIGHTS  # noqa: E402
from hardware.usb import flash_user_firmware, open_device  # noqa: E402
from hardware.usb.timing import HostTiming  # noqa: E402
from station.config.profile_loader import load_profile  # noqa: E402
from station.demo.simulated_line import SimulatedLine, build_simulated_line  # noqa: E402
from station.records.unit_table import UnitState  # noqa: E402
from station.workflow.line import Line  # noqa: E402
from station.workflow.lot import prepare_lot  # noqa: E402


def pure_flash_seconds(sim: SimulatedLine, timing: Timing) -> float:
    device = sim.add_device()
    device.timing = timing
    module = load_module(sim.profile.firmware.file)  # type: ignore[arg-type]
    started = time.perf_counter()
    result = flash_user_firmware(open_device(device.device_id, backend=sim.backend), module,
                                 timing=sim.host_timing)
    elapsed = time.perf_counter() - started
    result.device.close()
    sim.backend.remove(device)
    return elapsed


PER_IP_BUDGET = 10_000
PER_IP_WINDOW_S = 300.0


TEST_OPS = ("is_ready", "battery", "vin", "temperature", "accel_selftest", "gpio_loopback", "read_serial")
TESTS = """
[tests]
firmware = {{ file = "{firmware}", sha256 = "{sha}" }}
{tests}"""
_MEASURED = {
    "battery": 'read = "voltage"\nunits = "V"\nlower = 3.6\nupper = 4.2\nmarginal_lower = 3.7\nmarginal_upper = 4.1',
    "vin": 'read = "voltage"\nunits = "V"\nlower = 4.75\nupper = 5.3',
    "temperature": 'read = "celsius"\nunits = "°C"\nlower = 10\nupper = 40',
    "accel_selftest": 'read = "z"\nunits = "g"\nlower = 0.9\nupper = 1.1',
    "gpio_loopback": 'read = "failed_pins"\nequals = []',
    "read_serial": 'read = "serial_number"\nequals_known = "label_serial"',
}


def add_tests(sim: SimulatedLine) -> list[str]:
    """Give the line's profile fixture tests; the ops each unit runs."""
    import hashlib
    import shutil

    name = f"{sim.profile.platform.name}-test.bin"
    source = ROOT / "fixtures" / "firmware" / name
    if not source.is_file():
        raise SystemExit(f"no test firmware for {sim.profile.platform.name} in fixtures/firmware ({name})")
    shutil.copy(source, sim.workdir / name)
    ops = [*TEST_OPS, *(("cellular_signal",) if sim.profile.platform.is_cellular else ())]
    tests = ""
    for op in ops:
        tests += f'\n[[tests.test]]\nname = "{op}"\nrequest = {{ op = "{op}" }}\ntimeout_s = 10\n'
        if op in _MEASURED:
            tests += f'\n[[tests.test.measurement]]\nname = "{op}_value"\n{_MEASURED[op]}\n'
    path = sim.workdir / "station.toml"
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    path.write_text(path.read_text() + TESTS.format(firmware=name, sha=sha, tests=tests))
    sim.profile = load_profile(path)
    return ops


def run_line(sim: SimulatedLine, slots: int, units: int, timing: Timing,
             stage_seconds: list[float] | None = None) -> tuple[float, list[float], int, int]:
    """(wall seconds, cycle times, failed units, API requests the units made, lot preparation excluded);
    ``stage_seconds`` gets each unit's ``tests`` step time from the journal (taken on one slot, so four slots
    sharing the machine's cores do not count as the stage's overhead)."""
    devices: list[SimulatedDevice] = []
    for _ in range(units):
        device = sim.add_device()
        device.timing = timing
        device.unplug()
        devices.append(device)
    cloud = sim.cloud()
    line = Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="bench", lot=f"bench-{slots}-slots",
                find_timeout=30.0).start()
    futures = []
    sim.emulator.clear_request_log()
    started = time.perf_counter()
    for device in devices:
        line.wait_for_free_slot()
        device.plug()  # the operator plugs the unit in, and while it enumerates picks up the scanner ...
        while not device.present:
            time.sleep(0.01)
        future = line.scan(device.label)
        future.add_done_callback(lambda _, unit=device: unit.unplug())  # ... and takes it off when it is done
        futures.append((device, future))
    results = [(device, future.result(timeout=600)) for device, future in futures]
    wall = time.perf_counter() - started
    requests = len(sim.emulator.request_log)
    if stage_seconds is not None:
        for unit in line.journal.units(line.lot):
            stage_seconds += [s.ended_at - s.started_at for s in line.journal.step_table.of_unit(unit.id)
                              if s.step == "tests" and s.ended_at is not None]
    line.close()
    cloud.close()
    failed = sum(1 for _, r in results if r.state is UnitState.FAIL)
    for _, result in results:
        if result.state is UnitState.FAIL:
            print(f"  FAIL {result.unit_key}: {result.reason}", file=sys.stderr)
    return wall, [r.cycle_seconds or 0.0 for _, r in results if r.state is not UnitState.FAIL], failed, requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", default="boron")
    parser.add_argument("--units", type=int, default=4, help="units per slot")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--firmware-kb", type=int, default=96)
    parser.add_argument("--tests", action="store_true", help="run fixture tests before the product firmware")
    parser.add_argument("--host-timing", choices=("default", "fast"), default="default",
                        help="the host's polling schedules: the station's defaults (what a real line uses), or "
                             "HostTiming.fast() (the tests' short polls)")
    args = parser.parse_args()
    stage: list[float] = []
    device_test_s = 0.0

    with tempfile.TemporaryDirectory() as folder:
        host = HostTiming() if args.host_timing == "default" else HostTiming.fast()
        sim = build_simulated_line(Path(folder) / "line", platform=args.platform, devices=0, slots=4,
                                   host_timing=host)
        try:
            timing = Timing.realistic(sim.profile.platform.mcu)
            sim.emulator.set_faults(latency_ms=args.latency_ms)
            flash = statistics.median(pure_flash_seconds(sim, timing) for _ in range(2))
            if args.tests:
                ops = add_tests(sim)
                device_test_s = sum(timing.test_op_s * OP_WEIGHTS[op] for op in ops)
            one_wall, one_cycles, one_failed, _ = run_line(_one_slot(sim), 1, args.units, timing, stage)
            four_wall, four_cycles, four_failed, four_requests = run_line(sim, 4, 4 * args.units, timing)
        finally:
            sim.close()

    one_uph = args.units / one_wall * 3600
    four_uph = 4 * args.units / four_wall * 3600
    print(f"platform {args.platform}, realistic device timing, {args.host_timing} host timing, cloud latency "
          f"{args.latency_ms:.0f} ms")
    print(f"pure flash time (flash_user_firmware alone)   {flash:8.2f} s")
    print(f"1 slot : {args.units:3d} units in {one_wall:7.1f} s  {one_uph:8.0f} units/hour  "
          f"mean cycle {statistics.mean(one_cycles):6.2f} s  failed {one_failed}")
    print(f"4 slots: {4 * args.units:3d} units in {four_wall:7.1f} s  {four_uph:8.0f} units/hour  "
          f"mean cycle {statistics.mean(four_cycles):6.2f} s  failed {four_failed}")
    if args.tests:  # two flashes (test, then product firmware) and the device's test time are the floor
        floor = 2 * flash + device_test_s
        print(f"cycle time / (2 flashes + device test time)    {statistics.mean(one_cycles) / floor:8.2f}")
    else:
        print(f"cycle time / pure flash time (1 slot)         {statistics.mean(one_cycles) / flash:8.2f}   "
              "goal <= 1.10")
    print(f"4-slot throughput / 1-slot throughput          {four_uph / one_uph:8.2f}   goal >= 3.5")
    per_unit = four_requests / (4 * args.units)
    budget = per_unit * four_uph * PER_IP_WINDOW_S / 3600 / PER_IP_BUDGET
    print(f"API requests per unit (4 slots)                {per_unit:8.2f}   goal <= 3.5")
    print(f"share of the per-IP budget, 4 slots            {budget:8.1%}   goal < 5 % of 10,000 requests / 5 min")
    if args.tests and stage and device_test_s > 0:
        overhead = (statistics.median(stage) - device_test_s) / device_test_s
        print(f"test stage (1 slot): median {statistics.median(stage):.2f} s per unit, device measuring "
              f"{device_test_s:.2f} s")
        print(f"test stage host overhead / device test time    {overhead:8.1%}   goal <= 5 %")
    return 0


def _one_slot(sim: SimulatedLine) -> SimulatedLine:
    import dataclasses

    one = dataclasses.replace(sim.profile, slots=dataclasses.replace(sim.profile.slots, count=1))
    clone = SimulatedLine(sim.workdir, sim.emulator, sim.devices, one, sim.access_token, sim.host_timing)
    clone.backend = sim.backend
    return clone


if __name__ == "__main__":
    sys.exit(main())
