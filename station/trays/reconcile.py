"""Tray lists tied to a lot, and the lot reconciled against them: provisioned, failed, not seen, on no list, duplicates.

A list entry (device id, serial number, ICCID or IMEI) matches a unit of the lot that has that identifier. Counts are
of distinct list entries: ``provisioned + seen_but_failed + in_progress + not_seen == listed``.

- provisioned: a matching unit is PASS, cloud pending or "not confirmed" (every step on the line passed);
- seen but failed: every matching unit ended FAIL (the unit was seen on the line, so it is not "not seen");
- in progress: a matching unit is still running and none is provisioned;
- not seen: no unit of the lot has the identifier;
- on no list: a provisioned unit that no entry matches;
- duplicates: one device id under two unit keys of the lot, and one label (serial) recorded with two different
  devices, in this lot or against a unit of this lot in any other lot of the journal.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.errors import StationError
from station.records import Journal, UnitRecord, UnitState
from station.records.cells import SheetData
from station.trays.lists import EntryKind, TrayList

SHEET_TITLE = "Reconciliation"
PROVISIONED_STATES = frozenset({UnitState.PASS, UnitState.CLOUD_PENDING, UnitState.NOT_CONFIRMED})
KIND_NAMES = {EntryKind.DEVICE_ID: "device_id", EntryKind.SERIAL: "serial", EntryKind.ICCID: "iccid",
              EntryKind.IMEI: "imei"}
"""How each tray entry kind is stored in the journal's lot_lists table."""
_KIND_WORDS = {"device_id": "device id", "serial": "serial", "iccid": "ICCID", "imei": "IMEI"}


class ReconcileError(StationError):
    """A tray list cannot be tied to the lot, or the lot cannot be reconciled."""


class ListStatus(enum.Enum):
    PROVISIONED = "provisioned"
    FAILED = "seen but failed"
    IN_PROGRESS = "in progress"
    NOT_SEEN = "not seen"


@dataclass(frozen=True)
class AttachedTray:
    lot: str
    source: str
    entries: int
    by_kind: dict[str, int]
    problems: int
    """Lines of the file that hold no usable identifier (not attached; see the tray's problems)."""


@dataclass(frozen=True)
class ListEntry:
    """One distinct identifier on the lot's lists, where it is listed, and what the lot did with it."""

    kind: str
    value: str
    places: tuple[str, ...]
    """``file name:line`` of every place it is listed."""
    status: ListStatus
    unit_keys: tuple[str, ...] = ()
    states: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitRef:
    unit_key: str
    device_id: str | None
    serial: str | None
    iccid: str | None
    state: str


@dataclass(frozen=True)
class DuplicateDevice:
    """One device provisioned under two (or more) unit keys (labels) of the lot."""

    device_id: str
    unit_keys: tuple[str, ...]


@dataclass(frozen=True)
class DuplicateLabel:
    """One label (serial number) recorded with two (or more) different devices."""

    serial: str
    device_ids: tuple[str, ...]
    lots: tuple[str, ...]


@dataclass(frozen=True)
class Reconciliation:
    lot: str
    sources: tuple[str, ...]
    entries: tuple[ListEntry, ...]
    not_on_list: tuple[UnitRef, ...]
    duplicate_devices: tuple[DuplicateDevice, ...]
    duplicate_labels: tuple[DuplicateLabel, ...]

    def with_status(self, status: ListStatus) -> tuple[ListEntry, ...]:
        return tuple(e for e in self.entries if e.status is status)

    def counts(self) -> dict[str, int]:
        return {
            "listed": len(self.entries),
            "provisioned": len(self.with_status(ListStatus.PROVISIONED)),
            "seen_but_failed": len(self.with_status(ListStatus.FAILED)),
            "in_progress": len(self.with_status(ListStatus.IN_PROGRESS)),
            "not_seen": len(self.with_status(ListStatus.NOT_SEEN)),
            "not_on_list": len(self.not_on_list),
            "duplicate_devices": len(self.duplicate_devices),
            "duplicate_labels": len(self.duplicate_labels),
        }

    @property
    def complete(self) -> bool:
        """Every listed unit is provisioned, every provisioned unit is listed, and nothing is duplicated."""
        counts = self.counts()
        return counts["provisioned"] == counts["listed"] and not (
            self.not_on_list or self.duplicate_devices or self.duplicate_labels
        )

    def to_json(self) -> dict[str, Any]:
        def entry(e: ListEntry) -> dict[str, Any]:
            return {"kind": e.kind, "value": e.value, "places": list(e.places), "units": list(e.unit_keys),
                    "states": list(e.states)}

        return {
            "lot": self.lot,
            "lists": list(self.sources),
            "counts": self.counts(),
            "complete": self.complete,
            "provisioned": [entry(e) for e in self.with_status(ListStatus.PROVISIONED)],
            "seen_but_failed": [entry(e) for e in self.with_status(ListStatus.FAILED)],
            "in_progress": [entry(e) for e in self.with_status(ListStatus.IN_PROGRESS)],
            "not_seen": [entry(e) for e in self.with_status(ListStatus.NOT_SEEN)],
            "not_on_list": [dataclasses.asdict(u) for u in self.not_on_list],
            "duplicates": {
                "same_device": [{"device_id": d.device_id, "unit_keys": list(d.unit_keys)}
                                for d in self.duplicate_devices],
                "same_label": [{"serial": d.serial, "device_ids": list(d.device_ids), "lots": list(d.lots)}
                               for d in self.duplicate_labels],
            },
        }


def attach_tray(journal: Journal, lot: str, tray: TrayList) -> AttachedTray:
    """Tie a tray list's identifiers to ``lot`` (attaching the same file again replaces its entries)."""
    if journal.lot(lot) is None:
        raise ReconcileError(f"lot {lot!r} is not in the journal {journal.path}; start the lot (or check its name) "
                             f"before attaching tray list {tray.source}")
    source = str(Path(tray.source).resolve())
    rows = [(e.line, KIND_NAMES[e.kind], e.value) for e in tray.entries]
    if not rows:
        raise ReconcileError(f"tray list {tray.source} has no usable identifier ({len(tray.problems)} problem "
                             "lines); fix the file before attaching it to a lot")
    journal.add_lot_list(lot, source, rows)
    by_kind: dict[str, int] = defaultdict(int)
    for _, kind, _ in rows:
        by_kind[kind] += 1
    return AttachedTray(lot, source, len(rows), dict(by_kind), len(tray.problems))


def _norm(kind: str, value: str) -> str:
    text = value.strip()
    return text.lower() if kind == "device_id" else text.upper() if kind == "serial" else text


def _labels_of(unit: UnitRecord) -> set[str]:
    return {s.strip().upper() for s in (unit.unit_key, unit.serial) if s}


def _status(units: list[UnitRecord]) -> ListStatus:
    if any(u.state in PROVISIONED_STATES for u in units):
        return ListStatus.PROVISIONED
    if any(u.state is UnitState.IN_PROGRESS for u in units):
        return ListStatus.IN_PROGRESS
    return ListStatus.FAILED


def reconcile(journal: Journal, lot: str, *, units: list[UnitRecord] | None = None) -> Reconciliation:
    """The lot's units against the tray lists attached to it (see the module docstring for each category).

    ``units``: the lot's units at every station of the line (station.line.lot_units, ``tray reconcile --line``;
    other stations' units have negative ids) instead of this journal's alone.
    """
    if journal.lot(lot) is None:
        raise ReconcileError(f"lot {lot!r} is not in the journal {journal.path}; check the lot name")
    units = journal.units(lot) if units is None else units
    index: dict[tuple[str, str], list[UnitRecord]] = defaultdict(list)
    for unit in units:
        keys = {("serial", label) for label in _labels_of(unit)}
        for kind, value in (("device_id", unit.device_id), ("iccid", unit.iccid), ("imei", unit.imei)):
            if value:
                keys.add((kind, _norm(kind, value)))
        for key in keys:
            index[key].append(unit)

    places: dict[tuple[str, str], list[str]] = defaultdict(list)
    sources: list[str] = []
    for source, line, kind, value in journal.lot_lists(lot):
        if source not in sources:
            sources.append(source)
        places[(kind, _norm(kind, value))].append(f"{Path(source).name}:{line}")

    entries: list[ListEntry] = []
    listed_units: set[int] = set()
    for (kind, value), where in places.items():
        matched = index.get((kind, value), [])
        listed_units.update(u.id for u in matched)
        status = _status(matched) if matched else ListStatus.NOT_SEEN
        entries.append(ListEntry(kind, value, tuple(where), status, tuple(u.unit_key for u in matched),
                                 tuple(u.state.value for u in matched)))

    not_on_list = tuple(
        UnitRef(u.unit_key, u.device_id, u.serial, u.iccid, u.state.value)
        for u in units if u.state in PROVISIONED_STATES and u.id not in listed_units
    )
    elsewhere = [u for u in units if u.id < 0]  # other stations' units of the lot (their other lots are not here)
    return Reconciliation(lot, tuple(sources), tuple(entries), not_on_list, _duplicate_devices(units),
                          _duplicate_labels(units, [*journal.units(), *elsewhere]))


def _duplicate_devices(units: Iterable[UnitRecord]) -> tuple[DuplicateDevice, ...]:
    keys: dict[str, list[str]] = defaultdict(list)
    for unit in units:
        if unit.device_id and unit.unit_key not in keys[unit.device_id.lower()]:
            keys[unit.device_id.lower()].append(unit.unit_key)
    return tuple(DuplicateDevice(d, tuple(k)) for d, k in keys.items() if len(k) > 1)


def _duplicate_labels(lot_units: list[UnitRecord], all_units: list[UnitRecord]) -> tuple[DuplicateLabel, ...]:
    wanted = {label for unit in lot_units for label in _labels_of(unit)}
    devices: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for unit in all_units:
        if not unit.device_id:
            continue
        for label in _labels_of(unit) & wanted:
            devices[label][unit.device_id.lower()].add(unit.lot)
    return tuple(
        DuplicateLabel(label, tuple(sorted(found)), tuple(sorted(set().union(*found.values()))))
        for label, found in sorted(devices.items()) if len(found) > 1
    )


# --- the workbook sheet ------------------------------------------------------------------------------------------

_COUNT_LABELS = {
    "listed": "On the lists",
    "provisioned": "On a list, provisioned",
    "seen_but_failed": "On a list, seen but failed",
    "in_progress": "On a list, in progress",
    "not_seen": "On a list, not seen yet",
    "not_on_list": "Provisioned, on no list",
    "duplicate_devices": "Same device under two labels",
    "duplicate_labels": "One label on two devices",
}


def _count_row(key: str, count: int) -> list[str | int]:
    return [_COUNT_LABELS[key], count]


def reconciliation_rows(rec: Reconciliation) -> list[list[str | int]]:
    """The rows of a "Reconciliation" sheet: the lot and its lists, the counts, then one row per finding."""
    rows: list[list[str | int]] = [
        ["Lot", rec.lot],
        ["Lists", ", ".join(Path(s).name for s in rec.sources) or "(none attached)"],
        [],
        ["Count", "Entries / units"],
        *(_count_row(key, count) for key, count in rec.counts().items()),
        [],
        ["Finding", "Kind", "Identifier", "Units", "State", "Where"],
    ]
    order = (ListStatus.NOT_SEEN, ListStatus.FAILED, ListStatus.IN_PROGRESS, ListStatus.PROVISIONED)
    for status in order:
        for e in rec.with_status(status):
            rows.append([f"on a list, {status.value}", _KIND_WORDS.get(e.kind, e.kind), e.value,
                         ", ".join(e.unit_keys), ", ".join(e.states), ", ".join(e.places)])
    for u in rec.not_on_list:
        rows.append(["provisioned, on no list", "device id", u.device_id or "", u.unit_key, u.state, ""])
    for d in rec.duplicate_devices:
        rows.append(["same device under two labels", "device id", d.device_id, ", ".join(d.unit_keys), "", ""])
    for label in rec.duplicate_labels:
        rows.append(["one label on two devices", "serial", label.serial, ", ".join(label.device_ids), "",
                     ", ".join(label.lots)])
    return rows


def reconciliation_sheet(rec: Reconciliation, *, title: str = SHEET_TITLE) -> SheetData:
    """The reconciliation as a workbook sheet (``station.records.cells.write_sheet`` keeps its text from formulas)."""
    return SheetData(title, reconciliation_rows(rec))


def reconciliation_sheets(journal: Journal, lot: str) -> list[SheetData]:
    """The lot workbook's sheets of this module (``station.records.spreadsheet.LotSheets``): the reconciliation when
    the lot is tied to the tray lists of its order, showing what was provisioned, missing, extra or doubled."""
    if not journal.lot_lists(lot):
        return []
    return [reconciliation_sheet(reconcile(journal, lot))]
