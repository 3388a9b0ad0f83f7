"""``particle-station --demo`` / ``particle-station demo``: the station GUI with simulated devices and cloud.

Everything runs in this process: a local cloud emulator, simulated units on a simulated USB bus, and the real line
and GUI on top. ``--screenshot DIR`` (or PARTICLE_STATION_SCREENSHOTS=DIR with ``--demo``) runs a scripted demo
that saves PNG screenshots of the main screens and exits.
"""

from __future__ import annotations

import argparse
import os
import secrets
import string
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the handler imports these when it runs: building the parser stays cheap
    from hardware.platforms import Platform
    from hardware.simulated import Timing
    from hardware.usb.timing import HostTiming
    from station.config.profile import StationProfile
    from station.demo.simulated_line import SimulatedLine
    from station.workflow.events import UnitEvent
    from station.workflow.line import Line

SCREENSHOT_ENV = "PARTICLE_STATION_SCREENSHOTS"
DEMO_PIN = "4321"
DEMO_PIN_ITERATIONS = 1000
"""PBKDF2 rounds of the demo PIN's hash: the PIN is printed in --help, so its hash guards nothing, and the full
station.config.profile.PIN_ITERATIONS would spend about 70 ms of CPU before the demo window shows."""
DEMO_OPERATOR = "demo"
DEMO_WIFI_PASSWORD_ENV = "PARTICLE_DEMO_WIFI_PASSWORD"
DEMO_WIFI = {"ssid": "DemoFactoryNet", "security": "wpa2", "password_ref": f"env:{DEMO_WIFI_PASSWORD_ENV}"}
"""The [wifi] section of a Wi-Fi demo line; the password is made up and set in this process's environment."""


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="open the station with simulated devices and a local cloud emulator (no hardware needed)",
        description=(
            "Start a cloud emulator and simulated units in this process and open the operator screen. Press F2 to "
            "scan the next simulated unit, Shift+F2 for a wrong label, F9 for engineer mode "
            f"(demo PIN {DEMO_PIN}). Any platform works: e.g. --platform p2 gives a Wi-Fi line (the demo profile "
            f"sets Wi-Fi network {DEMO_WIFI['ssid']!r}), --platform electron a Gen 2 cellular line (Device OS 3.3.1, "
            "SIM activation)."
        ),
    )
    demo.add_argument("--devices", type=_device_count, default=None,
                      help="simulated units on the bench (default 4; 2 with --screenshot)")
    demo.add_argument("--platform", default="boron",
                      help="platform of the simulated units (default boron; e.g. p2 for a Wi-Fi line with a "
                           "[wifi] step, electron for a Gen 2 cellular line)")
    demo.add_argument("--timing", choices=("realistic", "zero"), default="realistic",
                      help="device timing: realistic (progress is visible, default) or zero (instant)")
    demo.add_argument("--screenshot", metavar="DIR", type=Path,
                      help=f"run the scripted demo, save PNG screenshots into DIR and exit (also: {SCREENSHOT_ENV})")
    demo.add_argument("--workdir", metavar="DIR", type=Path,
                      help="keep the demo's profile, journal and workbooks here (default: a temporary folder, "
                           "removed at the end; without a display, a new folder under "
                           "~/.cache/particle-station/demo, of which the last 5 are kept)")
    demo.add_argument("--no-pin", action="store_true", help="open engineer mode without a PIN")
    demo.add_argument("--line", metavar="N", type=_station_count,
                      help=f"instead of the operator screen: a throwaway PostgreSQL (needs PostgreSQL installed), N "
                           f"simulated stations of {LINE_DEMO_SLOTS} slots feeding it, and the line dashboard in the "
                           "browser; prints its URL and runs until Ctrl-C")
    demo.add_argument("--port", type=int, default=None,
                      help="with --line: the dashboard's port on 127.0.0.1 (default 8080, or a free one if taken)")
    demo.set_defaults(handler=run_demo)


MAX_DEVICES = 64
MAX_LINE_STATIONS = 8
LINE_DEMO_SLOTS = 4


def _station_count(text: str) -> int:
    """``--line``: how many simulated stations feed the line database."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of stations") from None
    if not 1 <= count <= MAX_LINE_STATIONS:
        raise argparse.ArgumentTypeError(f"{count} stations: give 1 to {MAX_LINE_STATIONS}")
    return count


def _device_count(text: str) -> int:
    """``--devices``: a number of simulated units the bench can hold."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of units") from None
    if not 1 <= count <= MAX_DEVICES:
        raise argparse.ArgumentTypeError(f"{count} units: give 1 to {MAX_DEVICES}")
    return count


class DemoScanner:
    """Hands out labels like an operator with a hand scanner: the next unit on the bench, or a wrong label.

    When every unit on the bench has been scanned, a finished unit is unplugged and a fresh one plugged in, so the
    demo can run for as long as anyone likes.
    """

    def __init__(self, sim: SimulatedLine) -> None:
        self._sim = sim
        self._lock = threading.Lock()
        self._scanned: set[str] = set()
        self._running: set[str] = set()
        self._wrong = secrets.randbelow(900_000)  # several demo stations on one line never share a wrong label
        self._unsubscribe: Any = None

    def watch(self, line: Line) -> Line:
        """Follow ``line``'s events to know which units are running (those are never unplugged)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = line.events.subscribe(self._track)
        return line

    def _track(self, event: UnitEvent) -> None:
        from station.workflow.events import EventKind

        if event.unit_key is None:
            return
        with self._lock:
            if event.kind is EventKind.UNIT_STARTED:
                self._running.add(event.unit_key)
            elif event.kind is EventKind.UNIT_FINISHED:
                self._running.discard(event.unit_key)

    def next_label(self) -> str:
        with self._lock:
            for device in self._sim.devices:
                serial = device.serial.value if device.serial else device.device_id.value
                if device.plugged and serial not in self._scanned:
                    self._scanned.add(serial)
                    return device.label
            for device in self._sim.devices:
                if device.plugged and device.serial is not None and device.serial.value not in self._running:
                    device.unplug()  # the finished unit leaves the bench ...
                    break
            fresh = self._sim.add_device()  # ... and the next one is plugged in
            if fresh.serial is not None:
                self._scanned.add(fresh.serial.value)
            return fresh.label

    def wrong_label(self) -> str:
        """A well-formed label whose serial no unit on the bench has (a label stuck on the wrong unit)."""
        with self._lock:
            self._wrong += 1
            prefix = self._sim.devices[0].serial.value[:4] if self._sim.devices[0].serial else "P046"
            secret = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(15))
            return f"{prefix}WR0NG{self._wrong:06d} {secret}"


def demo_profile(sim: SimulatedLine, *, pin: str | None) -> StationProfile:
    """The simulated line's profile, with the demo Wi-Fi network on a Wi-Fi platform and the demo engineer PIN
    when one is wanted."""
    import dataclasses

    from station.config.profile import OperatorLock, hash_pin

    profile = sim.profile
    if profile.platform.is_wifi:
        profile = dataclasses.replace(profile, wifi=dict(DEMO_WIFI))
    if pin is not None:
        profile = dataclasses.replace(profile, operator=OperatorLock(hash_pin(pin, iterations=DEMO_PIN_ITERATIONS)))
    return profile


def demo_host_timing(timing: Timing) -> HostTiming:
    """Short host polls, but with realistic device timing the real transfer and busy timeouts: a Gen 2 (STM32F2)
    unit NAKs for over a second while it erases a 128 KB sector."""
    import dataclasses

    from hardware.simulated import Timing
    from hardware.usb.timing import HostTiming

    fast = HostTiming.fast()
    if timing == Timing.zero():
        return fast
    real = HostTiming()
    return dataclasses.replace(fast, transfer_timeout_ms=real.transfer_timeout_ms,
                               dfu_busy_timeout=real.dfu_busy_timeout)


def write_demo_tray(sim: SimulatedLine, path: Path) -> Path:
    """A tray list with the bench's device ids, one mistyped id and one duplicate (for the tray import screens)."""
    ids = [device.device_id.value for device in sim.devices]
    lines = ["# Demo tray: the simulated units, plus a mistyped id and a duplicate", *ids,
             ids[0][:-1], ids[-1]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run_in_terminal(root: Path, platform: Platform, devices: int, timing: Timing) -> int:
    """No screen: run the same simulated line in this terminal, every unit and one wrong label, then stop."""
    from station.commands.run import TerminalReport
    from station.demo.simulated_line import build_simulated_line
    from station.workflow.line import Line
    from station.workflow.lot import prepare_lot

    print("particle-station demo: no display, so the demo line runs in this terminal (on a desktop, or under "
          "xvfb-run, it opens the operator window).", file=sys.stderr)
    sim = build_simulated_line(root / "line", platform=platform, devices=devices, slots=max(devices, 2),
                               timing=timing, host_timing=demo_host_timing(timing), station_name="Demo station")
    os.environ.setdefault(DEMO_WIFI_PASSWORD_ENV, "demo-" + secrets.token_urlsafe(12))
    try:
        prepared = prepare_lot(demo_profile(sim, pin=None), sim.cloud())
        with Line(prepared, link=sim.link(), operator=DEMO_OPERATOR).start() as line:
            report = TerminalReport(sys.stderr.isatty())
            line.events.subscribe(report)
            print(f"{devices} simulated {platform.display_name} units, cloud emulator at {sim.base_url}, "
                  f"lot {line.lot}", file=sys.stderr)
            labels = [device.label for device in sim.devices] + [DemoScanner(sim).wrong_label()]
            for label in labels:
                line.wait_for_free_slot()
                line.scan(label)
            line.wait_idle(timeout=600)
            counts = line.counts()
            workbook = sim.profile.log_folder / f"{line.lot}.xlsx"
        print(f"lot {line.lot}: {counts.passed} PASS, {counts.failed} FAIL, {counts.refused_scans} refused scan "
              "(the wrong label on purpose); "
              f"workbook {workbook}")
        return 0
    finally:
        sim.close()


def line_station(folder: Path, name: str, database_url: str, *, lot: str,
                 **options: Any) -> tuple[SimulatedLine, Line, DemoScanner]:
    """One simulated station of ``demo --line``, started, its profile's ``[line]`` section feeding ``database_url``
    (the role's password from the environment); ``options`` go to build_simulated_line."""
    from station.config.profile_loader import load_profile
    from station.demo.simulated_line import build_simulated_line
    from station.workflow.line import Line
    from station.workflow.lot import prepare_lot

    sim = build_simulated_line(folder, station_name=name, **options)
    try:
        with sim.profile.path.open("a", encoding="utf-8") as profile:
            profile.write(f'\n[line]\ndatabase = "{database_url}"\non_duplicate = "refuse"\n')
        sim.profile = load_profile(sim.profile.path)
        cloud = sim.cloud()  # the Line counts its requests for the line database (ParticleCloud.on_request)
        line = Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator=DEMO_OPERATOR, lot=lot).start()
    except BaseException:
        sim.close()
        raise
    scanner = DemoScanner(sim)
    scanner.watch(line)  # it must know which units run: those are never unplugged
    return sim, line, scanner


def _run_line_demo(count: int, root: Path, platform: Platform, timing: Timing, port: int | None) -> int:
    """``demo --line N``: N simulated stations feeding a throwaway PostgreSQL, and the line dashboard."""
    from station.line.dashboard.line_demo import run_line_demo

    os.environ.setdefault(DEMO_WIFI_PASSWORD_ENV, "demo-" + secrets.token_urlsafe(12))
    return run_line_demo(count, root, open_station=line_station, port=port, platform=platform,
                         devices=LINE_DEMO_SLOTS, slots=LINE_DEMO_SLOTS, timing=timing,
                         host_timing=demo_host_timing(timing))


def run_demo(args: argparse.Namespace) -> int:
    from hardware.platforms import parse_platform
    from hardware.simulated import Timing
    from station.demo.run_folder import demo_runs_folder, new_demo_run_folder
    from station.demo.simulated_line import build_simulated_line
    from station.errors import StationError
    from station.workflow.line import Line
    from station.workflow.lot import prepare_lot

    screenshot_dir: Path | None = getattr(args, "screenshot", None)
    if screenshot_dir is None and os.environ.get(SCREENSHOT_ENV):
        screenshot_dir = Path(os.environ[SCREENSHOT_ENV])
    devices = getattr(args, "devices", None) or (2 if screenshot_dir is not None else 4)
    platform = parse_platform(getattr(args, "platform", "boron"))
    timing = Timing.zero() if getattr(args, "timing", "realistic") == "zero" else Timing.realistic(platform.mcu)
    pin = None if getattr(args, "no_pin", False) else DEMO_PIN
    workdir: Path | None = getattr(args, "workdir", None)
    temporary = None if workdir is not None else tempfile.TemporaryDirectory(prefix="particle-station-demo-")
    root = workdir if workdir is not None else Path(temporary.name)  # type: ignore[union-attr]
    stations: int | None = getattr(args, "line", None)
    if stations is not None:
        try:
            return _run_line_demo(stations, root, platform, timing, getattr(args, "port", None))
        finally:
            if temporary is not None:
                temporary.cleanup()
    from station.ui.display import lacks_display

    if screenshot_dir is None and lacks_display():
        if temporary is not None:
            temporary.cleanup()
            root = new_demo_run_folder(demo_runs_folder())
        return _run_in_terminal(root, platform, devices, timing)
    # Qt is imported here, before the line's threads start: importing it later on the GUI thread while a worker thread
    # imports something else can deadlock on the import lock. (Qt Multimedia loads once the window is on screen, before
    # any unit runs: station.ui.app.finish_start.)
    try:
        from station.ui.app import run_gui
    except ImportError as exc:
        raise StationError(f"the GUI is not available ({exc})") from None

    sim = build_simulated_line(root / "line", platform=platform, devices=devices,
                               slots=max(devices, 2), timing=timing, host_timing=demo_host_timing(timing),
                               station_name="Demo station")
    # Made up, and only for this process: the Wi-Fi step of a Wi-Fi demo line reads it through password_ref.
    os.environ.setdefault(DEMO_WIFI_PASSWORD_ENV, "demo-" + secrets.token_urlsafe(12))
    scanner = DemoScanner(sim)
    line: Line | None = None
    try:
        profile = demo_profile(sim, pin=pin)

        def make_line(chosen: StationProfile) -> Line:
            prepared = prepare_lot(chosen, sim.cloud())
            return scanner.watch(Line(prepared, link=sim.link(), operator=DEMO_OPERATOR).start())

        line = make_line(profile)
        if screenshot_dir is None:
            print(f"particle-station demo: {devices} simulated {sim.profile.platform.display_name} units, cloud "
                  f"emulator at {sim.base_url}. F2 scans the next unit, Shift+F2 a wrong label, F9 opens "
                  f"engineer mode" + (f" (PIN {pin})." if pin else "."))
        tray = write_demo_tray(sim, root / "demo-tray.txt") if screenshot_dir is not None else None
        ended = run_gui(line, simulator=scanner, line_factory=make_line, screenshot_dir=screenshot_dir,
                        engineer_pin=pin, tray_file=tray)
        if ended.line is not line:
            ended.line.close()
        return ended.code
    finally:
        if line is not None:
            line.close()
        sim.close()
        if temporary is not None:
            temporary.cleanup()
        sys.stdout.flush()
