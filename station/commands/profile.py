"""``particle-station profile check P`` and ``profile hash-pin``: what an engineer needs to write a profile."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.errors import StationError

if TYPE_CHECKING:
    from hardware.firmware import FirmwareModule
    from station.config.profile import StationProfile


def register(subparsers: Any) -> None:
    profile = subparsers.add_parser("profile", help="check a station profile, or make an engineer PIN hash")
    actions = profile.add_subparsers(dest="profile_command", metavar="ACTION")
    check = actions.add_parser("check", help="load a profile and its firmware exactly as the line would")
    check.add_argument("profile", type=Path)
    check.add_argument("--cloud-url", help="use this API base URL instead of the profile's (for the cloud checks)")
    check.set_defaults(handler=run_check)
    pin = actions.add_parser("hash-pin", help="print the engineer_pin_hash for a PIN (asked twice, not echoed)")
    pin.add_argument("--stdin", action="store_true",
                     help="read the PIN once from standard input, even on a terminal (a piped PIN always is)")
    pin.set_defaults(handler=run_hash_pin)
    profile.set_defaults(handler=lambda args: (profile.print_help(), 2)[1])


def run_check(args: argparse.Namespace) -> int:
    from station.config.log_folder import log_folder_problem
    from station.config.profile_loader import load_profile
    from station.workflow.lot import load_device_os_bundle, load_product_firmware

    url = args.cloud_url  # checked by its argparse type (station/commands/arguments.py)
    profile = load_profile(args.profile)
    problem = log_folder_problem(profile.log_folder)
    if problem is not None:
        raise StationError(f"{args.profile}: {problem}")
    print(f"Station     {profile.station_name}")
    print(f"Product     {profile.product_id} ({profile.platform})")
    if profile.firmware.file is not None:
        module = load_product_firmware(profile)
        print(f"Firmware    {profile.firmware.file.name}: {module.describe()}, product version "
              f"{module.product_version}, SHA-256 matches the profile")
    else:
        print(f"Firmware    product firmware version {profile.firmware.product_version} (downloaded at start)")
    bundle = tuple(load_device_os_bundle(profile))
    for module in bundle:
        print(f"Device OS   {module.describe()}")
    if profile.tests is not None:
        _print_tests(profile)
    steps = profile.steps
    enabled = [name for name, on in (
        ("pre-add", steps.pre_add), (f"SIM {steps.sim_activation.value}", True), (f"claim {steps.claim.value}", True),
        ("rename", steps.rename is not None), ("groups " + ",".join(steps.groups), bool(steps.groups)),
        ("firmware lock", steps.firmware_lock), ("Device OS update", steps.device_os_update),
        ("Wi-Fi", profile.wifi is not None), ("online confirmation", profile.confirm.enabled),
    ) if on]
    print(f"Steps       {', '.join(enabled)}")
    where = f"{url} (--cloud-url; the profile's is {profile.cloud.base_url})" if url else profile.cloud.base_url
    print(f"Cloud       {where} (credentials: {profile.cloud.credentials})")
    from station.config.cloud import check_credentials

    credentials = check_credentials(profile)
    print(f"Credentials {credentials}")
    print(f"Protection  {_check_protection(profile, bundle, url)}")
    print(f"Slots       {profile.slots.count}")
    print(f"Records     {profile.log_folder}")
    print(f"Engineer    {'PIN set' if profile.operator.enabled else 'no PIN: engineer mode is open'}")
    print("OK")
    return 0


def _check_protection(profile: StationProfile, bundle: tuple[FirmwareModule, ...], url: str | None) -> str:
    """The [protection] line: with protect_at_end, the check the lot makes at its start (the product's Device
    Protection in the cloud, the bootloader to protect); StationError (or the cloud's error) when it refuses."""
    settings = profile.protection
    arrival = f"a Protected Device on arrival: {settings.on_protected.value}"
    if not settings.protect_at_end:
        return f"{arrival}; units are not protected at the end"
    from cloud_client.credentials import CredentialRef
    from cloud_client.errors import AuthError
    from station.config.cloud import cloud_for
    from station.workflow.cloud_reach import CloudReach
    from station.workflow.lot import load_protected_bootloader

    try:
        CredentialRef.parse(profile.cloud.credentials).resolve()
    except AuthError as exc:
        return (f"{arrival}; protect_at_end not checked: the credentials are not readable here ({exc}), so the "
                "product's Device Protection cannot be asked")
    with cloud_for(profile, base_url=url) as cloud:
        online = CloudReach(cloud.base_url).probe()
        protected = load_protected_bootloader(profile, bundle, cloud, online=online)
    assert protected is not None
    return (f"{arrival}; each unit is protected at the end: product {profile.product_id} has Device Protection "
            f"active, its bootloader becomes {protected.describe()} with the SECURITY_MODE extension")
def _print_tests(profile: StationProfile) -> None:
    """The test firmware (refused unless its SHA-256 is the pinned one, it is test firmware and it fits the
    platform, as the line checks it) and the tests, in order."""
    from hardware.firmware import validate_for
    from station.workflow.test_stage import load_test_firmware, test_firmware_manifest

    plan = profile.tests
    assert plan is not None
    module = load_test_firmware(plan)
    problems = validate_for(module, profile.platform, require_user_part=True)
    if problems:
        raise StationError(f"{profile.path}: the test firmware {plan.firmware} cannot go on a "
                           f"{profile.platform.display_name}: " + "; ".join(p.message for p in problems))
    manifest = test_firmware_manifest(module) or {}
    print(f"Test fw     {plan.firmware.name}: {module.describe()}, test firmware {manifest.get('name')} version "
          f"{manifest.get('version')}, SHA-256 matches the profile")
    prompts = sum(1 for test in plan.tests if test.prompt is not None)
    from station.records.wording import counted

    print(f"Tests       {counted(len(plan.tests), 'test')}" + (f", {prompts} asking the operator" if prompts else "")
          + f"; on failure: {plan.on_failure.value}; tests hash {plan.version[:12]}")
    for number, test in enumerate(plan.tests, start=1):
        what = "; ".join(f"{m.name}: {m.limit.wording(m.units)}" for m in test.measurements) or "the reply's pass"
        asks = f"asks {test.prompt.question!r}" if test.prompt is not None else f"sends {json.dumps(test.request)}"
        print(f"  {number:>2}. {test.name}: {asks}; {what}")


def run_hash_pin(args: argparse.Namespace) -> int:
    if args.stdin or not sys.stdin.isatty():
        # Piped in (`echo 1234 | ... hash-pin`): read once; typing it twice to confirm only means something on a
        # terminal, where the PIN is not shown.
        line = sys.stdin.readline()
        if not line:
            raise StationError("no PIN was typed (input ended); run it again in a terminal, or pipe the PIN in")
        pin = line.rstrip("\r\n")
    else:
        try:
            with warnings.catch_warnings():  # no terminal: getpass says so itself, without a source line
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                pin = getpass.getpass("Engineer PIN: ")
                again = getpass.getpass("Again: ")
        except EOFError:
            raise StationError("no PIN was typed (input ended); run it again in a terminal, or give the PIN "
                               "with --stdin") from None
        if again != pin:
            raise StationError("the two PINs differ; nothing was made")
    if len(pin) < 4:
        raise StationError("the PIN must have at least 4 characters")
    from station.config.profile import hash_pin

    print(hash_pin(pin))
    return 0
