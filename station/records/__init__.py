"""Records of the line: the journal (system of record: lots, units, steps, the outbox of pending cloud work, tray
lists), and the workbooks built from it."""

from station.records.journal import Journal
from station.records.lot_table import LotRecord
from station.records.outbox_table import OutboxItem
from station.records.step_table import StepRecord
from station.records.unit_table import UnitRecord, UnitState

__all__ = ["Journal", "LotRecord", "OutboxItem", "StepRecord", "UnitRecord", "UnitState"]
