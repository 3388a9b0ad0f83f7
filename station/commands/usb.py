"""``particle-station devices``, ``identify`` and ``flash``: the USB host side on the command line.

Each command takes ``--simulate PLATFORM[:STATE][:dfu][,...]`` to run the very same code against simulated devices
behind a simulated pyusb backend (STATE: their Device Protection; ``:dfu``: started in DFU mode). Progress goes to
stderr: a bar on a terminal, plain lines otherwise. The handlers import hardware.usb (pyusb) when they run, so
building the parser does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO

from station.commands.device_output import DeviceReport, ProgressPrinter
from station.commands.serial_cmds import handle_flash_serial, handle_identify_serial, register_serial_options

if TYPE_CHECKING:
    from hardware.identifiers import DeviceId
    from hardware.usb.discovery import DeviceInfo, UsbBackend, UsbDevice
    from hardware.usb.flashing import FlashResult
    from hardware.usb.protection import ProtectionState
    from hardware.usb.timing import HostTiming

def register(subparsers: Any) -> None:
    devices = subparsers.add_parser(
        "devices", help="list Particle devices on USB", description="List Particle devices on USB (normal and DFU)."
    )
    _add_common(devices)
    devices.set_defaults(handler=run_devices)

    identify = subparsers.add_parser(
        "identify",
        help="show a device's id, platform, serial number, Device OS, ICCID/IMEI and application version",
        description="Identify one Particle device on USB.",
    )
    _add_common(identify)
    _add_device(identify)
    register_serial_options(identify)
    identify.set_defaults(handler=run_identify)

    flash = subparsers.add_parser(
        "flash",
        help="flash application firmware (a user part .bin) over USB and confirm it runs",
        description="Flash a user part over DFU, verify it by reading it back, and confirm the device runs it.",
    )
    flash.add_argument("file", metavar="FILE", help="the application firmware (.bin)")
    _add_common(flash)
    _add_device(flash)
    register_serial_options(flash)
    flash.set_defaults(handler=run_flash)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument(
        "--simulate",
        metavar="PLATFORM[:STATE][:dfu][,...]",
        help="use simulated devices of these platforms instead of USB hardware (e.g. boron,p2); STATE is open, "
        "protected or service (Device Protection), :dfu starts the device in DFU mode (e.g. boron:protected:dfu)",
    )


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", metavar="ID", type=_device_id, help="the device id (needed when several devices are connected)"
    )


def _device_id(text: str) -> DeviceId:
    from hardware.errors import IdentifierError
    from hardware.identifiers import DeviceId

    try:
        return DeviceId.parse(text)
    except IdentifierError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---- where devices come from ----


@dataclass(frozen=True)
class UsbTarget:
    """The pyusb backend to use and the host timing that suits it."""

    backend: UsbBackend
    timing: HostTiming
    simulated: tuple[Any, ...] = ()
    """The SimulatedDevice objects behind the backend (empty for real hardware)."""


def usb_target(args: argparse.Namespace) -> UsbTarget:
    """Real USB through libusb-1.0, or simulated devices when ``--simulate`` is given."""
    from hardware.platforms import parse_platform
    from hardware.usb.discovery import default_backend
    from hardware.usb.timing import HostTiming

    if getattr(args, "simulate", None):
        from hardware.simulated import DeviceMode, SimulatedDevice, usb_backend

        # PLATFORM[:open|protected|service][:dfu|normal]: a simulated device in that Device Protection state, in DFU
        # mode when ``:dfu`` ends the spec.
        specs = [_simulated_spec(item.strip()) for item in args.simulate.split(",") if item.strip()]
        devices = tuple(
            SimulatedDevice(parse_platform(name), seed=f"particle-station-{i}-{parse_platform(name).name}",
                            protection=state)
            for i, (name, state, _dfu) in enumerate(specs)
        )
        target = UsbTarget(usb_backend(*devices), HostTiming.fast(poll=0.01), devices)
        for device, (_name, _state, dfu) in zip(devices, specs, strict=True):
            if dfu:
                device.reboot(DeviceMode.DFU)
        return target
    return UsbTarget(default_backend(), HostTiming())


def _simulated_spec(item: str) -> tuple[str, str, bool]:
    """``PLATFORM[:STATE][:MODE]`` → (platform, protection state, in DFU mode)."""
    from station.errors import StationError

    parts = item.split(":")
    dfu = False
    if len(parts) > 1 and parts[-1] in ("dfu", "normal"):
        dfu = parts.pop() == "dfu"
    if len(parts) > 2:
        raise StationError(f"--simulate: {item!r} is not PLATFORM[:STATE][:MODE] (e.g. boron:protected:dfu)")
    state = parts[1] if len(parts) == 2 else "open"
    if state not in ("open", "protected", "service"):
        raise StationError(f"--simulate: protection state {state!r} is not open, protected or service")
    return parts[0], state, dfu


def open_target_device(args: argparse.Namespace, target: UsbTarget) -> UsbDevice:
    from hardware.usb.discovery import open_device as open_usb_device

    return open_usb_device(getattr(args, "device", None), backend=target.backend)


# ---- devices ----


def _info_json(info: DeviceInfo, protection: ProtectionState | None) -> dict[str, Any]:
    return {
        "id": str(info.device_id) if info.device_id else None,
        "platform": info.platform.name,
        "platform_id": info.platform.id,
        "mode": info.mode.value,
        "bus": info.bus,
        "address": info.address,
        "problem": info.problem or None,
        "protection": protection.value if protection is not None else None,
    }


def _protection_of(info: DeviceInfo, target: UsbTarget) -> ProtectionState | None:
    """The device's protection state, or None when it cannot be read (Gen 2, unreadable id, busy device)."""
    from hardware.errors import HardwareError
    from hardware.usb.discovery import open_device as open_usb_device
    from hardware.usb.protection import read_protection

    if info.device_id is None or info.problem:
        return None
    try:
        with open_usb_device(info.device_id, backend=target.backend) as device:
            return read_protection(device, target.timing)
    except HardwareError:
        return None


def run_devices(args: argparse.Namespace) -> int:
    from hardware.usb.discovery import list_devices

    target = usb_target(args)
    found = [(info, _protection_of(info, target)) for info in list_devices(backend=target.backend)]
    if args.json:
        print(json.dumps([_info_json(info, protection) for info, protection in found], indent=2))
        return 0
    if not found:
        print("No Particle devices found on USB.")
        return 0
    for info, protection in found:
        who = str(info.device_id) if info.device_id else "(id unreadable)"
        line = f"{who}  {info.platform.display_name:<12} {str(info.mode) + ' mode':<12}"
        if protection is not None:
            line += f" {protection.display_name}"
        print(line.rstrip() + (f"  — {info.problem}" if info.problem else ""))
    return 0


# ---- identify ----


@dataclass(frozen=True)
class UsbReport:
    """What ``identify`` shows of a device on USB: the common report plus its Device Protection state."""

    report: DeviceReport
    protection: ProtectionState | None = None

    def as_json(self) -> dict[str, Any]:
        out = self.report.as_json()
        out["protection"] = self.protection.value if self.protection is not None else None
        return out

    def lines(self) -> list[str]:
        from hardware.usb.protection import DISABLE_HINT, ProtectionState

        rows = self.report.lines()
        if self.protection is not None:
            rows.append(f"{'Protection:':<21}{self.protection.display_name}")
        if self.protection is ProtectionState.PROTECTED:
            rows.append(
                "Serial number, modules, application and SIM ids are not readable on a Protected Device; "
                + DISABLE_HINT.format(device=self.report.device_id)
                + " to read them."
            )
        return rows


def identify_usb(device: UsbDevice, timing: HostTiming) -> DeviceReport:
    """Identify a device over USB control requests (DFU mode: only id, platform and mode are known)."""
    return identify_usb_report(device, timing).report


def identify_usb_report(device: UsbDevice, timing: HostTiming) -> UsbReport:
    """Identify a device over USB, with its protection state (DFU mode: id, platform, mode and protection)."""
    from hardware.usb.discovery import DeviceMode
    from hardware.usb.identify import identify_device
    from hardware.usb.protection import read_protection

    base = DeviceReport(device.device_id, device.platform.name, device.platform.id, device.mode.value)
    if device.mode is DeviceMode.DFU or not device.platform.control_requests_supported:
        return UsbReport(base, read_protection(device, timing))
    found = identify_device(device, timing)
    user = found.user_part
    report = replace(
        base,
        serial=str(found.serial) if found.serial else None,
        device_os=found.device_os,
        iccid=str(found.iccid) if found.iccid else None,
        imei=str(found.imei) if found.imei else None,
        user_part_version=user.version if user is not None and user.valid else None,
    )
    return UsbReport(report, found.protection)


def run_identify(args: argparse.Namespace) -> int:
    if getattr(args, "serial", False):
        return handle_identify_serial(args)
    target = usb_target(args)
    with open_target_device(args, target) as device:
        report = identify_usb_report(device, target.timing)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 0


# ---- flash ----


def _flash_json(result: FlashResult, product_version: int | None) -> dict[str, Any]:
    return {
        "ok": True,
        "id": str(result.device_id),
        "platform": result.platform.name,
        "module": result.module,
        "address": f"0x{result.address:08x}",
        "bytes": result.bytes_written,
        "legacy_slot_invalidated": result.legacy_slot_invalidated,
        "dependency_checked": result.dependency_checked,
        "running_version": result.running.version,
        "product_version": product_version,
        "seconds": {p.phase: round(p.seconds, 3) for p in result.phases},
        "total_seconds": round(result.total_seconds, 3),
    }


def run_flash(args: argparse.Namespace, *, progress_stream: TextIO | None = None) -> int:
    if getattr(args, "serial", False):
        return handle_flash_serial(args, progress_stream=progress_stream)
    from hardware.firmware import load_module
    from hardware.usb.flashing import flash_user_firmware

    module = load_module(args.file)
    target = usb_target(args)
    progress = ProgressPrinter(progress_stream or sys.stderr)
    with open_target_device(args, target) as device:
        result = flash_user_firmware(device, module, progress=progress, timing=target.timing)
    result.device.close()
    if args.json:
        print(json.dumps(_flash_json(result, module.product_version), indent=2))
    else:
        # The engineer knows a release by its product firmware version (the suffix's PRODUCT_VERSION), which the
        # device does not report over USB; the module version is what the device confirmed running.
        runs = (f"product firmware version {module.product_version} (module version {result.running.version})"
                if module.product_version is not None else f"version {result.running.version}")
        print(
            f"Flashed {result.module} to {result.device_id} at 0x{result.address:08x} "
            f"({result.bytes_written} bytes, {result.total_seconds:.1f} s); the device runs {runs}."
        )
    return 0
