"""Cloud down: how long until the line is ready, and a unit's cycle time, when the cloud refuses connections.

Run from the repository root: ``.venv/bin/python benchmarks/cloud_down.py``. Runs the real command
``particle-station run --headless --simulate N --auto-scan`` (realistic device timing) against a port nothing listens
on, and the same line against a working cloud emulator for comparison. Prints the time from start to "line ready",
the units' cycle times, how many notices (banners) the line printed and how many warnings were logged. Goals: ready in
under 3 s with one banner; cycle times as with a working cloud (about the device time). Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from station.demo.simulated_line import build_simulated_line  # noqa: E402

CYCLE = re.compile(r" (\d+\.\d) s: ")


def closed_port_url() -> str:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def run(profile: Path, url: str | None, units: int, token: str) -> dict[str, object]:
    command = [sys.executable, "-m", "station", "run", "--profile", str(profile), "--headless", "--simulate",
               str(units), "--auto-scan", "--device-timing", "realistic", "--lot", f"bench-{time.time_ns()}"]
    if url is not None:
        command += ["--cloud-url", url]
    env = {**os.environ, "PARTICLE_SIMULATED_ACCESS_TOKEN": token, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT)
    assert process.stderr is not None and process.stdout is not None
    ready = None
    errors: list[str] = []
    for line in process.stderr:
        errors.append(line)
        if line.startswith("line ready") and ready is None:
            ready = time.perf_counter() - started
    out = process.stdout.read()
    process.wait()
    cycles = [float(m.group(1)) for m in CYCLE.finditer(out)]
    return {
        "ready_s": ready, "cycles": cycles, "notices": sum(e.startswith("notice:") for e in errors),
        "warnings": sum(" WARNING " in e for e in errors), "exit": process.returncode, "stdout": out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sim = build_simulated_line(Path(folder) / "line", devices=0)
        try:
            for name, url in (("cloud refusing connections", closed_port_url()), ("working emulator", None)):
                result = run(sim.profile.path, url, args.units, sim.access_token)
                cycles = result["cycles"]
                assert isinstance(cycles, list)
                mean = f"{statistics.mean(cycles):.1f} s" if cycles else "-"
                ready = result["ready_s"]
                print(f"{name}: line ready after {ready:.2f} s, " if isinstance(ready, float) else f"{name}: never "
                      "ready, ", end="")
                print(f"{len(cycles)} units, mean cycle {mean} ({', '.join(f'{c:.1f}' for c in cycles)}), "
                      f"{result['notices']} notice(s), {result['warnings']} warning(s), exit {result['exit']}")
        finally:
            sim.close()


if __name__ == "__main__":
    main()
