"""Bulk import of a tray list into a product: batched, resumable, with a per-line report (.xlsx / JSON).

A batch whose reply was lost (see ``station.trays.reply_watch``) is retried by the client; the retry finds what the
first try added already in the product. Those lines say so ("in the product (reply lost)"), never "already in the
product", which would claim they were there before the import.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from pathlib import Path

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError, RateLimitedError, UnavailableError
from cloud_client.models import ImportOutcome
from station.trays.import_progress import ImportProgress
from station.trays.lists import EntryKind, ProblemKind, TrayList
from station.trays.reply_watch import ReplyWatch
from station.trays.report import NOT_ATTEMPTED_REASON, LineReport, ReportLine, write_report_xlsx

__all__ = [
    "ImportProgressCallback",
    "ImportReport",
    "LineResult",
    "import_tray",
    "write_report_xlsx",
]

log = logging.getLogger(__name__)


class LineResult(enum.Enum):
    ADDED = "added"
    EXISTING = "already in the product"
    REPLY_LOST = "in the product (reply lost)"
    INVALID = "invalid"
    ROUNDED = "rounded by Excel"
    OWNED_ELSEWHERE = "owned elsewhere"
    OTHER_PLATFORM = "other platform"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"


_FROM_OUTCOME = {
    ImportOutcome.ADDED: (LineResult.ADDED, ""),
    ImportOutcome.EXISTING: (LineResult.EXISTING, ""),
    ImportOutcome.NON_MEMBER: (LineResult.OWNED_ELSEWHERE, "owned by another account; it cannot join the product"),
    ImportOutcome.INVALID: (
        LineResult.INVALID,
        "the cloud refused it: unknown, of another platform, or already in another product",
    ),
    ImportOutcome.PROTECTED: (LineResult.FAILED, "refused by Device Protection"),
    ImportOutcome.UNREPORTED: (LineResult.FAILED, "the cloud did not report on this identifier"),
}
_FROM_PROBLEM = {
    ProblemKind.INVALID: LineResult.INVALID,
    ProblemKind.WRONG_KIND: LineResult.INVALID,
    ProblemKind.ROUNDED: LineResult.ROUNDED,
    ProblemKind.DUPLICATE: LineResult.DUPLICATE,
    ProblemKind.OTHER_PLATFORM: LineResult.OTHER_PLATFORM,
}


class ImportReport(LineReport[LineResult]):
    """A tray list's import into a product: one line per input line."""

    results = LineResult


REPLY_LOST_REASON = ("the cloud's reply was lost and the import was sent again, which found it in the product: "
                     "added by this import, or there before it")
_EXISTING_OUTCOMES = {ImportOutcome.EXISTING.value}

ImportProgressCallback = Callable[[int, int], None]


def import_tray(
    tray: TrayList,
    cloud: ParticleCloud,
    product_id: int,
    *,
    batch_size: int = 100,
    state_path: Path | None = None,
    progress: ImportProgressCallback | None = None,
    replies: ReplyWatch | None = None,
) -> ImportReport:
    """Import every valid entry of ``tray`` in batches; resumable through ``state_path`` after an interruption.

    ``replies`` is the transport under ``cloud`` (``ParticleCloud(..., transport=replies)``): with it, lines whose
    batch lost its reply are reported as such; without it, the cloud's word is taken as it comes."""
    record = ImportProgress(state_path)
    try:
        requests, complete = _send(tray, cloud, product_id, record, batch_size, progress, replies)
    except BaseException:
        record.finish(complete=False)
        raise
    outcomes, reply_lost = record.outcomes, record.reply_lost
    serial_ids = _resolve_serials(tray, cloud, product_id, outcomes) if complete else {}
    lines: list[ReportLine[LineResult]] = []
    for entry in tray.entries:
        stored = outcomes.get(entry.value.lower())
        device_id = entry.value if entry.kind is EntryKind.DEVICE_ID else serial_ids.get(entry.value)
        if stored is None:
            lines.append(ReportLine(entry.line, entry.value, entry.kind.value, device_id, LineResult.NOT_ATTEMPTED,
                                    NOT_ATTEMPTED_REASON))
            continue
        outcome = ImportOutcome(stored)
        if outcome is ImportOutcome.UNREPORTED and device_id is not None:
            # The API answers a serial number with the device id it imported (docs.particle.io, 'Import devices into
            # product').
            outcome = ImportOutcome(outcomes.get(device_id, ImportOutcome.EXISTING.value))
        line_result, reason = _FROM_OUTCOME[outcome]
        if outcome is ImportOutcome.EXISTING and ({entry.value.lower(), device_id} & reply_lost):
            line_result, reason = LineResult.REPLY_LOST, REPLY_LOST_REASON
        lines.append(ReportLine(entry.line, entry.value, entry.kind.value, device_id, line_result, reason))
    for problem in tray.problems:
        lines.append(ReportLine(problem.line, problem.text, "", None, _FROM_PROBLEM[problem.kind], problem.reason))
    lines.sort(key=lambda line: line.line)
    record.finish(complete=complete)
    return ImportReport(str(tray.source), product_id, tuple(lines), requests, complete, tray.input_columns,
                        tray.input_rows)


def _send(
    tray: TrayList,
    cloud: ParticleCloud,
    product_id: int,
    record: ImportProgress,
    batch_size: int,
    progress: ImportProgressCallback | None,
    replies: ReplyWatch | None,
) -> tuple[int, bool]:
    """Send the ids ``record`` has no outcome for, in batches; (requests made, whether all were answered)."""
    values = [entry.value for entry in tray.entries]
    todo = [value for value in values if value.lower() not in record.outcomes]
    requests = 0
    done = len(values) - len(todo)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        lost_before = replies.unanswered("POST", "/devices") if replies is not None else 0
        record.sending(batch)
        try:
            result = cloud.import_devices(product_id, batch, batch_size=batch_size)
        except (UnavailableError, RateLimitedError) as exc:
            log.warning("tray import stopped after %d of %d identifiers: %s", done, len(values), exc)
            return requests, False
        lost = replies is not None and replies.unanswered("POST", "/devices") > lost_before
        requests += result.requests
        answered = {ident: outcome.value for ident, outcome in result.outcomes.items()}
        record.answered(answered, {ident for ident, outcome in answered.items() if outcome in _EXISTING_OUTCOMES
                                   and (lost or ident in record.unanswered)})
        done += len(batch)
        if progress is not None:
            progress(done, len(values))
    return requests, True


def _resolve_serials(
    tray: TrayList, cloud: ParticleCloud, product_id: int, outcomes: dict[str, str]
) -> dict[str, str]:
    """Device ids of imported serial numbers, from the product list filtered by serial (no special rate limit)."""
    found: dict[str, str] = {}
    for entry in tray.of_kind(EntryKind.SERIAL):
        outcome = ImportOutcome(outcomes.get(entry.value.lower(), ImportOutcome.INVALID.value))
        if not (outcome.in_product or outcome is ImportOutcome.UNREPORTED):
            continue
        try:
            device = cloud.find_device_by_serial(product_id, entry.value)
        except CloudError as exc:
            log.warning("could not look up the device id of serial %s: %s", entry.value, exc)
            continue
        if device is not None:
            found[entry.value] = device.id
    return found
