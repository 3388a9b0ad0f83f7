"""Bulk import of a tray list into a product: batched, resumable, with a per-line report (.xlsx / JSON)."""

from __future__ import annotations

import enum
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError, RateLimitedError, UnavailableError
from cloud_client.models import ImportOutcome
from station.tray import EntryKind, ProblemKind, TrayList

log = logging.getLogger(__name__)


class LineResult(enum.Enum):
    ADDED = "added"
    EXISTING = "already in the product"
    INVALID = "invalid"
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
    ProblemKind.DUPLICATE: LineResult.DUPLICATE,
    ProblemKind.OTHER_PLATFORM: LineResult.OTHER_PLATFORM,
}


@dataclass(frozen=True)
class ReportLine:
    line: int
    text: str
    kind: str
    device_id: str | None
    result: LineResult
    reason: str = ""


@dataclass(frozen=True)
class ImportReport:
    source: str
    product_id: int
    lines: tuple[ReportLine, ...]
    requests: int
    complete: bool
    """False when the cloud became unreachable: re-run the same import to finish it."""

    def count(self, result: LineResult) -> int:
        return sum(1 for line in self.lines if line.result is result)

    def summary(self) -> dict[str, int]:
        return {result.value: self.count(result) for result in LineResult if self.count(result)}

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "product_id": self.product_id,
            "complete": self.complete,
            "requests": self.requests,
            "summary": self.summary(),
            "lines": [{**asdict(line), "result": line.result.value} for line in self.lines],
        }


ImportProgressCallback = Callable[[int, int], None]


def _load_state(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return {str(k): str(v) for k, v in data.get("outcomes", {}).items()}
    except (OSError, ValueError, AttributeError):
        log.warning("import progress file %s is unreadable; starting the import from the beginning", path)
        return {}


def _save_state(path: Path | None, outcomes: dict[str, str]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump({"outcomes": outcomes}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def import_tray(
    tray: TrayList,
    cloud: ParticleCloud,
    product_id: int,
    *,
    batch_size: int = 100,
    state_path: Path | None = None,
    progress: ImportProgressCallback | None = None,
) -> ImportReport:
    """Import every valid entry of ``tray`` in batches; resumable through ``state_path`` after an interruption."""
    outcomes = _load_state(state_path)
    values = [entry.value for entry in tray.entries]
    todo = [value for value in values if value.lower() not in outcomes]
    requests = 0
    complete = True
    done = len(values) - len(todo)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        try:
            result = cloud.import_devices(product_id, batch, batch_size=batch_size)
        except (UnavailableError, RateLimitedError) as exc:
            log.warning("tray import stopped after %d of %d identifiers: %s", done, len(values), exc)
            complete = False
            break
        requests += result.requests
        for ident, outcome in result.outcomes.items():
            outcomes[ident] = outcome.value
        _save_state(state_path, outcomes)
        done += len(batch)
        if progress is not None:
            progress(done, len(values))

    serial_ids = _resolve_serials(tray, cloud, product_id, outcomes) if complete else {}
    lines: list[ReportLine] = []
    for entry in tray.entries:
        stored = outcomes.get(entry.value.lower())
        device_id = entry.value if entry.kind is EntryKind.DEVICE_ID else serial_ids.get(entry.value)
        if stored is None:
            lines.append(ReportLine(entry.line, entry.value, entry.kind.value, device_id, LineResult.NOT_ATTEMPTED,
                                    "the cloud was unreachable; run the import again to finish"))
            continue
        outcome = ImportOutcome(stored)
        if outcome is ImportOutcome.UNREPORTED and device_id is not None:
            # The API answers a serial number with the device id it imported (reference §11.2).
            outcome = ImportOutcome(outcomes.get(device_id, ImportOutcome.EXISTING.value))
        line_result, reason = _FROM_OUTCOME[outcome]
        lines.append(ReportLine(entry.line, entry.value, entry.kind.value, device_id, line_result, reason))
    for problem in tray.problems:
        lines.append(ReportLine(problem.line, problem.text, "", None, _FROM_PROBLEM[problem.kind], problem.reason))
    lines.sort(key=lambda line: line.line)
    if complete and state_path is not None and state_path.exists():
        state_path.unlink()
    return ImportReport(str(tray.source), product_id, tuple(lines), requests, complete)


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


def write_report_xlsx(report: ImportReport, path: Path) -> Path:
    """The per-line report as a workbook (written to a temporary file, then renamed into place)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from station.records.spreadsheet import is_formula_like, neutralise

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Import"
    sheet.append(["Line", "Input", "Kind", "Device ID", "Result", "Reason"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in report.lines:
        sheet.append([line.line, neutralise(line.text), line.kind, line.device_id or "", line.result.value,
                      neutralise(line.reason)])
        for cell in sheet[sheet.max_row][1:]:
            if isinstance(cell.value, str) and is_formula_like(cell.value):
                # Tray files come from outside: a line like "=HYPERLINK(...)" must stay text.
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEF", (6, 28, 14, 28, 24, 70), strict=True):
        sheet.column_dimensions[column].width = width
    summary = workbook.create_sheet("Summary")
    summary.append(["Tray file", report.source])
    summary.append(["Product", report.product_id])
    summary.append(["Complete", "yes" if report.complete else "no: run the import again to finish"])
    summary.append([])
    for result, count in report.summary().items():
        summary.append([result, count])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".xlsx.tmp")
    os.close(fd)
    try:
        workbook.save(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return path
