"""The per-line report of a bulk import into a product (a tray list or a SIM list): lines, summary, JSON and .xlsx.

Both imports report one line per input line with the same fields; only their result enums differ, so each import
subclasses ``LineReport`` with its enum, and ``write_report`` takes anything shaped like a report. A report is a
workbook (.xlsx) or JSON (.json), as its name says; ``check_report_path`` refuses any other name before an import
starts. The workbook is written straight as SpreadsheetML (``station.trays.report_xlsx``): rows stream out once, so
10,000 lines take a fraction of a second (an openpyxl worksheet looked up its last row for every appended row).
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from station.errors import StationError
from station.files import write_atomically, write_text_atomically

ResultT = TypeVar("ResultT", bound=enum.Enum)

NOT_ATTEMPTED_REASON = "the cloud was unreachable; run the import again to finish"
"""Why a line was not attempted: the import stopped when the cloud became unreachable."""
REPORT_SUFFIXES = (".xlsx", ".json")


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
    input_columns: tuple[str, ...] = ()
    """The input table's columns (a CSV or workbook tray), kept in the workbook report beside the results."""
    input_rows: dict[int, tuple[str, ...]] = field(default_factory=dict, compare=False)
    """Line or row number -> the input row's cells."""

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
            # Field by field: dataclasses.asdict deep-copies every line (a second of CPU for 10,000 lines).
            "lines": [{"line": line.line, "text": line.text, "kind": line.kind, "device_id": line.device_id,
                       "result": line.result.value, "reason": line.reason} for line in self.lines],
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
    @property
    def input_columns(self) -> tuple[str, ...]: ...
    @property
    def input_rows(self) -> dict[int, tuple[str, ...]]: ...
    def summary(self) -> dict[str, int]: ...
    def to_json(self) -> dict[str, object]: ...


def check_report_path(path: Path) -> None:
    """Refuse a report name the station cannot write (before the import starts, so nothing is done for nothing)."""
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise StationError(f"report {path}: name it .xlsx (a workbook) or .json; the station cannot write "
                           f"{path.suffix or 'a file without an extension'}")
    if path.is_dir():
        raise StationError(f"report {path} is a folder; give a file name ending .xlsx or .json")


def write_report(report: TabularReport, path: Path) -> Path:
    """The report as its name says: a workbook (.xlsx) or JSON (.json), written atomically; raises OSError."""
    check_report_path(path)
    if path.suffix.lower() == ".json":
        write_text_atomically(path, json.dumps(report.to_json(), indent=2) + "\n")
        return path
    return write_report_xlsx(report, path)


def write_report_xlsx(report: TabularReport, path: Path) -> Path:
    """The per-line report as a workbook, written atomically ("Import": one row per line, then every column of the
    input table as it was, so nothing the tray held (serial numbers, notes) is lost; "Summary")."""
    from station.trays.report_xlsx import PlainSheet, write_plain_workbook

    columns = ("Line", "Input", "Kind", "Device ID", "Result", "Reason")
    taken = {name.lower() for name in columns}
    kept = tuple(f"Tray: {name}" if name.lower() in taken else name for name in report.input_columns)
    empty: tuple[str, ...] = ()
    lines = PlainSheet(
        "Import",
        (6, 28, 14, 28, 24, 70, *(20 for _ in kept)),
        [
            (*columns, *kept),
            *((line.line, line.text, line.kind, line.device_id, line.result.value, line.reason,
               *report.input_rows.get(line.line, empty)) for line in report.lines),
        ],
        header=True,
    )
    summary = PlainSheet(
        "Summary",
        (32, 60),
        [
            ("Tray file", report.source),
            ("Product", report.product_id),
            ("Complete", "yes" if report.complete else "no: run the import again to finish"),
            (),
            *report.summary().items(),
        ],
    )
    write_atomically(path, lambda stream: write_plain_workbook(stream, [lines, summary]))
    return path
