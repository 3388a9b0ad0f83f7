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
    tests = commands.add_parser(
        "tests", help="print a lot's test statistics per measurement; write units' test records as JSON",
        description="Print each measurement of the lot's fixture tests over every attempt: count, mean, standard "
        "deviation, min, max, the limits, Cpk against them and failures, then the failures by test. --openhtf DIR "
        "writes each unit's test record, one file per attempt, as OpenHTF-style JSON. README: 'Testing each unit "
        "on the fixture'.",
    )
    tests.add_argument("--lot", required=True, help="the lot, e.g. 12345-20260101-001")
    source = tests.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", type=Path, metavar="P", help="a station profile; its log folder has the journal")
    source.add_argument("--journal", type=Path, metavar="PATH", help="the journal file (journal.sqlite3)")
    tests.add_argument("--json", action="store_true", help="print the statistics as one JSON object")
    tests.add_argument("--openhtf", type=Path, metavar="DIR",
                       help="also write every tested unit's record per attempt as OpenHTF-style JSON into DIR")
    tests.set_defaults(handler=run_lot_tests)


def _check_lot(journal: Any, lot: str) -> None:
    if journal.lot(lot) is None:
        known = [record.name for record in journal.lots()][-5:]
        hint = f"; recent lots: {', '.join(known)}" if known else "; the journal has no lot yet"
        raise StationError(f"lot {lot!r} is not in the journal {journal.path}{hint}")


def run_lot_summary(args: argparse.Namespace) -> int:
    from station.commands.export import journal_path
    from station.records.journal import Journal
    from station.records.lot_summary import lot_figures
    from station.records.wording import counted

    with Journal(journal_path(args)) as journal:
        _check_lot(journal, args.lot)
        figures = lot_figures(journal.units(args.lot), refused_scans=journal.refused_scan_table.count(args.lot))
    if args.json:
        print(json.dumps({"lot": args.lot, **figures.as_json()}, indent=2))
        return 0
    print(f"lot {args.lot}: {figures.sentence()}")
    cycle = ("–" if figures.median_cycle_seconds is None else
             f"median {figures.median_cycle_seconds:.1f} s, p90 {figures.p90_cycle_seconds or 0.0:.1f} s")
    # The yields are in the first line already.
    print(f"cycle time: {cycle}; {counted(figures.attempts, 'attempt')} ({counted(figures.reworked, 'unit')} "
          "reworked)")
    if figures.failures_by_code:
        print("failures by reason code:")
        for code, count in figures.failures_by_code:
            print(f"  {count:5d}  {code}")
    return 0


def run_lot_tests(args: argparse.Namespace) -> int:
    from station.commands.export import journal_path
    from station.records.journal import Journal
    from station.records.openhtf_record import write_openhtf_records
    from station.records.test_stats import (
        CPK_BAR,
        CPK_TOO_FEW,
        MIN_CPK_SAMPLES,
        failures_by_test,
        measurement_stats,
    )
    from station.records.wording import counted

    written: list[Path] = []
    with Journal(journal_path(args)) as journal:
        _check_lot(journal, args.lot)
        records = journal.measurement_table.of_lot(args.lot)
        stats = measurement_stats(records)
        by_test = failures_by_test(records)
        if args.openhtf is not None:
            lot = journal.lot(args.lot)
            station = lot.station if lot is not None else ""
            try:
                for unit in journal.units(args.lot):
                    taken = journal.measurement_table.of_unit(unit.id)
                    written += write_openhtf_records(args.openhtf, unit, taken, station=station)
            except OSError as exc:
                raise StationError(f"cannot write the test records into {args.openhtf}: {exc.strerror or exc}; "
                                   "choose a folder you can write to") from None
    if args.json:
        print(json.dumps({"lot": args.lot, "measurements": [s.as_json() for s in stats],
                          "failures_by_test": [{"test": t, "units": n} for t, n in by_test],
                          "records_written": [str(p) for p in written]}, indent=2))
        return 0
    if not stats:
        print(f"lot {args.lot}: no test measurements recorded (the profile has no [tests], or no unit was tested)")
    else:
        named = [f"{s.test} / {s.name}" for s in stats]
        wide = max(len("test / measurement"), *(len(name) for name in named))  # every name in full
        print(f"lot {args.lot}: {counted(len(stats), 'measurement')} over "
              f"{counted(len({r.unit_id for r in records}), 'unit')}")
        print(f"{'test / measurement':{wide}} {'n':>5} {'mean':>10} {'stdev':>9} {'min':>10} {'max':>10} "
              f"{'limits':>19} {'Cpk':>6} {'fail':>5}")
        for name, s in zip(named, stats, strict=True):
            limits = f"{_num(s.lower)}..{_num(s.upper)}" if s.lower is not None or s.upper is not None else "–"
            flag = f" (Cpk below {CPK_BAR})" if s.cpk_below_bar else ""
            print(f"{name:{wide}} {s.count:5d} {_num(s.mean):>10} {_num(s.stdev):>9} "
                  f"{_num(s.minimum):>10} {_num(s.maximum):>10} {limits:>19} {s.cpk_text():>6} "
                  f"{s.failures:5d}{flag}")
        if any(s.cpk_withheld for s in stats):
            print(f"Cpk {CPK_TOO_FEW}: not computed from fewer than {MIN_CPK_SAMPLES} values (too few to mean "
                  "anything)")
    if by_test:
        print("failures by test:")
        for test, count in by_test:
            print(f"  {count:5d}  {test}")
    if written:
        print(f"wrote {counted(len(written), 'test record')} as OpenHTF-style JSON into {args.openhtf}")
    return 0


def _num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}g}"
