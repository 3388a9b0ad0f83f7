"""Sub-commands of ``particle-station``: each module has ``register(subparsers)`` that adds its commands.

A command handler takes the parsed arguments and returns the process exit code. Handlers raise the packages' own
errors (HardwareError, CloudError, StationError); the CLI turns those into one clear line on stderr.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Each name is a module in this package; a module that does not exist yet is skipped so the CLI always starts.
COMMAND_MODULES = (
    "firmware",
    "usb",
    "decode",
    "run",
    "tray",
    "export",
    "demo",
    "profile",
    "hil",
)


def load_command_modules() -> list[ModuleType]:
    modules = []
    for name in COMMAND_MODULES:
        try:
            modules.append(importlib.import_module(f"station.commands.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"station.commands.{name}":
                raise
    return modules
