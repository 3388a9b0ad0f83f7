"""``particle-station protection status|disable|enable``: a device's Device Protection on the command line.

As particle-cli 3.49.2's ``device-protection`` (src/cmd/device-protection.js): ``status`` prints
``[<id>] (Product <id or N/A>): <state>``; ``disable`` puts a Protected Device in Service Mode through the cloud
(station.product.protection); ``enable`` returns a device in Service Mode to protected (RESET, or DfuSe 0xFB in DFU).
``--simulate PLATFORM[:open|protected|service[:dfu]],...`` runs the same code against simulated devices;
``disable`` then talks to the profile's cloud when ``--profile`` is given, else to a cloud emulator started in this
process.
The handlers import the hardware and cloud packages when they run, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.errors import StationError

if TYPE_CHECKING:
    from cloud_client.client import ParticleCloud
    from hardware.identifiers import DeviceId
    from hardware.usb.discovery import UsbDevice
    from hardware.usb.protection import ProtectionState
    from station.commands.usb import UsbTarget

SIMULATED_PRODUCT_ID = 12345
"""The product of the in-process cloud emulator behind ``disable --simulate`` (the demo line's product id)."""
_SIMULATED_OWNER = "factory@example.com"
_HINTS = {
    "open": "Protect it with `particle-station protection enable --file BOOTLOADER.bin`.",
    "protected": "Put it in Service Mode with `particle-station protection disable`.",
    "service": "Protect it again with `particle-station protection enable`.",
    "open-or-service": "Leave DFU mode to tell which.",
}


def register(subparsers: Any) -> None:
    protection = subparsers.add_parser(
        "protection", help="Device Protection: show it, put a Protected Device in Service Mode, protect it again",
        description="Device Protection (Device OS 6): read a device's state, enter Service Mode through the cloud, "
        "and return it to protected.",
    )
    actions = protection.add_subparsers(dest="protection_action", metavar="ACTION")
    status = actions.add_parser("status", help="show whether the device is Open, Protected or in Service Mode")
    _common(status)
    status.add_argument("--profile", type=Path, help="station profile: its product id is shown")
    status.set_defaults(handler=run_status)
    disable = actions.add_parser(
        "disable", help="put a Protected Device in Service Mode (20 reboots or 24 hours) through the cloud")
    _common(disable)
    _cloud_options(disable)
    disable.set_defaults(handler=run_disable)
    enable = actions.add_parser("enable", help="return a device in Service Mode to protected")
    _common(enable)
    enable.add_argument("--file", type=Path, metavar="BOOTLOADER",
                        help="an Open device: its Device OS bootloader (.bin), to be flashed with protection added")
    _cloud_options(enable)
    enable.set_defaults(handler=run_enable)

    def show_help(_args: argparse.Namespace) -> int:
        protection.print_help()
        return 2

    protection.set_defaults(handler=show_help)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", metavar="ID", type=_device_id,
                        help="the device id (needed when several devices are connected)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument("--simulate", metavar="PLATFORM[:STATE[:MODE]][,...]",
                        help="use simulated devices instead of USB hardware; STATE is open, protected or service, "
                        "MODE normal or dfu (e.g. boron:protected,p2:service:dfu)")
    parser.add_argument("--product", type=int, metavar="ID", help="the device's product id (default: the profile's)")


def _cloud_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", type=Path, help="station profile: the cloud, its credentials and the product")
    parser.add_argument("--cloud-url", help="use this API base URL instead of the profile's")


def _device_id(text: str) -> DeviceId:
    from hardware.errors import IdentifierError
    from hardware.identifiers import DeviceId

    try:
        return DeviceId.parse(text)
    except IdentifierError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---- devices ----


def _target(args: argparse.Namespace) -> UsbTarget:
    """station.commands.usb's target (a simulated ``PLATFORM[:STATE][:dfu]`` starts in that state and mode)."""
    from station.commands.usb import usb_target

    return usb_target(args)


def _supported(device: UsbDevice) -> None:
    from hardware.usb.protection import supports_protection

    if not supports_protection(device):
        raise StationError(f"{device.describe()}: Device Protection is not supported on this device (it exists on "
                           "Gen 3 and later platforms)")


def _normal_mode(device: UsbDevice, target: UsbTarget, stack: contextlib.ExitStack) -> UsbDevice:
    """A device in DFU mode sent to safe mode (DfuSe 0xFA), where the handshake's requests work; reopened."""
    from hardware.usb.dfu import DfuSession
    from hardware.usb.discovery import DeviceMode
    from hardware.usb.flashing import reopen
    from hardware.usb.protection import DfuProtection

    if device.mode is not DeviceMode.DFU:
        return device
    DfuProtection(DfuSession(device, timing=target.timing)).enter_safe_mode()
    return stack.enter_context(reopen(device, DeviceMode.NORMAL, target.timing))


def _product_id(args: argparse.Namespace) -> int | None:
    if args.product is not None:
        return int(args.product)
    if getattr(args, "profile", None) is not None:
        from station.config.profile_loader import load_profile

        return load_profile(args.profile).product_id
    return None


def _print(args: argparse.Namespace, document: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print("\n".join(lines))


def _document(device: UsbDevice, product_id: int | None, state: ProtectionState, **extra: object) -> dict[str, Any]:
    return {"id": str(device.device_id), "product_id": product_id, "mode": device.mode.value, "state": state.value,
            "display": state.display_name, **extra}


# ---- status ----


def run_status(args: argparse.Namespace) -> int:
    from hardware.usb.protection import protection_channel
    from station.commands.usb import open_target_device
    from station.product.protection import status_line

    target = _target(args)
    product_id = _product_id(args)
    with open_target_device(args, target) as device:
        _supported(device)
        state = protection_channel(device, target.timing).get_state()
        line = status_line(str(device.device_id), product_id, state)
        _print(args, _document(device, product_id, state), [line, _HINTS[state.value]])
    return 0


# ---- disable ----


@contextlib.contextmanager
def _cloud(args: argparse.Namespace, device: UsbDevice) -> Iterator[tuple[ParticleCloud, int | None]]:
    """The profile's cloud (or --cloud-url with the profile's credentials); with --simulate and no profile, a cloud
    emulator in this process that knows the simulated device, in a product with Device Protection."""
    if args.profile is not None:
        from station.config.cloud import cloud_for
        from station.config.profile_loader import load_profile

        profile = load_profile(args.profile)
        url = args.cloud_url  # checked by its argparse type (station/commands/arguments.py)
        with cloud_for(profile, base_url=url) as cloud:
            yield cloud, args.product if args.product is not None else profile.product_id
        return
    if args.cloud_url:
        raise StationError("--cloud-url needs --profile: the profile names the credentials to use with it")
    if not args.simulate:
        raise StationError("protection disable needs the cloud the device belongs to: give --profile PROFILE.toml "
                           "(its API URL, credentials and product)")
    from cloud_client.client import ParticleCloud
    from cloud_client.credentials import Credentials
    from cloud_client.emulator import EmulatorServer

    product_id = args.product if args.product is not None else SIMULATED_PRODUCT_ID
    with EmulatorServer() as emulator:
        owned = emulator.add_owned_product(product_id, device.platform.id, _SIMULATED_OWNER, device_protection="active")
        emulator.add_device(str(device.device_id), device.platform.id, product_id=product_id, protected=True)
        assert emulator.base_url is not None
        with ParticleCloud(emulator.base_url, Credentials.token(owned.access_token, source="simulated cloud"),
                           timeout=10.0) as cloud:
            yield cloud, product_id


def run_disable(args: argparse.Namespace) -> int:
    from hardware.usb.flashing import open_control
    from hardware.usb.protection import ControlProtection, ProtectionState, protection_channel
    from station.commands.usb import open_target_device
    from station.product.protection import enter_service_mode

    target = _target(args)
    with contextlib.ExitStack() as stack:
        device = stack.enter_context(open_target_device(args, target))
        _supported(device)
        before = protection_channel(device, target.timing).get_state()
        if before is ProtectionState.OPEN:
            message = f"Device {device.device_id} is not a Protected Device."
            _print(args, _document(device, _product_id(args), before, entered=False, message=message), [message])
            return 0
        device = _normal_mode(device, target, stack)
        channel = ControlProtection(open_control(device, target.timing))
        with _cloud(args, device) as (cloud, product_id):
            result = enter_service_mode(channel, cloud, str(device.device_id), product_id=product_id)
        _print(args, _document(device, product_id, result.after, before=before.value, entered=result.entered,
                               message=result.message), [result.message])
    return 0


# ---- enable ----


def run_enable(args: argparse.Namespace) -> int:
    from hardware.usb.dfu import DfuSession
    from hardware.usb.discovery import DeviceMode
    from hardware.usb.flashing import open_control
    from hardware.usb.protection import ControlProtection, DfuProtection, ProtectionState
    from station.commands.usb import open_target_device
    from station.product.protection import return_to_protected

    target = _target(args)
    product_id = _product_id(args)
    with contextlib.ExitStack() as stack:
        device = stack.enter_context(open_target_device(args, target))
        _supported(device)
        channel: ControlProtection | DfuProtection
        if device.mode is DeviceMode.DFU:
            channel = DfuProtection(DfuSession(device, timing=target.timing))
            before = channel.get_state()
            if before not in (ProtectionState.PROTECTED, ProtectionState.SERVICE_MODE):
                # Open, or an old bootloader that cannot tell Open from Service Mode: ask the device in safe mode.
                device = _normal_mode(device, target, stack)
                channel = ControlProtection(open_control(device, target.timing))
                before = channel.get_state()
        else:
            channel = ControlProtection(open_control(device, target.timing))
            before = channel.get_state()
        if before is ProtectionState.OPEN:
            return _protect_open_device(args, device, target, stack, before)
        message = return_to_protected(channel, str(device.device_id))
        after = channel.get_state()
        _print(args, _document(device, product_id, after, before=before.value, message=message), [message])
    return 0


def _protect_open_device(args: argparse.Namespace, device: UsbDevice, target: UsbTarget,
                         stack: contextlib.ExitStack, before: ProtectionState) -> int:
    from hardware.firmware import load_module
    from hardware.usb.protection import ProtectionState
    from station.product.protection import clear_development_flag, protect_open_device

    if args.file is None:
        raise StationError(
            f"device {device.device_id} is an Open Device: protecting it needs the bootloader of its Device OS with "
            "the Device Protection (SECURITY_MODE) extension added, flashed over USB; give that bootloader with "
            "--file BOOTLOADER.bin (the product must have Device Protection)"
        )
    bootloader = load_module(str(args.file))
    device, message = protect_open_device(device, bootloader, target.timing)
    stack.enter_context(device)
    product_id = _product_id(args)
    lines = [message]
    development = None
    if args.profile is not None and product_id is not None:
        # Online, as particle-cli's enable: a development device would be left out of the product's protection.
        with _cloud(args, device) as (cloud, product):
            development = clear_development_flag(cloud, product or product_id, str(device.device_id))
        lines.append(development)
    _print(args, _document(device, product_id, ProtectionState.PROTECTED, before=before.value, message=message,
                           development=development), lines)
    return 0
