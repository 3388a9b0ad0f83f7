"""``particle-station lot summary``: a lot's figures from the journal, the same as the lot bar and the workbook show.

The handler imports the records package when it runs: building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from station.errors import StationError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lot", help="a lot's figures (units, PASS, FAIL, yields, cycle time, failures by reason code)",
        description="Commands about a lot recorded in the station's journal.",
    )
    commands = parser.add_subparsers(dest="lot_command", metavar="COMMAND", required=True)
    summary = commands.add_parser(
        "summary", help="print a lot's figures",
        description="Print a lot's figures, computed as the lot bar and the workbook's Summary sheet compute them: "
        "units, PASS, FAIL, waiting on the cloud, not confirmed, refused scans, yield and first-pass yield over the "
        "units tested, cycle time (median, p90) and failures by reason code. README: 'Lot figures'.",
    )
    summary.add_argument("--lot", required=True, help="the lot, e.g. 12345-20260101-001")
    source = summary.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", type=Path, metavar="P", help="a station profile; its log folder has the journal")
    source.add_argument("--journal", type=Path, metavar="PATH", help="the journal file (journal.sqlite3)")
    summary.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    summary.set_defaults(handler=run_lot_summary)


def run_lot_summary(args: argparse.Namespace) -> int:
    from station.commands.export import journal_path
    from station.records.journal import Journal
    from station.records.lot_summary import lot_figures, percent_text

    with Journal(journal_path(args)) as journal:
        if journal.lot(args.lot) is None:
            known = [lot.name for lot in journal.lots()][-5:]
            hint = f"; recent lots: {', '.join(known)}" if known else "; the journal has no lot yet"
            raise StationError(f"lot {args.lot!r} is not in the journal {journal.path}{hint}")
        figures = lot_figures(journal.units(args.lot), refused_scans=journal.refused_scan_table.count(args.lot))
    if args.json:
        print(json.dumps({"lot": args.lot, **figures.as_json()}, indent=2))
        return 0
    print(f"lot {args.lot}: {figures.sentence()}")
    cycle = ("–" if figures.median_cycle_seconds is None else
             f"median {figures.median_cycle_seconds:.1f} s, p90 {figures.p90_cycle_seconds or 0.0:.1f} s")
    print(f"cycle time: {cycle}; attempts {figures.attempts} ({figures.reworked} units reworked)")
    print(f"yield {percent_text(figures.yield_rate)}, first-pass yield {percent_text(figures.first_pass_yield)}")
    if figures.failures_by_code:
        print("failures by reason code:")
        for code, count in figures.failures_by_code:
            print(f"  {count:5d}  {code}")
    return 0
