"""``particle-station decode IMAGE... [--json]``: read the data-matrix labels in image files and say what they hold.

Exit status 0 when every image held at least one Particle label, 1 otherwise. Mobile secrets are never printed:
the output says only whether a label carries one. Decoding needs the libdmtx system library; without it this command
says in one line what to install, and the other commands are not affected.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hardware.scanner.datamatrix import LabelDecodeResult

DEFAULT_TIME_BUDGET_HELP = "3 s, the still-image budget"
"""What --help says of the default time budget (hardware.scanner.datamatrix.STILL_TIME_BUDGET, not imported to
build the parser: it loads libdmtx)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="read the data-matrix labels in image files",
        description="Read the data-matrix labels in image files (PNG, JPEG, ...) and show each serial number, "
        "whether a mobile secret is present (never the secret itself), or why a code is not a Particle label.",
    )
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image file(s) to read")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    parser.add_argument(
        "--time-budget",
        type=_seconds,
        metavar="SECONDS",
        help=f"longest time to search one image (default {DEFAULT_TIME_BUDGET_HELP})",
    )
    parser.set_defaults(handler=run_decode)


@dataclass(frozen=True)
class ImageReport:
    """What one image gave: a decode result, or the error that kept it from being read."""

    path: Path
    result: LabelDecodeResult | None = None
    error: str | None = None

    @property
    def has_label(self) -> bool:
        return self.result is not None and bool(self.result.labels)


def run_decode(args: argparse.Namespace) -> int:
    from hardware.scanner.datamatrix import STILL_TIME_BUDGET  # LibdmtxMissingError (one line) without libdmtx

    budget = STILL_TIME_BUDGET if args.time_budget is None else args.time_budget
    reports = [decode_image(path, budget) for path in args.images]
    if args.json:
        print(json.dumps({"images": [_as_json(report) for report in reports],
                          "all_labelled": all(r.has_label for r in reports)}, indent=2))
        unlabelled = sum(1 for report in reports if not report.has_label)
        if unlabelled:  # the exit code says it too; a person reading the terminal needs the sentence
            print(f"{unlabelled} of {len(reports)} image(s) gave no label; see \"error\", \"message\" and "
                  "\"rejections\" in the JSON", file=sys.stderr)
    else:
        for report in reports:
            _print_lines(report)
    return 0 if all(report.has_label for report in reports) else 1


def decode_image(path: Path, time_budget: float) -> ImageReport:
    from hardware.scanner.datamatrix import LabelImageError, decode_labels

    try:
        return ImageReport(path, result=decode_labels(path, time_budget=time_budget))
    except LabelImageError as exc:
        return ImageReport(path, error=str(exc))


def _print_lines(report: ImageReport) -> None:
    from hardware.scanner.decoded import FoundLabel

    if report.error is not None:
        print(f"{report.path}: error: {report.error}", file=sys.stderr)
        return
    assert report.result is not None
    if report.result.nothing_found:
        print(f"{report.path}: {report.result.message}")
        return
    for code in report.result.codes:
        where = f"[x={code.position.x:.0f} y={code.position.y:.0f} {code.position.degrees}°]"
        if isinstance(code, FoundLabel):
            secret = "mobile secret present" if code.label.mobile_secret is not None else "no mobile secret"
            print(f"{report.path} {where}: {code.label.serial} ({secret})")
        else:
            print(f"{report.path} {where}: {code.reason}")


def _as_json(report: ImageReport) -> dict[str, object]:
    from hardware.scanner.decoded import FoundLabel, RejectedCode

    entry: dict[str, object] = {"image": str(report.path)}
    if report.error is not None:
        return entry | {"error": report.error, "labels": [], "rejections": []}
    assert report.result is not None
    entry["labels"] = [
        {
            "serial": code.label.serial.value,
            "has_mobile_secret": code.label.mobile_secret is not None,
            "position": code.position.as_dict(),
        }
        for code in report.result.codes
        if isinstance(code, FoundLabel)
    ]
    entry["rejections"] = [
        {"reason": code.reason, "position": code.position.as_dict()}
        for code in report.result.codes
        if isinstance(code, RejectedCode)
    ]
    if report.result.nothing_found:
        entry["message"] = report.result.message
    entry["elapsed_ms"] = round(report.result.elapsed * 1000, 1)
    return entry


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the time budget must be more than 0 seconds, got {text}")
    return value
