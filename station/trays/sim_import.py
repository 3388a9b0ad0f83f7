"""SIM lists (the .txt/.csv of a SIM-card pack, or scanned ICCIDs) imported into the product and activated, with a
per-line report shaped like the device tray import's.

Every ICCID is checked before any call (``station.trays.lists``). The product's SIM list is read for all of them at
once; the ones not yet in the product are imported many per request (``POST /v1/products/:p/sims`` takes a list,
docs.particle.io 'Import and activate product SIMs'), and the list read afterwards says which came in. Only the few the
import did not bring in are asked about one by one (``HEAD /v1/sims/:iccid``: owned elsewhere or unknown). A batch
whose reply is lost is not sent again blindly: the list says which of its ICCIDs are in ("reply lost"), and only the
others are sent again. The API only queues an activation, so "activation pending" is a normal result, not a failure.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from cloud_client.client import ParticleCloud
from cloud_client.errors import RateLimitedError, UnavailableError
from cloud_client.models import Sim, SimCheck
from cloud_client.sims import DEFAULT_SIM_BATCH
from hardware.identifiers import luhn_ok
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
    BAD_CHECK_DIGIT = "invalid (check digit)"
    ROUNDED = "rounded by Excel"
    DUPLICATE = "duplicate"
    REPLY_LOST = "in the product (reply lost)"
    NOT_ATTEMPTED = "not attempted"


_REASONS = {
    SimLineResult.PENDING: "imported; Particle finishes the activation by itself, nothing more to do",
    SimLineResult.UNKNOWN: "Particle does not know this ICCID; check it against the SIM card, or ask Particle",
    SimLineResult.BAD_CHECK_DIGIT: ("Particle does not know this ICCID, and its last digit is not the check digit of "
                                    "the others (ITU-T E.118, Luhn): a digit was mistyped or misread; check it against "
                                    "the SIM card"),
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
"""Called after each batch is sent with (ICCIDs done, total)."""
REPLY_LOST_REASON = ("the cloud's reply to its batch was lost; the product's SIM list, read before and after, shows "
                     "this import brought it in; it was not sent again")
UNCONFIRMED_REASON = ("sent, but the cloud did not answer and its SIM list could not be read; run the import again: "
                      "SIMs already in the product are not imported twice")


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


SEND_ATTEMPTS = 3
"""How many times one batch is sent while the cloud keeps failing it; only ICCIDs still not in the product are sent
again, so nothing is imported twice."""


class _Run:
    """One import: what each ICCID came to, and how many API calls it took."""

    def __init__(self, cloud: ParticleCloud, product_id: int) -> None:
        self.cloud = cloud
        self.product_id = product_id
        self.results: dict[str, tuple[SimLineResult, str, str | None]] = {}
        self.requests = 0
        self.complete = True
        self.reply_lost: set[str] = set()
        self.chained = cloud.on_request

    def in_product(self, iccids: list[str]) -> dict[str, Sim] | None:
        """The ICCIDs' SIMs in the product now, from its SIM list (many at once); None when the cloud is unreachable."""
        if not iccids:
            return {}
        try:
            return self.cloud.sims_in_product(self.product_id, iccids)
        except _OUTAGE as exc:
            log.warning("SIM import into product %s: its SIM list could not be read: %s", self.product_id, exc)
            self.complete = False
            return None

    def counted(self) -> None:
        """The client's ``on_request`` hook while the import runs: every HTTP request it sends, retries included."""
        self.requests += 1
        if self.chained is not None:
            self.chained()

    def settle(self, sim: Sim, active: SimLineResult) -> None:
        """Record a SIM found in the product."""
        if sim.iccid in self.reply_lost:
            self.results[sim.iccid] = (SimLineResult.REPLY_LOST, REPLY_LOST_REASON, sim.last_device_id)
        elif sim.is_active and not sim.is_pending:
            self.results[sim.iccid] = (active, "", sim.last_device_id)
        else:
            self.results[sim.iccid] = (SimLineResult.PENDING, _REASONS[SimLineResult.PENDING], sim.last_device_id)

    def send(self, batch: list[str], country: str | None) -> list[str] | None:
        """Import one batch; the ICCIDs whose outcome is still open (to read back), or None when the cloud is down.

        The batch is sent without the client's own retries: a reply lost after the cloud carried the import out must
        not send it again blindly. The product's SIM list then tells which ICCIDs are in (reported "reply lost"); of
        the others, only those the cloud still calls ready to import are sent again (owned elsewhere and unknown are
        reported)."""
        todo = list(batch)
        for _ in range(SEND_ATTEMPTS):
            try:
                with self.cloud.retries_at_most(0):
                    self.cloud.import_sims(self.product_id, todo, country=country, batch_size=len(todo))
                return [iccid for iccid in batch if iccid not in self.results]
            except _OUTAGE as exc:
                log.warning("SIM import into product %s: a batch of %d got no reply: %s", self.product_id, len(todo),
                            exc)
            found = self.in_product(todo)
            if found is None:
                for iccid in todo:
                    self.results[iccid] = (SimLineResult.NOT_ATTEMPTED, UNCONFIRMED_REASON, None)
                return None
            for sim in found.values():
                self.reply_lost.add(sim.iccid)
                self.settle(sim, SimLineResult.ACTIVATED)
            todo = [iccid for iccid in todo if iccid not in found and self.classify_missing(iccid, resend=True)]
            if not todo:
                return [iccid for iccid in batch if iccid not in self.results]
        self.complete = False
        for iccid in todo:
            self.results[iccid] = (SimLineResult.NOT_ATTEMPTED, UNCONFIRMED_REASON, None)
        return None

    def classify_missing(self, iccid: str, *, resend: bool = False) -> bool:
        """An ICCID the import did not bring into the product: ask the cloud why (``HEAD /v1/sims/:iccid``) and
        record it. With ``resend``, a SIM still ready to import is not recorded: True, send it (again)."""
        try:
            check = self.cloud.check_sim(iccid)
        except _OUTAGE:
            self.complete = False
            self.results[iccid] = (SimLineResult.NOT_ATTEMPTED, UNCONFIRMED_REASON, None)
            return False
        if check is SimCheck.UNKNOWN:
            # A wrong check digit is the likelier story than a SIM Particle never heard of: say so.
            unknown = SimLineResult.UNKNOWN if luhn_ok(iccid) else SimLineResult.BAD_CHECK_DIGIT
            self.results[iccid] = (unknown, _REASONS[unknown], None)
        elif check is SimCheck.OWNED_ELSEWHERE:
            self.results[iccid] = (SimLineResult.OWNED_ELSEWHERE, "owned by another Particle account; ask its owner "
                                   "to release it, or use another SIM", None)
        elif check.is_active:
            self.results[iccid] = (SimLineResult.OWNED_ELSEWHERE, f"active, but not in product {self.product_id} "
                                   "(in another product or a developer account); release it there first", None)
        elif resend:
            return True
        else:
            self.results[iccid] = (SimLineResult.UNKNOWN, "the import was sent but the SIM is not in the product; "
                                   "check the ICCID against the card, then import it again", None)
        return False


def import_sim_list(
    sims: TrayList,
    cloud: ParticleCloud,
    product_id: int,
    *,
    country: str | None = None,
    batch_size: int = DEFAULT_SIM_BATCH,
    progress: SimProgressCallback | None = None,
) -> SimImportReport:
    """Import and activate the ICCIDs of ``sims`` in batches; one report line per input line. Safe to run again.

    The product's SIM list is read first (for many SIMs at once): SIMs already in the product are not imported again.
    The rest go out ``batch_size`` ICCIDs per request; the list read afterwards says which came in. Only the ICCIDs
    the import did not bring in are asked about one by one (owned elsewhere, unknown)."""
    run = _Run(cloud, product_id)
    cloud.on_request = run.counted
    try:
        _import(run, [entry.value for entry in sims.of_kind(EntryKind.ICCID)], country, batch_size, progress)
    finally:
        cloud.on_request = run.chained
    lines = [_line(entry, run.results.get(entry.value)) for entry in sims.entries]
    lines += [ReportLine(p.line, p.text, "", None, _FROM_PROBLEM[p.kind], p.reason) for p in sims.problems]
    lines.sort(key=lambda line: line.line)
    return SimImportReport(str(sims.source), product_id, tuple(lines), run.requests, run.complete,
                           sims.input_columns, sims.input_rows)


def _import(
    run: _Run, iccids: list[str], country: str | None, batch_size: int, progress: SimProgressCallback | None
) -> None:
    there = run.in_product(iccids)
    if there is not None:
        for sim in there.values():
            run.settle(sim, SimLineResult.ALREADY_ACTIVE)
        to_import = [iccid for iccid in iccids if iccid not in there]
        sent: list[str] = []
        done = len(iccids) - len(to_import)
        for start in range(0, len(to_import), batch_size):
            batch = to_import[start : start + batch_size]
            open_ = run.send(batch, country)
            if open_ is None:
                break
            sent += open_
            done += len(batch)
            if progress is not None:
                progress(done, len(iccids))
        if sent:
            log.info("SIM import into product %s: %d SIMs sent for activation", run.product_id, len(sent))
            found = run.in_product(sent)
            for iccid in sent:
                if found is None:
                    run.results[iccid] = (SimLineResult.PENDING, "imported; its state could not be read (cloud "
                                          "unreachable); it finishes by itself", None)
                elif iccid in found:
                    run.settle(found[iccid], SimLineResult.ACTIVATED)
                else:
                    run.classify_missing(iccid)


def _line(entry: TrayEntry, result: tuple[SimLineResult, str, str | None] | None) -> ReportLine[SimLineResult]:
    if result is None:
        return ReportLine(entry.line, entry.value, entry.kind.value, None, SimLineResult.NOT_ATTEMPTED,
                          _REASONS[SimLineResult.NOT_ATTEMPTED])
    outcome, reason, device_id = result
    return ReportLine(entry.line, entry.value, entry.kind.value, device_id, outcome, reason)


def write_sim_report_xlsx(report: SimImportReport, path: Path) -> Path:
    """The per-line report as a workbook, laid out as the device tray import's."""
    return write_report_xlsx(report, path)
