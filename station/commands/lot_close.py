"""``particle-station lot-close --profile P``: close a lot (its summary is sealed) so the line opens the next one.

The handler imports the records package when it runs: building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path
from typing import Any

from station.errors import StationError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lot-close",
        help="close a lot: its summary is sealed, scans into it are refused, the line opens the next lot",
        description="Close a lot in the station's journal: its summary is stored as it is now and never recomputed, "
        "its workbook is written a last time, and the line refuses scans into it (the next start, or the "
        "engineer's Close lot, opens the next lot, e.g. ...-002).",
    )
    parser.add_argument("--profile", type=Path, required=True, metavar="P",
                        help="the station profile; its log folder has the journal")
    parser.add_argument("--lot", help="the lot to close (default: the newest open lot in the journal)")
    parser.add_argument("--json", action="store_true", help="print the sealed summary as JSON")
    parser.set_defaults(handler=run_lot_close)


def run_lot_close(args: argparse.Namespace) -> int:
    from station.config.profile_loader import load_profile
    from station.records.journal import JOURNAL_NAME, Journal
    from station.records.lot_seal import close_lot, sealed_summary
    from station.records.spreadsheet import SpreadsheetError, require_lot, write_workbook
    from station.records.spreadsheet_paths import lot_workbook_path
    from station.records.wording import counted
    from station.trays.reconcile import reconciliation_sheets
    from station.workflow.lot import todays_lot

    profile = load_profile(args.profile)
    path = profile.log_folder / JOURNAL_NAME
    if not path.is_file():
        raise StationError(f"journal {path} does not exist; check station.log_folder in {args.profile}")
    with Journal(path) as journal:
        if args.lot is None:
            open_lots = [lot for lot in journal.lots() if not lot.closed]
            if not open_lots:
                raise StationError(f"the journal {path} has no open lot to close")
            name = open_lots[-1].name
        else:
            name = require_lot(journal, args.lot).name
        before = journal.lot(name)
        record = close_lot(journal, name)
        summary = sealed_summary(record) or {}
        workbook = lot_workbook_path(profile.log_folder, name)
        try:
            write_workbook(journal, workbook, lot=name, now=time.time(), lot_sheets=reconciliation_sheets)
            written = f"workbook {workbook} written"
        except SpreadsheetError as exc:
            written = f"the workbook was not written ({exc}); `particle-station export` writes it later"
        following = todays_lot(profile, journal.lots(), datetime.date.today())
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        figures = summary.get("summary", {})
        already = " (it was closed already; its sealed summary is unchanged)" if before and before.closed else ""
        print(f"lot {name} is closed{already}: {counted(figures.get('units', 0), 'unit')}; {written}")
        in_progress = summary.get("units_in_progress_at_close", 0)
        if in_progress:
            were = "was" if in_progress == 1 else "were"
            print(f"note: {counted(in_progress, 'unit')} {were} still in progress when the lot was closed; "
                  f"{'it stays' if in_progress == 1 else 'they stay'} so")
        print(f"the line opens lot {following} at its next start (a line run with --lot NAME goes on with NAME-002)")
    return 0
