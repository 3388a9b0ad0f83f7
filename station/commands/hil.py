"""``particle-station hil udev [--install]``: the Linux udev rules a station or rig needs for Particle devices.

The handler imports station.host_setup.udev (and the platform table) when it runs: building the parser stays cheap.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from station.errors import StationError

DEFAULT_RULES_DIR_HELP = "/etc/udev/rules.d"
"""What --help says of the default rules folder (station.host_setup.udev.RULES_DIR, not imported to build the
parser)."""


def register(subparsers: Any) -> None:
    hil = subparsers.add_parser("hil", help="station and test-rig set-up (udev rules)")
    actions = hil.add_subparsers(dest="hil_command", metavar="ACTION")
    udev = actions.add_parser("udev", help="print, or --install, the udev rules for Particle devices (Linux)")
    udev.add_argument("--install", action="store_true", help="write the rules file and reload udev (needs root)")
    udev.add_argument("--rules-dir", type=Path, metavar="DIR",
                      help=f"where --install writes the rules (default {DEFAULT_RULES_DIR_HELP})")
    udev.add_argument("--no-reload", action="store_true", help="write the rules only; do not run udevadm")
    udev.set_defaults(handler=run_udev)
    hil.set_defaults(handler=lambda args: (hil.print_help(), 2)[1])


def run_udev(args: argparse.Namespace) -> int:
    from station.host_setup.udev import RULES_DIR, install_rules, udev_rules

    if not args.install:
        print(udev_rules(), end="")
        return 0
    rules_dir: Path = args.rules_dir or RULES_DIR
    try:
        path = install_rules(rules_dir, reload=None) if args.no_reload else install_rules(rules_dir)
    except PermissionError:
        raise StationError(f"cannot write to {rules_dir}: run with sudo") from None
    print(f"installed {path}; unplug and re-plug the devices")
    return 0
