"""SIM lists (the .txt/.csv of a SIM-card pack, or scanned ICCIDs) imported into the product and activated, with a
per-line report shaped like the device tray import's.

Every ICCID is checked before any call (``station.trays.lists``). Then each one is asked about with
``HEAD /v1/sims/:iccid`` (docs.particle.io, 'Import and activate product SIMs'); the ones ready to activate are
imported in one call, and each SIM's
state is read back. The API only queues an activation, so "activation pending" is a normal result, not a failure.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from cloud_client.client import ParticleCloud
from cloud_client.errors import ForbiddenError, NotFoundError, RateLimitedError, UnavailableError
from cloud_client.models import SimCheck
from cloud_client.sims import DEFAULT_SIM_BATCH
from station.trays.lists import EntryKind, ProblemKind, TrayEntry, TrayList, TrayProblem, classify, read_tray
from station.trays.report import NOT_ATTEMPTED_REASON, LineReport, ReportLine, write_report_xlsx

log = logging.getLogger(__name__)

ICCID_ONLY = frozenset({EntryKind.ICCID})
_OUTAGE = (UnavailableError, RateLimitedError)


class SimLineResult(enum.Enum):
    ACTIVATED = "activated"
    PENDING = "activation pending"
    ALREADY_ACTIVE = "already active in this product"
    OWNED_ELSEWHERE = "owned elsewhere"
    UNKNOWN = "unknown"
    INVALID = "invalid"
    ROUNDED = "rounded by Excel"
    DUPLICATE = "duplicate"
    NOT_ATTEMPTED = "not attempted"


_REASONS = {
    SimLineResult.PENDING: "imported; Particle finishes the activation by itself, nothing more to do",
    SimLineResult.UNKNOWN: "Particle does not know this ICCID; check it against the SIM card, or ask Particle",
    SimLineResult.NOT_ATTEMPTED: NOT_ATTEMPTED_REASON,
}
_FROM_PROBLEM = {
    ProblemKind.INVALID: SimLineResult.INVALID,
    ProblemKind.WRONG_KIND: SimLineResult.INVALID,
    ProblemKind.ROUNDED: SimLineResult.ROUNDED,
    ProblemKind.OTHER_PLATFORM: SimLineResult.INVALID,
    ProblemKind.DUPLICATE: SimLineResult.DUPLICATE,
}


class SimImportReport(LineReport[SimLineResult]):
    """A SIM list's import into a product: one line per input line; ``device_id`` is the device the SIM is in, when
    the cloud knows it. Re-running an incomplete import is safe."""

    results = SimLineResult


SimProgressCallback = Callable[[int, int], None]
"""Called after each ICCID is checked with (checked, total)."""


def read_sim_list(path: str | Path) -> TrayList:
    """A SIM list file: ICCIDs only; anything else is a line-numbered problem (raises TrayError if unreadable)."""
    return read_tray(path, accept=ICCID_ONLY)


def scanned_sim_list(scans: Iterable[str], source: str = "scanned ICCIDs") -> TrayList:
    """ICCIDs scanned one by one, numbered in scan order and checked as a SIM list file's lines are."""
    entries: list[TrayEntry] = []
    problems: list[TrayProblem] = []
    first_scan: dict[str, int] = {}
    for number, text in enumerate(scans, start=1):
        result = classify(text)
        if isinstance(result, str):
            problems.append(TrayProblem(number, text, ProblemKind.INVALID, result))
        elif result.kind is not EntryKind.ICCID:
            problems.append(TrayProblem(number, text, ProblemKind.WRONG_KIND,
                                        f"is a {result.kind.value}, not an ICCID"))
        elif result.value in first_scan:
            problems.append(TrayProblem(number, text, ProblemKind.DUPLICATE,
                                        f"duplicate of scan {first_scan[result.value]}"))
        else:
            first_scan[result.value] = number
            entries.append(TrayEntry(number, EntryKind.ICCID, result.value))
    return TrayList(Path(source), tuple(entries), tuple(problems))


class _Run:
    """One import: what each ICCID came to, and how many API calls it took."""

    def __init__(self, cloud: ParticleCloud, product_id: int) -> None:
        self.cloud = cloud
        self.product_id = product_id
        self.results: dict[str, tuple[SimLineResult, str, str | None]] = {}
        self.requests = 0
        self.complete = True

    def check(self, iccid: str) -> SimCheck | None:
        """``HEAD`` the SIM; None (and the run incomplete) when the cloud is unreachable."""
        self.requests += 1
        try:
            return self.cloud.check_sim(iccid)
        except _OUTAGE as exc:
            log.warning("SIM import into product %s stopped at ICCID %s: %s", self.product_id, iccid, exc)
            self.complete = False
            return None

    def sort(self, iccid: str, check: SimCheck) -> bool:
        """Record what the check settles; True when the SIM should be imported."""
        if check is SimCheck.UNKNOWN:
            self.results[iccid] = (SimLineResult.UNKNOWN, _REASONS[SimLineResult.UNKNOWN], None)
        elif check is SimCheck.OWNED_ELSEWHERE:
            self.results[iccid] = (SimLineResult.OWNED_ELSEWHERE, "owned by another Particle account; ask its owner "
                                   "to release it, or use another SIM", None)
        elif check.is_active:
            return self.read_back(iccid, SimLineResult.ALREADY_ACTIVE, import_if_missing=True)
        else:
            return True
        return False

    def read_back(self, iccid: str, active: SimLineResult, *, import_if_missing: bool = False) -> bool:
        """Read the SIM as a SIM of this product; True when it turns out not to be known here and needs importing."""
        self.requests += 1
        try:
            sim = self.cloud.get_sim(iccid, product=self.product_id)
        except ForbiddenError:
            self.results[iccid] = (SimLineResult.OWNED_ELSEWHERE, f"active, but not in product {self.product_id} "
                                   "(in another product or a developer account); release it there first", None)
            return False
        except NotFoundError:
            if import_if_missing:
                return True
            self.results[iccid] = (SimLineResult.UNKNOWN, "the import was accepted but the cloud does not know this "
                                   "SIM; check the ICCID against the card", None)
            return False
        except _OUTAGE:
            # The import was accepted; only its state is unknown for now.
            self.results[iccid] = (SimLineResult.PENDING, "imported; its state could not be read (cloud "
                                   "unreachable); it finishes by itself", None)
            return False
        if sim.is_active and not sim.is_pending:
            self.results[iccid] = (active, "", sim.last_device_id)
        else:
            self.results[iccid] = (SimLineResult.PENDING, _REASONS[SimLineResult.PENDING], sim.last_device_id)
        return False


def import_sim_list(
    sims: TrayList,
    cloud: ParticleCloud,
    product_id: int,
    *,
    country: str | None = None,
    progress: SimProgressCallback | None = None,
) -> SimImportReport:
    """Check, import and activate the ICCIDs of ``sims``; one report line per input line. Safe to run again."""
    run = _Run(cloud, product_id)
    iccids = [entry.value for entry in sims.of_kind(EntryKind.ICCID)]
    to_import: list[str] = []
    for done, iccid in enumerate(iccids, start=1):
        check = run.check(iccid)
        if check is None:
            break
        if run.sort(iccid, check):
            to_import.append(iccid)
        if progress is not None:
            progress(done, len(iccids))
    if to_import and run.complete:
        try:
            cloud.import_sims(product_id, to_import, country=country)
            run.requests += -(-len(to_import) // DEFAULT_SIM_BATCH)
        except _OUTAGE as exc:
            log.warning("SIM import into product %s: the import call failed: %s", product_id, exc)
            run.complete = False
        else:
            log.info("SIM import into product %s: %d SIMs sent for activation", product_id, len(to_import))
            for iccid in to_import:
                run.read_back(iccid, SimLineResult.ACTIVATED)
    lines = [_line(entry, run.results.get(entry.value)) for entry in sims.entries]
    lines += [ReportLine(p.line, p.text, "", None, _FROM_PROBLEM[p.kind], p.reason) for p in sims.problems]
    lines.sort(key=lambda line: line.line)
    return SimImportReport(str(sims.source), product_id, tuple(lines), run.requests, run.complete)


def _line(entry: TrayEntry, result: tuple[SimLineResult, str, str | None] | None) -> ReportLine[SimLineResult]:
    if result is None:
        return ReportLine(entry.line, entry.value, entry.kind.value, None, SimLineResult.NOT_ATTEMPTED,
                          _REASONS[SimLineResult.NOT_ATTEMPTED])
    outcome, reason, device_id = result
    return ReportLine(entry.line, entry.value, entry.kind.value, device_id, outcome, reason)


def write_sim_report_xlsx(report: SimImportReport, path: Path) -> Path:
    """The per-line report as a workbook, laid out as the device tray import's."""
    return write_report_xlsx(report, path)
