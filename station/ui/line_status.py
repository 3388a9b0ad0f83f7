"""The line database's replication, shown in the lot bar: up to date, how much waits and how old, or unreachable.

The status is read on a worker thread (it counts the journal's change log) by the lot bar's refresher; this label
only renders it. A station without a ``[line]`` section shows nothing.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from station.line.replicator import ReplicationStatus

LAG_WARNING_S = 10.0
"""Lag above this is shown in amber even while the line database answers (the backlog is not draining)."""


class ReplicationLabel(QLabel):
    """One line: ``⇅ Line database: …``; hidden until a status arrives, and for a station that feeds no line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lineReplication")
        font = QFont()
        font.setPointSize(11)
        self.setFont(font)
        self.hide()

    def show_status(self, status: ReplicationStatus | None) -> None:
        if status is None:
            self.hide()
            return
        waiting = f"{status.backlog} change{'' if status.backlog == 1 else 's'}"
        if status.reachable is False:
            text = f"⇅ Line database unreachable: {waiting} kept in the journal, sent when it answers again"
            colour = "#ffd54f"
        elif status.backlog == 0:
            text = "⇅ Line database: up to date" if status.reachable else "⇅ Line database: connecting…"
            colour = "#a5d6a7"
        else:
            text = f"⇅ Line database: {waiting} waiting, lag {status.lag_seconds:.1f} s"
            colour = "#ffd54f" if status.lag_seconds > LAG_WARNING_S else "#a5d6a7"
        self.setText(text)
        self.setStyleSheet(f"color: {colour};")
        self.show()
