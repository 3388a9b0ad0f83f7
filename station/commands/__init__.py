"""Sub-commands of ``particle-station``: each module has ``register(subparsers)`` that adds its commands.

A command handler takes the parsed arguments and returns the process exit code. Handlers raise the packages' own
errors (HardwareError, CloudError, StationError); the CLI turns those into one clear line on stderr.

Building the parser imports these modules on every run, ``--help`` included, so at module level they import only the
standard library and other light modules; a handler imports the packages it needs (pyusb, openpyxl, libdmtx, the
cloud client, Qt) when it runs. tests/station/test_cli_start.py holds this.
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMAND_MODULES = (
    "firmware",
    "usb",
    "protection",
    "decode",
    "run",
    "tray",
    "export",
    "lot",
    "lot_close",
    "outbox",
    "line",
    "demo",
    "profile",
    "hil",
)
"""The modules of this package that add commands, in the order ``--help`` lists them."""


def load_command_modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{name}") for name in COMMAND_MODULES]
