"""Start-up time of the command line and of the operator window, against a bare ``python -c pass`` in the same run.

Run from the repository root: ``.venv/bin/python benchmarks/cli_start.py`` (``--help`` for options). Every command
runs in a fresh process with this checkout first on PYTHONPATH; the runs of the commands alternate so a busy moment of
the machine hits all of them alike, and with bytecode cached as for an installed package (in a temporary folder,
after one warm-up run of each). Figures are medians of wall time from launch to exit, and of the CPU time the
process used (user + system; on a busy machine it varies less than the wall time):

* ``python -c pass``: the interpreter (and the virtual environment's site hooks) alone;
* ``particle-station --help``: building the parser; goal <= 0.35 s and <= 10x bare Python;
* ``particle-station firmware inspect FILE``: a small command that reads a fixture under fixtures/firmware/;
* the demo's operator window: launch until the window's first paint (offscreen), reported by the window itself
  (``PARTICLE_STATION_EXIT_AFTER_FIRST_PAINT``, see station/ui/app.py), with the CPU time it had used by then (all its
  threads); goal <= 1.5 s.

Prints the figures and the ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "fixtures" / "firmware" / "boron-user.bin"
FIRST_PAINT_ENV = "PARTICLE_STATION_EXIT_AFTER_FIRST_PAINT"  # station.ui.app.FIRST_PAINT_ENV, not imported here
HELP_GOAL_S = 0.35
HELP_GOAL_RATIO = 10.0
WINDOW_GOAL_S = 1.5


def station_command() -> list[str]:
    """The installed ``particle-station`` script beside this interpreter, else ``python -m station``."""
    script = Path(sys.executable).with_name("particle-station")
    return [str(script)] if script.exists() else [sys.executable, "-m", "station"]


def child_environment(pycache: Path) -> dict[str, str]:
    """This checkout first on the path; bytecode cached (in ``pycache``, so neither the checkout nor the virtual
    environment is written to) as it is for an installed package, even where PYTHONDONTWRITEBYTECODE is set."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop(FIRST_PAINT_ENV, None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(pycache))
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv``."""
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    return seconds, children_cpu() - cpu


def window_time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from launch to the window's first paint (time.time() here and in the window), and the CPU
    seconds the process had used by then, as the window prints them."""
    start = time.time()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, timeout=120)
    for line in done.stderr.decode(errors="replace").splitlines():
        if line.startswith("first-paint "):  # first-paint <time.time()> cpu <time.process_time()>
            words = line.split()
            return float(words[1]) - start, float(words[3])
    raise SystemExit(f"{' '.join(argv)} never reported its first paint ({done.returncode}):\n"
                     f"{done.stderr.decode(errors='replace')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command; default 10")
    parser.add_argument("--window-runs", type=int, default=5, help="runs of the demo window; default 5 (0 skips)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cli-start-") as folder:
        return run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> int:
    env = child_environment(folder / "pycache")
    station = station_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "particle-station --help": [*station, "--help"],
        f"particle-station firmware inspect {FIRMWARE.relative_to(ROOT)}": [*station, "firmware", "inspect",
                                                                            str(FIRMWARE)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # one warm-up run each: the first run also fills the OS file cache
        wall_time(argv, env)
    for _ in range(args.runs):
        for name, argv in commands.items():
            wall, used = wall_time(argv, env)
            times[name].append(wall)
            cpu[name].append(used)
    print(f"cli start: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {sys.executable}; "
          f"median of {args.runs} runs (min-max)")
    bare = statistics.median(times["python -c pass"])
    bare_cpu = statistics.median(cpu["python -c pass"])
    for name, values in times.items():
        median, used = statistics.median(values), statistics.median(cpu[name])
        print(f"  {name:<64} {median:6.3f} s  ({min(values):.3f}-{max(values):.3f})  {median / bare:5.1f}x bare;"
              f"  CPU {used:.3f} s  {used / bare_cpu:5.1f}x bare")
    help_median = statistics.median(times["particle-station --help"])
    print(f"  --help goal: <= {HELP_GOAL_S} s and <= {HELP_GOAL_RATIO:g}x bare Python: "
          f"{help_median:.3f} s, {help_median / bare:.1f}x")

    if args.window_runs > 0:
        window_env = dict(env, QT_QPA_PLATFORM="offscreen", **{FIRST_PAINT_ENV: "1"})
        shown: list[float] = []
        shown_cpu: list[float] = []
        for number in range(args.window_runs + 1):  # the first run (a warm-up) is not counted
            workdir = folder / f"demo-{number}"
            argv = [*station, "demo", "--timing", "zero", "--no-pin", "--workdir", str(workdir)]
            seconds, used = window_time(argv, window_env)
            shutil.rmtree(workdir, ignore_errors=True)
            if number:
                shown.append(seconds)
                shown_cpu.append(used)
        median, used = statistics.median(shown), statistics.median(shown_cpu)
        print(f"  {'demo window, launch to first paint (offscreen)':<64} {median:6.3f} s  "
              f"({min(shown):.3f}-{max(shown):.3f})  {median / bare:5.1f}x bare;  CPU {used:.3f} s  "
              f"{used / bare_cpu:5.1f}x bare")
        print(f"  window goal: <= {WINDOW_GOAL_S} s: {median:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
