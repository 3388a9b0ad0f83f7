"""The lot bar counts in the right number: "1 refused scan", "2 refused scans"."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from station.records.lot_summary import lot_figures
from station.ui.lot_bar import LotBar
from station.ui.lot_stats import LotSnapshot


@pytest.mark.parametrize(("refused", "shown"), [(1, "1 refused scan"), (2, "2 refused scans")])
def test_the_lot_bar_says_refused_scans_in_the_right_number(qtbot: QtBot, refused: int, shown: str) -> None:
    bar = LotBar()
    qtbot.addWidget(bar)
    bar.show_snapshot(LotSnapshot(lot="L1", operator="ann", station="A", figures=lot_figures([], refused_scans=refused),
                                  cloud_pending_operations=0, yield_points=(), cycle_points=()))
    assert bar.who.text().endswith(shown)
