"""A lot that spans stations: its units at every station of the line, as the journal's own UnitRecords.

Read through ``line.lot_units`` (a SECURITY DEFINER function: a station's role may read every station's units of
a lot, not write them). This station's own units come from its journal, which is never behind its replica; the
other stations' from the line database, as far as they have replicated (their backlog shows how far that is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from station.config.profile import StationProfile
from station.errors import StationError
from station.line.connection import describe
from station.records.journal import Journal
from station.records.lot_table import LotRecord
from station.records.spreadsheet import WorkbookReport
from station.records.unit_table import UnitRecord, UnitState

_SELECT = ("SELECT station, local_id, lot, unit_key, serial, device_id, platform, device_os, state, reason_code, "
           "reason, attempts, first_result, slot, operator, started_at, ended_at, cycle_seconds, updated_at "
           "FROM line.lot_units(%s)")


def line_units_of_lot(conn: psycopg.Connection[Any], lot: str, *, except_station: str | None = None
                      ) -> list[UnitRecord]:
    """Every station's units of ``lot`` in the line database (but ``except_station``'s), ordered by station.

    Their ``id`` is negative (-1, -2, ...): they are not rows of this station's journal.
    """
    cursor = conn.execute(_SELECT, (lot,))
    names = [column.name for column in cursor.description or ()]
    units: list[UnitRecord] = []
    for row in cursor.fetchall():
        values = dict(zip(names, row, strict=True))
        if values["station"] == except_station:
            continue
        units.append(_record(values, -(len(units) + 1)))
    return units


def lot_units_everywhere(journal: Journal, lot: str, station: str, conn: psycopg.Connection[Any]
                         ) -> list[UnitRecord]:
    """This station's units of ``lot`` from its journal, then every other station's from the line database."""
    own_role = conn.execute("SELECT line.role_station()").fetchone()
    own = str(own_role[0]) if own_role and own_role[0] else station
    return [*journal.units(lot), *line_units_of_lot(conn, lot, except_station=own)]


def units_of_lot_on_line(journal: Journal, lot: str, settings: StationProfile) -> list[UnitRecord]:
    """``--line`` (export, tray reconcile): the lot's units at every station, through the profile's ``[line]``
    database; one sentence (StationError) when the profile names none or the database cannot list them."""
    from station.line.connection import connect

    if settings.line is None:
        raise StationError(f"--line: the profile {settings.path} has no [line] section naming the line database")
    with connect(settings.line.database) as conn:
        try:
            return lot_units_everywhere(journal, lot, settings.station_name, conn)
        except psycopg.Error as exc:
            raise StationError(f"--line: the line database could not list lot {lot}: {describe(exc)}") from None


def _record(values: dict[str, Any], local_id: int) -> UnitRecord:
    try:
        state = UnitState(values["state"])
    except ValueError:
        state = UnitState.IN_PROGRESS
    started = float(values["started_at"] or 0.0)
    return UnitRecord(
        id=local_id, lot=values["lot"], unit_key=values["unit_key"], serial=values["serial"],
        device_id=values["device_id"], platform=values["platform"], device_os=values["device_os"], iccid=None,
        imei=None, firmware_version=None, firmware_sha256=None, slot=values["slot"], operator=values["operator"],
        station=values["station"], state=state, reason=values["reason"], action=None,
        attempts=int(values["attempts"] or 1), started_at=started, ended_at=values["ended_at"],
        first_result=values["first_result"], cycle_seconds=values["cycle_seconds"],
        updated_at=float(values["updated_at"] or started), reason_code=values["reason_code"],
    )


def write_line_workbook(journal: Journal, out: Path, *, lot: str, profile: Path, now: float) -> WorkbookReport:
    """``export --line``: the lot's workbook (Units and Summary sheets) over every station of the line.

    The units of other stations come from the line database; when it cannot be reached the export stops with one
    sentence rather than writing a workbook that silently holds this station's units only.
    """
    from station.config.profile_loader import load_profile
    from station.records.spreadsheet import build_workbook, print_header, save_atomically

    settings = load_profile(profile)
    units = units_of_lot_on_line(journal, lot, settings)
    if not units:
        raise StationError(f"lot {lot!r} has no unit at any station of the line; check the lot name")
    own = journal.lot(lot)
    lots = [own] if own is not None else [LotRecord(
        name=lot, station="line", product_id=settings.product_id, profile=str(settings.path), operator="",
        created_at=min(unit.started_at for unit in units), closed_at=None)]
    header = print_header(lots, now=now)
    refused = journal.refused_scan_table.count(lot)
    save_atomically(build_workbook(units, lots, now=now, header=header, refused_scans=refused), out)
    return WorkbookReport(Path(out), len(units))
