"""The per-line report of a bulk import into a product (a tray list or a SIM list): lines, summary, JSON and .xlsx.

Both imports report one line per input line with the same fields; only their result enums differ, so each import
subclasses ``LineReport`` with its enum, and ``write_report_xlsx`` takes anything shaped like a report.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from station.files import write_atomically

ResultT = TypeVar("ResultT", bound=enum.Enum)

NOT_ATTEMPTED_REASON = "the cloud was unreachable; run the import again to finish"
"""Why a line was not attempted: the import stopped when the cloud became unreachable."""


@dataclass(frozen=True)
class ReportLine(Generic[ResultT]):
    """One input line and what the import made of it (``kind`` is empty for a line that is not an identifier)."""

    line: int
    text: str
    kind: str
    device_id: str | None
    result: ResultT
    reason: str = ""


@dataclass(frozen=True)
class LineReport(Generic[ResultT]):
    """One import's report; a subclass names its result enum in ``results`` (the order of the summary)."""

    results: ClassVar[type[enum.Enum]]
    source: str
    product_id: int
    lines: tuple[ReportLine[ResultT], ...]
    requests: int
    complete: bool
    """False when the cloud became unreachable: re-run the same import to finish it."""

    def count(self, result: ResultT) -> int:
        return sum(1 for line in self.lines if line.result is result)

    def summary(self) -> dict[str, int]:
        """Lines per result value, in the enum's order, leaving out results no line has."""
        counts: Counter[enum.Enum] = Counter(line.result for line in self.lines)
        return {result.value: counts[result] for result in self.results if counts[result]}

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "product_id": self.product_id,
            "complete": self.complete,
            "requests": self.requests,
            "summary": self.summary(),
            "lines": [{**asdict(line), "result": line.result.value} for line in self.lines],
        }


class ReportRow(Protocol):
    """What the workbook writer reads of a report line."""

    @property
    def line(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def device_id(self) -> str | None: ...
    @property
    def result(self) -> enum.Enum: ...
    @property
    def reason(self) -> str: ...


class TabularReport(Protocol):
    """What the workbook writer reads of a report."""

    @property
    def source(self) -> str: ...
    @property
    def product_id(self) -> int: ...
    @property
    def complete(self) -> bool: ...
    @property
    def lines(self) -> Sequence[ReportRow]: ...
    def summary(self) -> dict[str, int]: ...


def write_report_xlsx(report: TabularReport, path: Path) -> Path:
    """The per-line report as a workbook, written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from station.records.cells import safe_row

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Import"
    sheet.append(["Line", "Input", "Kind", "Device ID", "Result", "Reason"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in report.lines:
        # Tray files come from outside: a line like "=HYPERLINK(...)" must stay text.
        sheet.append(safe_row(sheet, [line.line, line.text, line.kind, line.device_id or "", line.result.value,
                                      line.reason]))
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEF", (6, 28, 14, 28, 24, 70), strict=True):
        sheet.column_dimensions[column].width = width
    summary = workbook.create_sheet("Summary")
    summary.append(safe_row(summary, ["Tray file", report.source]))
    summary.append(["Product", report.product_id])
    summary.append(["Complete", "yes" if report.complete else "no: run the import again to finish"])
    summary.append([])
    for result, count in report.summary().items():
        summary.append([result, count])
    write_atomically(path, workbook.save)
    return path
