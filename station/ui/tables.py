"""Read-only result tables shared by the engineer views: history, tray import, quarantine."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem


def read_only_table(columns: tuple[str, ...], *, select_rows: bool = False) -> QTableWidget:
    """A table the user reads (never edits); the last column takes the spare width. ``select_rows``: one row at a
    time is selectable, for views that act on the chosen row."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    if select_rows:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(len(columns) - 1, QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(True)
    return table


def add_row(table: QTableWidget, values: list[str], colour: str | None) -> None:
    """Append a row of text cells (tooltips repeat the text, for cut-off cells), optionally coloured."""
    row = table.rowCount()
    table.insertRow(row)
    for column, value in enumerate(values):
        item = QTableWidgetItem(value)
        item.setToolTip(value)
        if colour:
            item.setBackground(QColor(colour))
        table.setItem(row, column, item)
