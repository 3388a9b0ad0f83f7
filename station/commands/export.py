"""``particle-station export``: write a lot's (or a day's) workbook from the journal.

The handler imports the records package (openpyxl) when it runs: building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from station.errors import StationError

LOCKED_RETRIES = (1.0, 2.0, 4.0)
"""Seconds to wait before each new try while the output workbook is open in another program."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a lot's workbook (.xlsx) from the journal",
        description="Write the workbook of a lot (or of a day) from the station's journal: a Units sheet with "
        "every unit's latest state and identifiers, and a Summary sheet with counts and yields.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--lot", help="the lot to export, e.g. 12345-20260101-001")
    which.add_argument("--day", type=_day, help="export every unit started on this local date (YYYY-MM-DD)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx", help="the workbook to write")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--journal", type=Path, metavar="PATH", help="the journal file (journal.sqlite3)")
    source.add_argument("--profile", type=Path, metavar="P", help="a station profile; its log folder has the journal")
    parser.add_argument("--line", action="store_true",
                        help="the lot's units at every station of the line (needs --profile with a [line] section)")
    parser.set_defaults(handler=run_export)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def journal_path(args: argparse.Namespace) -> Path:
    """The journal named on the command line, or the one in the profile's log folder."""
    if args.journal is not None:
        path = Path(args.journal)
        hint = "check --journal"
    else:
        from station.config.profile_loader import load_profile
        from station.records.journal import JOURNAL_NAME

        path = load_profile(args.profile).log_folder / JOURNAL_NAME
        hint = f"check station.log_folder in {args.profile}"
    if not path.is_file():
        # Opening a missing journal would create an empty one; say what is wrong instead.
        raise StationError(f"journal {path} does not exist; {hint}")
    return path


def run_export(args: argparse.Namespace, *, sleep: Callable[[float], None] = time.sleep) -> int:
    from station.records.journal import Journal
    from station.records.spreadsheet import WorkbookLockedError, write_workbook
    from station.trays.reconcile import reconciliation_sheets

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise StationError(f"--out {out}: name a .xlsx file (Excel will not open a workbook with another suffix)")
    from station.config.log_folder import folder_problem

    # Checked before the workbook is built: a save that fails half way leaves openpyxl's row writers to complain.
    problem = folder_problem(out.absolute().parent, f"--out {out}: the folder",
                             "name a workbook in a folder this user can write")
    if problem is not None:
        raise StationError(problem)
    if args.line and (args.profile is None or args.lot is None):
        raise StationError("--line exports one lot (--lot) from every station; it needs --profile (its [line])")
    with Journal(journal_path(args)) as journal:
        for delay in (*LOCKED_RETRIES, None):
            try:
                if args.line:
                    from station.line.lot_units import write_line_workbook

                    report = write_line_workbook(journal, out, lot=args.lot, profile=args.profile, now=time.time())
                else:
                    report = write_workbook(journal, out, lot=args.lot, day=args.day, now=time.time(),
                                            lot_sheets=reconciliation_sheets)
                break
            except WorkbookLockedError as exc:
                if delay is None:
                    raise WorkbookLockedError(
                        f"workbook {out} is open in another program; close it and run the export again", exc.path
                    ) from None
                print(f"{out} is open in another program; trying again in {delay:.0f} s")
                sleep(delay)
    what = f"lot {args.lot}" if args.lot is not None else f"day {args.day.isoformat()}"
    what += " at every station of the line" if args.line else ""
    print(f"wrote {report.units} units of {what} to {report.path}")
    return 0
