"""``particle-station run --profile P --headless``: run the line from a terminal, labels from stdin or a scanner."""

from __future__ import annotations

import argparse
import io
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from station.errors import StationError

if TYPE_CHECKING:  # the handler imports these when it runs: building the parser stays cheap
    from cloud_client.client import ParticleCloud
    from hardware.identifiers import LabelScan
    from station.config.profile import StationProfile
    from station.workflow.device import DeviceLink
    from station.workflow.events import UnitEvent
    from station.workflow.input_lines import InputLines
    from station.workflow.line import Line
    from station.workflow.test_prompts import Prompter

STEP_WORDS = {
    "find": "finding the device", "identify": "identifying", "check_label": "checking the label",
    "validate_firmware": "checking the firmware", "flash": "flashing", "final_check": "final check",
    "claim_code": "writing the claim code", "pre_add": "adding to the product", "activate_sim": "activating the SIM",
    "claim": "claiming", "update_device": "naming and grouping",
}


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run the provisioning line (GUI, or --headless in a terminal)")
    run.add_argument("--profile", type=Path, required=True, help="station profile (TOML)")
    run.add_argument("--headless", action="store_true", help="no GUI: labels from stdin (one per line) or --scanner")
    run.add_argument("--operator", help="operator name recorded with every unit (default: the window asks when the "
                     "profile sets [operator] ask_name, else the login name)")
    run.add_argument("--lot", help="lot name (default: today's lot from the profile's lot naming)")
    run.add_argument("--cloud-url", help="use this API base URL instead of the profile's")
    run.add_argument("--scanner", metavar="PORT", help="read labels from a serial barcode scanner on PORT")
    run.add_argument("--scanner-baud", type=int, default=9600)
    run.add_argument("--rework", metavar="LABEL", action="append",
                     help="with --headless: rework this unit, which already passed in the lot (repeat for more), "
                          "then stop; each is recorded as a rework. In the window: engineer mode, Rework unit…")
    sim = run.add_argument_group("simulation (no hardware)")
    sim.add_argument("--simulate", type=_unit_count, metavar="N", help="N simulated units of the profile's platform")
    sim.add_argument("--simulate-seed", default="station", help="seed of the simulated units' identities")
    sim.add_argument("--device-timing", choices=("zero", "realistic"), default="realistic")
    sim.add_argument("--auto-scan", action="store_true", help="scan the simulated units' labels automatically")
    sim.add_argument("--answer", action="append", type=_answer, metavar="yes|no|none|NUMBER|ask",
                     help="how the tests' operator prompts of simulated units are answered (repeat to give a Yes/No "
                          "answer and a number): yes (default), no, none (never answered: the test fails), a "
                          "number for number prompts (default none), or ask: on the terminal")
    run.set_defaults(handler=run_line)


MAX_SIMULATED = 1000


def _unit_count(text: str) -> int:
    """``--simulate N``: a number of simulated units."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"run --simulate takes a number of units, not {text!r}: the units' platform comes from the profile "
            "(--simulate PLATFORM is for the device commands: devices, identify, flash, ...)") from None
    if not 1 <= count <= MAX_SIMULATED:
        raise argparse.ArgumentTypeError(f"{count} units: give 1 to {MAX_SIMULATED}")
    return count


ANSWER_WORDS = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "none": "none", "ask": "ask"}


def _answer(text: str) -> str | float:
    """``--answer``: yes, no, none, ask or a number."""
    word = ANSWER_WORDS.get(text.strip().lower())
    if word is not None:
        return word
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give yes, no, none, ask or a number") from None


def _prompter(args: argparse.Namespace, lines: InputLines | None) -> Prompter:
    """Who answers the tests' operator prompts in a headless run: fixed answers for simulated units (``--answer``),
    else the operator on the terminal, reading from the same line reader as the labels when labels come from stdin
    (a line typed while a prompt is open answers it)."""
    from station.workflow.test_prompts import FixedAnswers, TerminalPrompter

    given = args.answer or []
    if args.simulate and "ask" not in given:
        words = [a for a in given if isinstance(a, str)]
        numbers = [a for a in given if isinstance(a, float)]
        yes = {"yes": True, "no": False, "none": None}[words[-1]] if words else True
        return FixedAnswers(yes=yes, number=numbers[-1] if numbers else None)
    return TerminalPrompter(lines=lines, write=sys.stderr)


SERIAL_LINK_DEVICE_OS = "5.9.0"
"""The Device OS of simulated units on a ``[slots] link = "serial"`` line (YMODEM flashing needs below 6.0.0)."""


def _simulated_devices(profile: StationProfile, args: argparse.Namespace) -> list[Any]:
    from hardware.simulated import SimulatedDevice, Timing
    from station.config.profile import DeviceLinkKind

    timing = Timing.realistic(profile.platform.mcu) if args.device_timing == "realistic" else Timing.zero()
    # A line on the serial link provisions units on the newest Device OS its YMODEM flashing serves.
    device_os = SERIAL_LINK_DEVICE_OS if profile.slots.link is DeviceLinkKind.SERIAL else None
    return [SimulatedDevice(profile.platform, seed=f"{args.simulate_seed}-{n}", timing=timing, device_os=device_os)
            for n in range(args.simulate)]


def _device_link(profile: StationProfile, devices: list[Any], stack: ExitStack) -> DeviceLink:
    """The line's link to its units, as the profile's ``[slots] link`` says: USB (control requests and DFU), or the
    serial console (listening mode and YMODEM); over the simulated ``devices`` when given."""
    from station.config.profile import DeviceLinkKind

    if profile.slots.link is DeviceLinkKind.SERIAL:
        from station.workflow.serial_link import SerialLink

        if not devices:
            return SerialLink()
        from hardware.simulated.serial_ports import simulated_comports
        from hardware.simulated.serial_pty import close_all_serial_consoles

        stack.callback(close_all_serial_consoles)
        return SerialLink(simulated_comports(devices))
    from station.workflow.usb_link import UsbLink

    if not devices:
        return UsbLink()
    from hardware.simulated import usb_backend

    return UsbLink(usb_backend(*devices))


def _cloud(profile: StationProfile, args: argparse.Namespace, devices: list[Any], stack: ExitStack) -> ParticleCloud:
    from cloud_client.client import ParticleCloud
    from cloud_client.credentials import Credentials
    from cloud_client.emulator import EmulatorServer
    from station.config.cloud import cloud_for
    from station.demo.simulated_line import OWNER, register_device

    if args.simulate and not args.cloud_url:
        emulator = EmulatorServer()
        token = emulator.add_owned_product(profile.product_id, profile.platform.name, OWNER).access_token
        for device in devices:
            register_device(emulator, device)
        url = emulator.start()
        stack.callback(emulator.stop)
        print(f"simulation: cloud emulator at {url} (the profile's cloud is not used)", file=sys.stderr)
        return stack.enter_context(ParticleCloud(url, Credentials.token(token, source="simulation")))
    return stack.enter_context(cloud_for(profile, base_url=args.cloud_url))


def _labels(args: argparse.Namespace, devices: list[Any], stdin: TextIO,
            lines: InputLines | None) -> Iterator[str | LabelScan]:
    from hardware.identifiers import LabelScan

    if args.auto_scan:
        for device in devices:
            yield device.label
        return
    if args.scanner:
        from hardware.scanner.serial_scanner import SerialScanner

        with closing(SerialScanner.open(args.scanner, baudrate=args.scanner_baud)) as scanner:
            print(f"reading labels from the scanner on {args.scanner}; Ctrl-C to finish", file=sys.stderr)
            for scan in scanner.scans():
                if isinstance(scan, LabelScan):
                    yield scan
                else:
                    print(f"not scanned: {scan.message}", file=sys.stderr)
        return
    if stdin.isatty():
        print("Scan a label (or type it and press Enter); Ctrl-D to finish.", file=sys.stderr)
    for text in lines.labels() if lines is not None else stdin:
        if text.strip().lower() in ("q", "quit", "exit"):
            return
        if "\ufffd" in text:
            print("Scan not accepted: the scanner sent characters that are not text (check the scanner is set to "
                  "UTF-8 or ASCII); scan the label again.", file=sys.stderr, flush=True)
            continue
        if text.strip():
            yield text


class BenchScanner:
    """The GUI's Simulate scan button (F2) for ``run --simulate N``: the labels of the simulated units in turn, and
    Shift+F2 a well-formed label that no unit on the bench carries."""

    def __init__(self, devices: list[Any]) -> None:
        self._devices = devices
        self._next = 0
        self._wrong = 0
        self._lock = threading.Lock()

    def next_label(self) -> str:
        with self._lock:
            device = self._devices[self._next % len(self._devices)]
            self._next += 1
            return str(device.label)

    def wrong_label(self) -> str:
        with self._lock:
            self._wrong += 1
            serial = self._devices[0].serial
            prefix = serial.value[:4] if serial is not None else "P046"
            return f"{prefix}WR0NG{self._wrong:06d} ABCDEFGHJKLMNPQ"


def _gui(line: Any, args: argparse.Namespace, devices: list[Any], stack: ExitStack) -> int:
    """The operator window for ``line``, with a Simulate scan button for simulated units and ``--scanner``'s labels."""
    from station.ui.app import run_gui

    scanner = None
    if args.scanner:
        from hardware.scanner.serial_scanner import SerialScanner

        scanner = stack.enter_context(closing(SerialScanner.open(args.scanner, baudrate=args.scanner_baud)))
    ask = line.profile.operator.ask_name and args.operator is None
    return run_gui(line, simulator=BenchScanner(devices) if devices else None, scanner=scanner,
                   ask_operator=ask).code


class TerminalReport:
    """Prints one line per finished unit on stdout, and progress on a terminal's stderr."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self.lock = threading.Lock()
        self.failed = 0
        self.finished: dict[str, str] = {}
        """This run's units and their latest state (the lot may hold units of earlier runs too)."""

    def __call__(self, event: UnitEvent) -> None:
        from station.workflow.events import EventKind

        with self.lock:
            slot = f"[slot {event.slot + 1}]" if event.slot is not None else "[cloud]"
            if event.kind is EventKind.STEP_PROGRESS and self.interactive and event.total:
                eta = f", {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
                print(f"\r{slot} {event.unit_key} flashing {100 * event.done // event.total}%{eta}   ", end="",
                      file=sys.stderr, flush=True)
            elif event.kind is EventKind.STEP_STARTED and self.interactive:
                print(f"\r{slot} {event.unit_key} {STEP_WORDS.get(event.step or '', event.step)}...          ",
                      end="", file=sys.stderr, flush=True)
            elif event.kind is EventKind.UNIT_FINISHED:
                if self.interactive:
                    print("\r" + " " * 70 + "\r", end="", file=sys.stderr)
                device = event.data.get("device_id") or "-"
                cycle = event.data.get("cycle_seconds")
                took = f" {cycle:.1f} s" if isinstance(cycle, float) else ""
                print(f"{event.status:<6} {event.unit_key} {device}{took}: {event.message}", flush=True)
                if event.unit_key:
                    self.finished[event.unit_key] = str(event.status)
                if event.status == "FAIL":
                    self.failed += 1
                    print(f"              -> {event.action}", flush=True)
            elif event.kind is EventKind.UNIT_UPDATED:
                print(f"{event.status:<6} {event.unit_key} (later): {event.message}", flush=True)
                if event.unit_key:
                    self.finished[event.unit_key] = str(event.status)
            elif event.kind is EventKind.NOTICE:
                print(f"notice: {event.message} {event.action}", file=sys.stderr, flush=True)


def run_line(args: argparse.Namespace) -> int:
    from station.config.log_folder import log_folder_problem
    from station.config.profile_loader import load_profile
    from station.workflow.line import Line
    from station.workflow.lot import operator_name, prepare_lot

    profile = load_profile(args.profile)  # --cloud-url was checked by the parser (station.commands.arguments)
    problem = log_folder_problem(profile.log_folder)
    if problem is not None:
        raise StationError(f"{args.profile}: {problem}")
    if profile.operator.ask_name and args.operator is None and args.headless:
        raise StationError(f"{args.profile}: the profile asks who operates the station ([operator] ask_name); "
                           "pass --operator NAME")
    operator = operator_name(args.operator)
    if args.auto_scan and not args.simulate:
        raise StationError("--auto-scan needs --simulate N")
    if args.rework and (not args.headless or args.auto_scan or args.scanner):
        raise StationError("--rework takes its labels from the command line and needs --headless, without "
                           "--auto-scan or --scanner (in the window: engineer mode, Rework unit…)")
    if not args.headless:
        # Qt is imported before the line's threads start (as the demo does), and a PC without it fails here, before
        # the line touches any device or the cloud.
        try:
            from station.ui.app import display_problem
        except ImportError as exc:
            raise StationError(f"the GUI is not available ({exc}); use --headless") from None
        problem = display_problem()
        if problem is not None:  # an operator window nobody can see would wait for scans forever
            raise StationError(problem)
    if args.answer and not args.simulate:
        raise StationError("--answer answers the prompts of simulated units and needs --simulate N; on real units "
                           "the operator answers them")
    lines = None
    if args.headless and not (args.auto_scan or args.scanner or args.rework):
        from station.workflow.input_lines import InputLines

        if isinstance(sys.stdin, io.TextIOWrapper):
            # A scanner that sends one byte that is not UTF-8 must cost one scan, not the line.
            sys.stdin.reconfigure(errors="replace")
        lines = InputLines(sys.stdin)  # the labels and the prompts' answers: one reader, see its docstring
    with ExitStack() as stack:
        devices = _simulated_devices(profile, args) if args.simulate else []
        link = _device_link(profile, devices, stack)
        cloud = _cloud(profile, args, devices, stack)
        prepared = prepare_lot(profile, cloud)
        prompter = _prompter(args, lines) if args.headless else None  # the window brings its own
        line = stack.enter_context(Line(prepared, link=link, operator=operator, lot=args.lot,
                                        prompter=prompter).start())
        if not args.headless:
            return _gui(line, args, devices, stack)
        report = TerminalReport(sys.stderr.isatty())
        line.events.subscribe(report)
        for notice in line.notices_at_start:  # emitted by start(), before anyone listened
            report(notice)
        print(f"line ready: station {profile.station_name!r}, product {profile.product_id} "
              f"({profile.platform.display_name}), lot {line.lot}, {profile.slots.count} slot(s)", file=sys.stderr)
        try:
            with _sigterm_as_ctrl_c():  # a service manager's stop records the running units as Ctrl+C does
                not_taken = _feed_labels(line, args, devices, lines)
        except KeyboardInterrupt:
            print("interrupted: stopping; running units are recorded as interrupted", file=sys.stderr)
            line.interrupt()
            line.wait_idle(timeout=60)
            print(f"Lot {line.lot}: {line.counts().sentence()}", file=sys.stderr)
            return 130
        if line.stopped is not None:
            raise StationError(line.stopped)
        counts = line.counts()
        pending = line.journal.count_pending()
        states = list(report.finished.values())
        from station.records.wording import counted

        print(f"this run: {counted(len(states), 'unit')}, {states.count('PASS')} PASS, {states.count('FAIL')} FAIL, "
              f"{states.count('cloud pending')} cloud pending. Lot {line.lot} so far: {counts.sentence()}"
              + (f" ({counted(pending, 'cloud operation')} still queued; they finish when the station runs again)"
                 if pending else ""), file=sys.stderr)
        return 1 if "FAIL" in states or (args.rework and not_taken) else 0


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (systemd's stop, ``kill``) raises KeyboardInterrupt in the main thread while the line takes labels."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _feed_labels(line: Line, args: argparse.Namespace, devices: list[Any], lines: InputLines | None) -> int:
    """Scan every label from stdin, the scanner or the simulated units (or rework those of ``--rework``), then wait
    until the line is idle; stops taking labels once the line has stopped (its journal cannot be written). Returns
    how many labels were not taken."""
    from station.workflow.line import LineError

    not_taken = 0
    rework = bool(args.rework)
    for text in args.rework if rework else _labels(args, devices, sys.stdin, lines):
        while True:
            try:
                line.scan(text, rework=rework)
                break
            except LineError as exc:
                if "busy" in str(exc) and (rework or args.auto_scan or not sys.stdin.isatty()):
                    line.wait_for_free_slot()
                    if line.stopped is None:
                        continue
                print(str(line.stopped or exc), file=sys.stderr)
                not_taken += 1
                break
        if line.stopped is not None:
            break
    line.wait_idle(timeout=3600)
    return not_taken
