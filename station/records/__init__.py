"""Records of the line: the journal (system of record), the outbox of pending cloud work, and spreadsheets."""

from station.records.journal import Journal, LotRecord, OutboxItem, StepRecord, UnitRecord, UnitState

__all__ = ["Journal", "LotRecord", "OutboxItem", "StepRecord", "UnitRecord", "UnitState"]
