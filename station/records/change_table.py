"""The change log: which journal rows changed, in order, so the line's replicator can forward them.

SQLite triggers (schema step 8 in ``records/database.py``, which names the followed tables: ``CHANGE_TABLES``)
append one ``changes`` row for every insert, update or delete on those tables, inside the writer's own transaction:
no journal write path knows the log exists, and a change is durable exactly when the row is. The replicator reads
the log past a cursor kept in ``meta`` and moves the cursor only after the line database committed the batch
(store and forward: TMI keeps results in a ``stage`` folder until its PostgreSQL acknowledges them,
mgagcode/tmi_scripts).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from station.records.database import CHANGE_TABLES, TRIGGER_NOW, JournalDatabase

CURSOR_KEY = "line_cursor"
"""The ``meta`` key holding the id of the last change the line database acknowledged."""
JOURNAL_ID_KEY = "journal_id"
"""A random id made once per journal file: the line database knows which journal feeds a station's rows."""
TRIMMED_KEY = "line_log_trimmed"
"""Set while the log is kept empty because the station feeds no line; the first feed then logs every row again."""
KEEP_EMPTY_TRIGGER = "changes_kept_empty"
"""The trigger that drops every change while ``TRIMMED_KEY`` is set (see ``ChangeTable.trim``)."""


@dataclass(frozen=True)
class Change:
    id: int
    table: str
    row_id: int
    at: float


class ChangeTable:
    """Reads the log past the cursor and moves the cursor; the journal's own writers never call it."""

    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def journal_id(self) -> str:
        """This journal's id, made on first use."""
        with self.db.transaction() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                       (JOURNAL_ID_KEY, uuid.uuid4().hex))
        return str(self.db.query("SELECT value FROM meta WHERE key = ?", (JOURNAL_ID_KEY,))[0]["value"])

    def last_issued(self) -> int:
        """The id of the newest change this journal ever logged (AUTOINCREMENT's sequence: acknowledged and deleted
        changes count too); 0 for a journal that logged none."""
        rows = self.db.query("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        return int(rows[0]["seq"]) if rows else 0

    def made_at(self, change_id: int) -> float | None:
        """When change ``change_id`` was made; None when this journal holds no such change (acknowledged, or never
        made)."""
        rows = self.db.query("SELECT at FROM changes WHERE id = ?", (change_id,))
        return float(rows[0]["at"] or 0.0) if rows else None

    def cursor(self) -> int:
        rows = self.db.query("SELECT value FROM meta WHERE key = ?", (CURSOR_KEY,))
        return int(rows[0]["value"]) if rows else 0

    def pending(self, limit: int) -> list[Change]:
        """The next ``limit`` changes past the cursor, oldest first."""
        rows = self.db.query("SELECT id, tbl, row_id, at FROM changes WHERE id > ? ORDER BY id LIMIT ?",
                             (self.cursor(), limit))
        return [Change(r["id"], r["tbl"], r["row_id"], r["at"] or 0.0) for r in rows]

    def acknowledge(self, change_id: int) -> None:
        """The line database committed every change up to ``change_id``: move the cursor, drop what it passed."""
        with self.db.transaction() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                       "value = excluded.value", (CURSOR_KEY, str(change_id)))
            db.execute("DELETE FROM changes WHERE id <= ?", (change_id,))

    def backlog(self) -> tuple[int, float | None]:
        """How many changes wait, and when the oldest of them was made (None when none waits)."""
        return self.backlog_after(self.cursor())

    def backlog_after(self, change_id: int) -> tuple[int, float | None]:
        """As ``backlog``, once every change up to ``change_id`` is acknowledged."""
        rows = self.db.query("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM changes WHERE id > ?", (change_id,))
        return int(rows[0]["n"]), rows[0]["oldest"]

    def trim(self) -> None:
        """A station that feeds no line keeps no log (it would only grow): empty it, remember that it did, and
        install the gate that keeps it empty from then on, whoever writes the journal (a run, the demo, the GUI,
        ``lot-close``, the outbox finishing cloud work after the last unit), in this process or a later one.

        Emptying the log once, when the line starts, is not enough: the triggers (``records/database.py`` step 8,
        recreated at every open) log every write after it, so a run without ``[line]`` left its whole run in the log.
        The gate (``KEEP_EMPTY_TRIGGER``) is a BEFORE INSERT trigger on ``changes`` whose ``RAISE(IGNORE)`` drops the
        row a followed table's trigger is about to log while ``TRIMMED_KEY`` is set; the write itself goes on (SQLite
        "CREATE TRIGGER", The RAISE() function: the statement that fired it is abandoned, nothing rolls back, and a
        calling trigger resumes at its next step). A write then costs the followed table's trigger and one ``meta``
        primary-key lookup, and the log neither grows nor needs deleting."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM changes")
            db.execute("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT(key) DO NOTHING", (TRIMMED_KEY,))
            db.execute(f"CREATE TRIGGER IF NOT EXISTS {KEEP_EMPTY_TRIGGER} BEFORE INSERT ON changes "
                       f"WHEN EXISTS (SELECT 1 FROM meta WHERE key = '{TRIMMED_KEY}') BEGIN SELECT RAISE(IGNORE); END")

    @property
    def trimmed(self) -> bool:
        """Whether the log is kept empty (the station fed no line when it last started)."""
        return bool(self.db.query("SELECT 1 FROM meta WHERE key = ?", (TRIMMED_KEY,)))

    def refill_if_trimmed(self) -> int:
        """A station that joins a line after running alone: lift the gate and log every row once (parents first),
        so its whole journal replicates; the upserts make any row the line already holds a no-op. Returns the rows
        logged."""
        if not self.trimmed:
            return 0
        with self.db.transaction() as db:
            db.execute("DELETE FROM meta WHERE key = ?", (TRIMMED_KEY,))  # first: the gate lets the refill in
            db.execute(f"DROP TRIGGER IF EXISTS {KEEP_EMPTY_TRIGGER}")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            logged = 0
            for table in CHANGE_TABLES:
                if table in tables:
                    logged += db.execute(f"INSERT INTO changes (tbl, row_id, at) SELECT '{table}', rowid, "
                                         f"{TRIGGER_NOW} FROM {table} ORDER BY rowid").rowcount
        return logged

    def rows(self, table: str, row_ids: list[int]) -> dict[int, dict[str, object]]:
        """The current values of some rows of a followed table, by rowid (a deleted row is absent)."""
        if table not in CHANGE_TABLES or not row_ids:
            return {}
        marks = ", ".join("?" for _ in row_ids)
        found = self.db.query(f"SELECT rowid AS _rowid, * FROM {table} WHERE rowid IN ({marks})", tuple(row_ids))
        return {int(r["_rowid"]): dict(r) for r in found}
