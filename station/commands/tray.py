"""``particle-station tray import FILE --profile P``: bulk-import a tray list into the product, with a report;
``tray import-sims FILE --profile P``: import a SIM list (ICCIDs) into the product and activate the SIMs;
``tray attach FILE --lot L --profile P`` and ``tray reconcile --lot L --profile P [--json] [--line]``: tie tray lists
to a lot and reconcile the lot against them (``--line``: its units at every station of the line)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.errors import StationError

if TYPE_CHECKING:  # the handlers import these when they run: building the parser stays cheap
    from station.config.profile import StationProfile
    from station.records.journal import Journal
    from station.trays.device_import import ImportReport
    from station.trays.reconcile import Reconciliation
    from station.trays.sim_import import SimImportReport


def register(subparsers: Any) -> None:
    tray = subparsers.add_parser("tray", help="tray lists: import device ids, serial numbers or SIM lists into the "
                                 "product; tie lists to a lot and reconcile it")
    actions = tray.add_subparsers(dest="tray_command", metavar="ACTION")
    imp = actions.add_parser("import", help="import a tray list (.txt, .csv, .xlsx) into the profile's product")
    imp.add_argument("file", type=Path, help="the tray list")
    imp.add_argument("--profile", type=Path, required=True, help="station profile (product, platform, cloud)")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.add_argument("--report", type=Path, help="write the per-line report here (.xlsx or .json); default: the "
                     "profile's log folder, tray-reports/")
    imp.add_argument("--batch-size", type=int, help="identifiers per request (default: the profile's)")
    imp.add_argument("--cloud-url", help="use this API base URL instead of the profile's")
    imp.set_defaults(handler=run_import)
    attach = actions.add_parser("attach", help="tie a tray list (device ids, serials, ICCIDs, IMEIs) to a lot")
    attach.add_argument("file", type=Path, help="the tray list (.txt, .csv, .xlsx)")
    attach.add_argument("--lot", required=True, help="the lot, e.g. 12345-20260101-001 (created if new)")
    attach.add_argument("--profile", type=Path, required=True, help="station profile (its log folder has the journal)")
    attach.add_argument("--operator", help="operator recorded if the lot is new (default: the login name)")
    attach.set_defaults(handler=run_attach)
    rec = actions.add_parser("reconcile", help="compare a lot with its tray lists: provisioned, missing, extra, "
                             "duplicates")
    rec.add_argument("--lot", required=True, help="the lot to reconcile")
    rec.add_argument("--profile", type=Path, required=True, help="station profile (its log folder has the journal)")
    rec.add_argument("--json", action="store_true", help="print the reconciliation as JSON")
    rec.add_argument("--line", action="store_true",
                     help="the lot's units at every station of the line (the profile's [line] database), not only "
                          "this station's")
    rec.set_defaults(handler=run_reconcile)
    sims = actions.add_parser("import-sims", help="import a SIM list (ICCIDs in .txt, .csv, .xlsx) into the profile's "
                              "product and activate the SIMs")
    sims.add_argument("file", type=Path, help="the SIM list (e.g. the ICCID list of a SIM-card pack)")
    sims.add_argument("--profile", type=Path, required=True, help="station profile (product, platform, cloud)")
    sims.add_argument("--json", action="store_true", help="print the report as JSON")
    sims.add_argument("--report", type=Path, help="write the per-line report here (.xlsx or .json); default: the "
                      "profile's log folder, tray-reports/")
    sims.add_argument("--country", help="country code the SIMs are activated for (default: the cloud's)")
    sims.add_argument("--batch-size", type=int, help="ICCIDs per import request (default: 100)")
    sims.add_argument("--cloud-url", help="use this API base URL instead of the profile's")
    sims.set_defaults(handler=run_import_sims)
    tray.set_defaults(handler=lambda args: (tray.print_help(), 2)[1])


def _progress(args: argparse.Namespace, verb: str) -> Callable[[int, int], None]:
    """Progress on stderr: one updating line on a terminal, else a line per tenth of a large import."""
    interactive = sys.stderr.isatty()
    shown = -1

    def progress(done: int, total: int) -> None:
        nonlocal shown
        step = done * (100 if interactive else 10) // max(total, 1)
        if step == shown or (not interactive and total < 1000):
            return
        shown = step
        if interactive:
            print(f"\r{verb} {done}/{total}", end="", file=sys.stderr, flush=True)
            if done == total:
                print(file=sys.stderr)
        else:
            print(f"{verb} {done}/{total}", file=sys.stderr, flush=True)

    return progress


def _report_places(args: argparse.Namespace, profile: StationProfile, what: str) -> tuple[Path, Path, Path]:
    """(the report to write, the fallback in the log folder, the reports folder); a bad name or folder is refused
    here, before the import starts."""
    from station.trays.report import check_report_path
    from station.trays.report_files import default_report_path, reports_folder

    if args.report is not None:
        check_report_path(args.report)
    folder = reports_folder(profile.log_folder, profile.path)
    fallback = default_report_path(folder, args.file, what)
    if args.report is not None and args.report.suffix.lower() == ".json":
        fallback = fallback.with_suffix(".json")
    return args.report or fallback, fallback, folder


def _finish(
    args: argparse.Namespace,
    report: ImportReport | SimImportReport,
    places: tuple[Path, Path, Path],
    *,
    title: str,
    fine: tuple[object, ...],
    warnings: tuple[str, ...],
) -> int:
    """Write the report, print it (JSON or a table of the lines that need a look); exit 0 only when every line was
    imported, else 1 with one sentence: the report could not be written where asked (the result is printed all the
    same), the cloud became unreachable, or lines were refused (how many)."""
    from station.trays.report_files import write_report_safely

    wanted, fallback, _ = places
    written = write_report_safely(report, wanted, fallback)
    problems = [line for line in report.lines if line.result not in fine]
    if args.json:
        extra = {"report_error": written.problem} if written.problem else {}
        print(json.dumps({**report.to_json(), "report": str(written.path) if written.path else None, **extra},
                         indent=2))
    else:
        print(f"{title} {report.source} -> product {report.product_id}")
        for result, count in report.summary().items():
            print(f"  {result:<32} {count}")
        shown = problems if written.path is None else problems[:50]
        for line in shown:
            print(f"  line {line.line}: {line.text!s:<26} {line.result.value}: {line.reason}")
        if len(problems) > len(shown):
            print(f"  ... {len(problems) - len(shown)} more in the report")
        if written.path is not None:
            print(f"Report: {written.path}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if written.problem:
        print(f"particle-station: error: {written.problem}", file=sys.stderr)
        return 1
    if not report.complete:
        print(f"particle-station: the cloud became unreachable before the import of {report.source} finished; run "
              "the same command again to finish it (lines already done are not sent again)", file=sys.stderr)
        return 1
    if report.lines and len(problems) == len(report.lines):
        print(f"particle-station: no line of {report.source} could be imported; see the reasons above and fix the "
              "file", file=sys.stderr)
        return 1
    if problems:
        print(f"particle-station: {len(problems)} of {len(report.lines)} lines of {report.source} were not imported "
              "(see the reasons above); the others were", file=sys.stderr)
        return 1
    return 0


def run_import(args: argparse.Namespace) -> int:
    from station.config.cloud import cloud_for
    from station.config.profile_loader import load_profile
    from station.trays.device_import import LineResult, import_tray
    from station.trays.lists import EntryKind, read_tray
    from station.trays.reply_watch import ReplyWatch
    from station.trays.report_files import progress_path

    profile = load_profile(args.profile)
    if args.batch_size is not None and args.batch_size < 1:
        raise StationError(f"--batch-size {args.batch_size}: give at least 1 identifier per request")
    places = _report_places(args, profile, "import")
    tray = read_tray(args.file, platform=profile.platform,
                     accept=frozenset({EntryKind.DEVICE_ID, EntryKind.SERIAL}))
    watch = ReplyWatch()
    with cloud_for(profile, base_url=args.cloud_url, transport=watch) as cloud:
        report = import_tray(tray, cloud, profile.product_id, batch_size=args.batch_size or profile.cloud.batch_size,
                             state_path=progress_path(places[2], args.file, profile.product_id),
                             progress=_progress(args, "importing"), replies=watch)
    fine = (LineResult.ADDED, LineResult.EXISTING, LineResult.REPLY_LOST)
    return _finish(args, report, places, title="Tray", fine=fine, warnings=tray.warnings)


def run_import_sims(args: argparse.Namespace) -> int:
    from cloud_client.sims import DEFAULT_SIM_BATCH
    from station.config.cloud import cloud_for
    from station.config.profile_loader import load_profile
    from station.trays.sim_import import SimLineResult, import_sim_list, read_sim_list

    if args.batch_size is not None and args.batch_size < 1:
        raise StationError(f"--batch-size {args.batch_size}: give at least 1 ICCID per request")
    profile = load_profile(args.profile)
    if not profile.platform.is_cellular:
        raise StationError(f"product {profile.product_id} in {args.profile} is a {profile.platform.display_name} "
                           "product, which has no cellular modem; import SIM lists with a cellular product's profile")
    places = _report_places(args, profile, "sim-import")
    sims = read_sim_list(args.file)
    with cloud_for(profile, base_url=args.cloud_url) as cloud:
        report = import_sim_list(sims, cloud, profile.product_id, country=args.country,
                                 batch_size=args.batch_size or DEFAULT_SIM_BATCH,
                                 progress=_progress(args, "importing SIMs"))
    fine = (SimLineResult.ACTIVATED, SimLineResult.PENDING, SimLineResult.ALREADY_ACTIVE, SimLineResult.REPLY_LOST)
    return _finish(args, report, places, title="SIM list", fine=fine, warnings=sims.warnings)


def _journal_of(profile: StationProfile, *, must_exist: bool) -> Journal:
    from station.config.log_folder import log_folder_problem
    from station.records.database import JournalError
    from station.records.journal import JOURNAL_NAME, Journal

    path = profile.log_folder / JOURNAL_NAME
    hint = f"check station.log_folder in {profile.path}"
    if must_exist and not path.is_file():
        raise StationError(f"journal {path} does not exist; {hint}")
    problem = None if must_exist else log_folder_problem(profile.log_folder)
    if problem is not None:
        raise StationError(f"{problem}; {hint}")
    try:
        return Journal(path)
    except (OSError, JournalError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StationError(f"cannot open the journal {path}: {reason}; {hint}") from None


def run_attach(args: argparse.Namespace) -> int:
    from station.config.profile_loader import load_profile
    from station.trays.lists import EntryKind, read_tray
    from station.trays.reconcile import attach_tray

    profile = load_profile(args.profile)
    tray = read_tray(args.file, platform=profile.platform, accept=frozenset(EntryKind))
    with _journal_of(profile, must_exist=False) as journal:
        if journal.lot(args.lot) is None:
            journal.open_lot(args.lot, station=profile.station_name, product_id=profile.product_id,
                             profile=str(profile.path), operator=args.operator or getpass.getuser())
            print(f"Lot {args.lot} is new: created it in {journal.path}")
        attached = attach_tray(journal, args.lot, tray)
    kinds = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(attached.by_kind.items()))
    print(f"Attached {attached.entries} identifiers ({kinds}) from {args.file} to lot {args.lot}")
    for problem in tray.problems[:50]:
        print(f"  line {problem.line}: {problem.text!s:<26} not attached: {problem.reason}")
    if len(tray.problems) > 50:
        print(f"  ... {len(tray.problems) - 50} more problem lines")
    for warning in tray.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if tray.problems:
        print(f"particle-station: {len(tray.problems)} lines of {args.file} were not attached (listed above); fix "
              "them in the file and attach it again", file=sys.stderr)
        return 1
    return 0


def run_reconcile(args: argparse.Namespace) -> int:
    from station.config.profile_loader import load_profile
    from station.trays.reconcile import reconcile

    profile = load_profile(args.profile)
    with _journal_of(profile, must_exist=True) as journal:
        units = None
        if args.line:
            from station.line.lot_units import units_of_lot_on_line

            units = units_of_lot_on_line(journal, args.lot, profile)
        result = reconcile(journal, args.lot, units=units)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _print_reconciliation(result)
    if not result.complete:
        print(f"particle-station: lot {args.lot} and its tray lists differ (see the findings)", file=sys.stderr)
        return 1
    return 0


def _print_reconciliation(result: Reconciliation) -> None:
    from station.trays.reconcile import reconciliation_rows

    rows = reconciliation_rows(result)
    print(f"Lot {result.lot}; lists: {rows[1][1]}")
    if not result.sources:
        print("No tray list is attached to this lot: attach one with `particle-station tray attach FILE --lot ...`")
    counts_end = rows.index([], 3)
    for label, value in rows[4:counts_end]:
        print(f"  {label!s:<32} {value}")
    findings = [row for row in rows[counts_end + 2:] if row[0] != "on a list, provisioned"]
    if findings:
        print(f"  {'finding':<30} {'kind':<10} {'identifier':<26} {'units':<20} {'state':<14} where")
    for finding, kind, value, units, state, where in findings[:200]:
        print(f"  {finding!s:<30} {kind!s:<10} {value!s:<26} {units!s:<20} {state!s:<14} {where}".rstrip())
    if len(findings) > 200:
        print(f"  ... {len(findings) - 200} more; use --json for the full list")
    print("Lot and lists agree." if result.complete else "Lot and lists differ (exit code 1).")
