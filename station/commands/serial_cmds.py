"""``--serial [--port P]`` for ``particle-station identify`` and ``flash``: the same commands over the listening-mode
console (USB CDC) instead of USB control requests and DFU; ``--simulate PLATFORM`` serves a simulated device on a pty.

``station.commands.usb`` adds the options with ``register_serial_options`` and hands over to ``handle_identify_serial``
/ ``handle_flash_serial`` when ``--serial`` is given. The handlers import hardware.serial (pyserial) when they run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from station.commands.device_output import DeviceReport, ProgressPrinter
from station.errors import StationError

if TYPE_CHECKING:
    from hardware.firmware import DeviceOsVersion

SIMULATED_DEVICE_OS_GEN3 = "5.9.0"
"""Device OS of a device simulated with ``--serial``: the last release that still flashes over YMODEM."""


def register_serial_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("serial console")
    group.add_argument(
        "--serial",
        action="store_true",
        help="talk to the device's listening-mode console over USB serial instead of USB control/DFU "
        "(flashing needs Device OS below 6.0.0)",
    )
    group.add_argument("--port", metavar="P", help="with --serial: the serial port (default: the only Particle port)")
    group.add_argument(
        "--device-os",
        metavar="X.Y.Z",
        type=_version,
        help="with --serial: the device's Device OS if known (skips probing; with --simulate, the simulated version)",
    )


def _version(text: str) -> DeviceOsVersion:
    from hardware.firmware import DeviceOsVersion

    try:
        return DeviceOsVersion.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextmanager
def _serial_port(args: argparse.Namespace) -> Iterator[str]:
    """The port path to use: a simulated device's pty, ``--port``, the port of ``--device``, or the only one."""
    from hardware.serial import list_particle_ports
    from hardware.serial.ports import find_port

    if getattr(args, "simulate", None):
        from hardware.platforms import parse_platform
        from hardware.simulated.device import SimulatedDevice
        from hardware.simulated.serial_pty import close_all_serial_consoles

        platform = parse_platform(args.simulate.split(",")[0])
        version = args.device_os or (SIMULATED_DEVICE_OS_GEN3 if platform.gen3_or_later else None)
        device = SimulatedDevice(platform, device_os=str(version) if version else None, seed="particle-station-serial")
        try:
            yield device.serial_port()
        finally:
            close_all_serial_consoles()
        return
    if args.port:
        yield args.port
        return
    if getattr(args, "device", None) is not None:
        yield find_port(args.device).path
        return
    ports = list_particle_ports()
    if len(ports) == 1:
        yield ports[0].path
        return
    if not ports:
        raise StationError(
            "no Particle serial port found; connect the device (normal or listening mode, not DFU) or give --port"
        )
    listed = "; ".join(str(p) for p in ports)
    raise StationError(f"several Particle serial ports found ({listed}); choose one with --port or --device")


def handle_identify_serial(args: argparse.Namespace) -> int:
    from hardware.serial import ListeningEntry, identify_over_serial

    with _serial_port(args) as port:
        found = identify_over_serial(port, device_os=args.device_os)
    identity, platform = found.identity, found.platform
    user = found.system.running_user_part()
    report = DeviceReport(
        identity.device_id,
        platform.name if platform else f"unknown ({found.system.platform_id})",
        found.system.platform_id,
        "listening" if found.listening_entry is ListeningEntry.ALREADY else "normal",
        serial=str(identity.serial) if identity.serial else None,
        device_os=str(found.version),
        iccid=str(identity.iccid) if identity.iccid else None,
        imei=str(identity.imei) if identity.imei else None,
        user_part_version=user.version if user else None,
    )
    if args.json:
        print(json.dumps(report.as_json() | {"port": found.port, "transport": "serial"}, indent=2))
    else:
        print("\n".join([f"{'Port:':<21}{found.port}", *report.lines()]))
    return 0


def handle_flash_serial(args: argparse.Namespace, *, progress_stream: TextIO | None = None) -> int:
    from hardware.firmware import load_module
    from hardware.serial import flash_over_serial

    module = load_module(args.file)
    with _serial_port(args) as port:
        flash_over_serial(
            port, module.data, progress=ProgressPrinter(progress_stream or sys.stderr), device_os=args.device_os
        )
    result: dict[str, Any] = {"ok": True, "port": port, "bytes": len(module.data), "transport": "serial-ymodem",
                              "product_version": module.product_version}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        what = f" (product firmware version {module.product_version})" if module.product_version is not None else ""
        print(
            f"Flashed {args.file}{what} over YMODEM on {port} ({len(module.data)} bytes); the device validated it "
            "and restarts to run it."
        )
    return 0
