"""The ``particle-station`` command: a thin layer over the station, hardware and cloud packages.

Building the parser loads only the command modules' ``register`` functions; a command's handler imports what it needs
when it runs (see station/commands/__init__.py), so ``--help``, ``--version`` and light commands start at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from cloud_client.errors import CloudError
from hardware.errors import HardwareError
from hardware.progress import Cancelled
from station.commands import load_command_modules
from station.commands.arguments import StationArgumentParser, check_cloud_urls
from station.commands.demo import run_demo
from station.errors import StationError
from station.version import station_version


class _VersionAction(argparse.Action):
    """``--version``: like argparse's own, but the version is looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog} {station_version()}")
        parser.exit()


class _PlainFormatter(logging.Formatter):
    """A log record as a user at the terminal reads it: "warning: <message>", no time, logger name or traceback
    (--verbose shows those)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


class _QuietRetries(logging.Filter):
    """The cloud client's retries ("gave no reply; retry 1 of 6 ...") are detail: the command ends in one sentence
    that says whether the cloud answered in the end. --verbose shows them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == _RETRY_LOGGER and record.levelno < logging.ERROR)


_RETRY_LOGGER = "cloud_client.http"


def configure_logging(*, verbose: bool) -> None:
    """Log records on stderr: with --verbose everything, timed and named; else warnings and errors as plain
    sentences, the cloud client's retries left out. Like logging.basicConfig, nothing is changed when the root logger
    already has a handler (a host program's, or a test's)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    if verbose:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(_PlainFormatter())
        handler.addFilter(_QuietRetries())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = StationArgumentParser(
        prog="particle-station",
        description="Provision Particle devices on a factory line: identify, flash, verify, add to a product, claim.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the station with simulated devices and a local cloud emulator (no hardware needed)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in load_command_modules():
        module.register(subparsers)
    check_cloud_urls(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None and args.demo:
        handler = run_demo
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except (HardwareError, CloudError, StationError) as exc:
        print(f"particle-station: error: {exc}", file=sys.stderr)
        return 1
    except Cancelled as exc:
        print(f"particle-station: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("particle-station: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
