"""``particle-station tray import FILE --profile P``: bulk-import a tray list into the product, with a report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from station.connect import cloud_for
from station.profile import load_profile
from station.tray import EntryKind, read_tray
from station.tray_import import ImportReport, LineResult, import_tray, write_report_xlsx


def register(subparsers: Any) -> None:
    tray = subparsers.add_parser("tray", help="tray lists: import device ids or serial numbers into the product")
    actions = tray.add_subparsers(dest="tray_command", metavar="ACTION")
    imp = actions.add_parser("import", help="import a tray list (.txt, .csv, .xlsx) into the profile's product")
    imp.add_argument("file", type=Path, help="the tray list")
    imp.add_argument("--profile", type=Path, required=True, help="station profile (product, platform, cloud)")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.add_argument("--report", type=Path, help="write the per-line report here (.xlsx); default beside the file")
    imp.add_argument("--batch-size", type=int, help="identifiers per request (default: the profile's)")
    imp.add_argument("--cloud-url", help="use this API base URL instead of the profile's")
    imp.set_defaults(handler=run_import)
    tray.set_defaults(handler=lambda args: (tray.print_help(), 2)[1])


def run_import(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    tray = read_tray(args.file, platform=profile.platform,
                     accept=frozenset({EntryKind.DEVICE_ID, EntryKind.SERIAL}))
    report_path = args.report or args.file.with_name(f"{args.file.stem}-import-report.xlsx")
    state_path = report_path.with_suffix(".progress.json")
    interactive = sys.stderr.isatty() and not args.json

    def progress(done: int, total: int) -> None:
        if interactive:
            print(f"\rimporting {done}/{total}", end="", file=sys.stderr, flush=True)

    with cloud_for(profile, base_url=args.cloud_url) as cloud:
        report = import_tray(tray, cloud, profile.product_id, batch_size=args.batch_size or profile.cloud.batch_size,
                             state_path=state_path, progress=progress)
    if interactive:
        print(file=sys.stderr)
    write_report_xlsx(report, report_path)
    if args.json:
        print(json.dumps({**report.to_json(), "report": str(report_path)}, indent=2))
    else:
        _print_report(report, report_path)
    for warning in tray.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0 if report.complete else 3


def _print_report(report: ImportReport, path: Path) -> None:
    print(f"Tray {report.source} -> product {report.product_id}")
    for result, count in report.summary().items():
        print(f"  {result:<24} {count}")
    problems = [line for line in report.lines if line.result not in (LineResult.ADDED, LineResult.EXISTING)]
    for line in problems[:50]:
        print(f"  line {line.line}: {line.text!s:<26} {line.result.value}: {line.reason}")
    if len(problems) > 50:
        print(f"  ... {len(problems) - 50} more in the report")
    if not report.complete:
        print("The cloud became unreachable: run the same command again to finish the import.")
    print(f"Report: {path}")
