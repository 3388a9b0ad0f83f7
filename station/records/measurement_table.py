"""The measurements table: every measurement of every attempt of every unit's tests, with its limits and outcome.

One row per measurement, its columns those Google's MfgEvent measurement maps onto a table (name, status, numeric
value, minimum, maximum, marginal minimum and maximum, text value, unit): a number goes to ``value_num``, any other
value to ``value_text`` (a text as it is; true/false or a list as JSON; a whole number also as its digits, so it
reads back as the device sent it), so statistics read numbers without parsing.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.records.database import JournalDatabase


class MeasurementOutcome(enum.StrEnum):
    """OpenHTF's measurement outcomes (openhtf/core/measurements.py): UNSET = never measured (no reply)."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNSET = "UNSET"


@dataclass(frozen=True)
class MeasurementRow:
    """A measurement to journal (what the test stage judged)."""

    test: str
    name: str
    value: Any
    units: str | None
    lower: float | None
    upper: float | None
    marginal_lower: float | None
    marginal_upper: float | None
    validator: str
    outcome: MeasurementOutcome
    marginal: bool
    started_at: float
    duration_s: float


@dataclass(frozen=True)
class MeasurementRecord:
    id: int
    unit_id: int
    attempt: int
    test: str
    name: str
    value_num: float | None
    value_text: str | None
    units: str | None
    lower: float | None
    upper: float | None
    marginal_lower: float | None
    marginal_upper: float | None
    validator: str | None
    outcome: MeasurementOutcome
    marginal: bool
    started_at: float
    duration_s: float | None

    @property
    def value(self) -> Any:
        """The measured value as the device gave it (None when it was never measured)."""
        if self.value_num is not None:
            if self.value_text is not None and self.value_text.lstrip("-").isdigit():
                return int(self.value_text)  # a whole number as the device sent it (-71, not -71.0)
            return self.value_num
        text = self.value_text
        if text is None:
            return None
        if text[:1] in ("[", "{") or text in ("true", "false"):  # written as JSON by _columns
            try:
                return json.loads(text)
            except ValueError:
                pass
        return text

    @property
    def value_shown(self) -> str:
        """The value for a cell or a screen."""
        value = self.value
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, float):
            return f"{value:g}"
        return json.dumps(value)


class MeasurementTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def record(self, unit_id: int, attempt: int, rows: Sequence[MeasurementRow]) -> None:
        """Journal one test's measurements in one transaction: durable before the stage moves on."""
        if not rows:
            return
        with self.db.transaction() as db:
            db.executemany(
                "INSERT INTO measurements (unit_id, attempt, test, name, value_num, value_text, units, lower, upper, "
                "marginal_lower, marginal_upper, validator, outcome, marginal, started_at, duration_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(unit_id, attempt, r.test, r.name, *_columns(r.value), r.units, r.lower, r.upper, r.marginal_lower,
                  r.marginal_upper, r.validator, r.outcome.value, int(r.marginal), r.started_at, r.duration_s)
                 for r in rows],
            )

    def of_unit(self, unit_id: int, attempt: int | None = None) -> list[MeasurementRecord]:
        """A unit's measurements (of one attempt, or of every attempt), in the order they were taken."""
        if attempt is None:
            rows = self.db.query("SELECT * FROM measurements WHERE unit_id = ? ORDER BY id", (unit_id,))
        else:
            rows = self.db.query("SELECT * FROM measurements WHERE unit_id = ? AND attempt = ? ORDER BY id",
                                 (unit_id, attempt))
        return [_record(r) for r in rows]

    def of_lot(self, lot: str) -> list[MeasurementRecord]:
        """Every measurement of a lot's units, every attempt, in the order they were taken."""
        rows = self.db.query(
            "SELECT m.* FROM measurements m JOIN units u ON u.id = m.unit_id WHERE u.lot = ? ORDER BY m.id", (lot,)
        )
        return [_record(r) for r in rows]


def _columns(value: Any) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value), str(value)
    if isinstance(value, float):
        return value, None
    if isinstance(value, str):
        return None, value
    return None, json.dumps(value, default=str)


def _record(row: Any) -> MeasurementRecord:
    data = dict(row)
    data["outcome"] = MeasurementOutcome(data["outcome"])
    data["marginal"] = bool(data["marginal"])
    return MeasurementRecord(**data)
