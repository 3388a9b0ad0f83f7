"""The replication status a person reads: this station's backlog and lag from its journal, and, when the line
database answers, every station's row there (``particle-station line status``; the GUI shows the first part)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from station.line.connection import describe
from station.line.schema import LineDatabaseError, ensure_schema
from station.records.change_table import ChangeTable
from station.records.database import JournalDatabase


@dataclass(frozen=True)
class JournalBacklog:
    """What waits in the journal for the line database."""

    backlog: int
    lag_seconds: float
    """Age of the oldest change not yet in the line database (0 when none waits)."""
    cursor: int


@dataclass(frozen=True)
class LineStatus:
    station: str
    journal: JournalBacklog | None
    """None when the station feeds no line (its journal keeps no change log: nothing waits)."""
    reachable: bool | None
    """None when the profile has no [line] section (nothing to reach)."""
    problem: str | None = None
    stations: list[dict[str, Any]] = field(default_factory=list)
    profile: str = ""
    """The profile's path, named when the station feeds no line."""

    @property
    def feeds_line(self) -> bool:
        return self.journal is not None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "feeds_line": self.feeds_line}

    def lines(self) -> list[str]:
        if self.journal is None:
            return [f"station {self.station} feeds no line: the profile {self.profile} has no [line] section, so its "
                    "journal keeps no change log (add [line] and the next start sends the whole journal)"]
        waiting = self.journal.backlog
        out = [f"station {self.station}: {waiting} change{'' if waiting == 1 else 's'} waiting in the journal, "
               f"lag {self.journal.lag_seconds:.1f} s"]
        if not self.reachable:
            out.append(f"line database unreachable ({self.problem}); the station keeps everything in its journal")
        else:
            out.append(f"line database reachable: {len(self.stations)} station(s)")
            for row in self.stations:
                seen = row.get("last_seen")
                ago = f"{time.time() - seen:.0f} s ago" if isinstance(seen, int | float) else "never"
                out.append(f"  {row['station']}: backlog {row['backlog']}, lag {row['lag_seconds'] or 0:.1f} s, "
                           f"last seen {ago}, software {row['software_version'] or '?'}")
        return out


def journal_backlog(db: JournalDatabase, *, clock: Callable[[], float] = time.time) -> JournalBacklog:
    changes = ChangeTable(db)
    backlog, oldest = changes.backlog()
    return JournalBacklog(backlog, max(0.0, clock() - oldest) if oldest is not None else 0.0, changes.cursor())


def no_line_status(station: str, profile: str) -> LineStatus:
    """A station whose profile has no [line] section: it feeds no line, and no backlog exists to show (its journal's
    change log is kept empty: station.records.change_table.ChangeTable.trim)."""
    return LineStatus(station, None, None, profile=profile)


def line_status(db: JournalDatabase, station: str,
                connector: Callable[[], psycopg.Connection[Any]]) -> LineStatus:
    """The journal's side always; the line database's stations when it answers."""
    journal = journal_backlog(db)
    try:
        with connector() as conn:
            ensure_schema(conn)
            cursor = conn.execute("SELECT station, software_version, last_seen, backlog, lag_seconds, "
                                  "replicated_change, slots FROM line.stations ORDER BY station")
            names = [column.name for column in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except LineDatabaseError as exc:
        return LineStatus(station, journal, False, str(exc))
    except psycopg.Error as exc:
        return LineStatus(station, journal, False, describe(exc))
    return LineStatus(station, journal, True, stations=rows)
