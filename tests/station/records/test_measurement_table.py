"""The journal keeps every measurement of every attempt, with its limits and outcome."""

from __future__ import annotations

from pathlib import Path

from station.records.journal import Journal
from station.records.measurement_table import MeasurementOutcome, MeasurementRow


def row(name: str, value: object, outcome: MeasurementOutcome = MeasurementOutcome.PASS, *,
        marginal: bool = False) -> MeasurementRow:
    return MeasurementRow(test="battery", name=name, value=value, units="V", lower=3.6, upper=4.3,
                          marginal_lower=3.7, marginal_upper=None, validator="3.6 <= Marginal:3.7 <= x <= 4.3",
                          outcome=outcome, marginal=marginal, started_at=1000.0, duration_s=0.25)


def test_measurements_of_each_attempt_survive_reopening_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="ann")
        unit, _ = journal.unit_table.begin("L1", "P046AB1234567890")
        journal.measurement_table.record(unit.id, 1, [row("voltage", 3.2, MeasurementOutcome.FAIL)])
        journal.measurement_table.record(unit.id, 2, [row("voltage", 3.65, marginal=True),
                                                      row("pins", [], MeasurementOutcome.PASS),
                                                      row("serial", "P046AB1234567890"), row("rssi", -71)])
        journal.unit_table.update(unit.id, tests_hash="ab" * 32)
    with Journal(path) as journal:
        records = journal.measurement_table.of_unit(unit.id)
        assert [(r.attempt, r.name, r.value, r.outcome) for r in records] == [
            (1, "voltage", 3.2, MeasurementOutcome.FAIL), (2, "voltage", 3.65, MeasurementOutcome.PASS),
            (2, "pins", [], MeasurementOutcome.PASS), (2, "serial", "P046AB1234567890", MeasurementOutcome.PASS),
            (2, "rssi", -71, MeasurementOutcome.PASS)]
        assert isinstance(records[-1].value, int) and records[-1].value_num == -71.0
        assert records[1].marginal and records[1].lower == 3.6 and records[1].units == "V"
        assert [r.name for r in journal.measurement_table.of_unit(unit.id, attempt=1)] == ["voltage"]
        assert len(journal.measurement_table.of_lot("L1")) == 5
        assert journal.unit_table.get(unit.id).tests_hash == "ab" * 32  # type: ignore[union-attr]


def test_an_older_journal_gains_the_measurements_table_and_tests_hash(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "journal.sqlite3"
    with Journal(path):
        pass
    db = sqlite3.connect(path)
    db.execute("DROP TABLE measurements")
    db.execute("ALTER TABLE units DROP COLUMN tests_hash")
    db.commit()
    db.close()
    with Journal(path) as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="ann")
        unit, _ = journal.unit_table.begin("L1", "K1", tests_hash="cd" * 32)
        journal.measurement_table.record(unit.id, 1, [row("voltage", 4.0)])
        assert journal.measurement_table.of_lot("L1")[0].value == 4.0
