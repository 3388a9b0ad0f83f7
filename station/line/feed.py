"""One station's tie to the line: the replicator thread and the scan-time cross-station check, from ``[line]``.

The workflow's Line owns one (when the profile has a ``[line]`` section): started and stopped with it, asked at
each scan. Nothing here can stop the station: an unreachable line database is a notice, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from station.config.line_db import LineSettings, OnDuplicate
from station.config.profile import StationProfile
from station.line.api_meter import ApiMeter
from station.line.connection import connect, port_open
from station.line.cross_check import CheckSkipped, CrossStationCheck, Verdict
from station.line.replicator import ReplicationStatus, Replicator
from station.line.slot_board import SlotBoard
from station.records.change_table import ChangeTable
from station.records.database import JournalDatabase
from station.version import station_version


class StationFeed:
    """Feeds ``journal`` to the line database of ``settings`` as ``station``, and checks scans against the line."""

    def __init__(
        self,
        settings: LineSettings,
        journal: JournalDatabase,
        station: str,
        *,
        software_version: str = "",
        slots: Callable[[], list[dict[str, Any]]] | None = None,
        connector: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        """``connector``: how to open a connection (default: the URL, its password from env or keyring)."""
        self.settings = settings
        opener = connector or (lambda: connect(settings.database))
        self.api_meter = ApiMeter()
        """Count a Particle API request with ``api_meter.record`` (an httpx request hook fits)."""
        self.replicator = Replicator(journal, station, opener, software_version=software_version, slots=slots,
                                     api_requests=self.api_meter.snapshot,
                                     probe=lambda: port_open(settings.database))
        self.check = CrossStationCheck(opener, lambda: self.replicator.station,
                                       reachable=lambda: self.replicator.reachable)

    @property
    def refuses(self) -> bool:
        """Whether a label seen elsewhere is refused (else only warned about)."""
        return self.settings.on_duplicate is OnDuplicate.REFUSE

    def start(self) -> StationFeed:
        self.replicator.start()
        return self

    def wake(self) -> None:
        self.replicator.wake()

    def stop(self) -> None:
        """Stop the thread (see Replicator.stop) and the check's connection."""
        self.replicator.stop()
        self.check.close()

    def status(self) -> ReplicationStatus:
        return self.replicator.status()

    def verdict(self, serial: str | None, device_id: str | None = None) -> Verdict | CheckSkipped | None:
        return self.check.verdict(serial, device_id)


@dataclass(frozen=True)
class ScanScreen:
    """The line's word on a scan: a refusal (profile says refuse), or a notice for the operator, or neither."""

    refusal: Verdict | None = None
    notice: str | None = None


def screen_scan(feed: StationFeed, serial: str | None, device_id: str | None = None) -> ScanScreen:
    """Ask the line about a label (and device id); unreachable is said once per outage, then the scan goes on."""
    verdict = feed.verdict(serial, device_id)
    if isinstance(verdict, CheckSkipped):
        if not verdict.first:
            return ScanScreen()
        return ScanScreen(notice=f"The line database cannot be reached ({verdict.reason}): scans are checked "
                                 "against this station's journal only until it answers again.")
    if verdict is None:
        return ScanScreen()
    if feed.refuses:
        return ScanScreen(refusal=verdict)
    return ScanScreen(notice=verdict.sentence.replace("Scan refused: ", "Warning: ", 1)
                      + " (The profile's [line] on_duplicate = \"warn\": the unit goes on anyway.)")


def device_screen(feed: StationFeed) -> Callable[[str], ScanScreen]:
    """The check of a unit's device id once it is read at identify (a label checked at scan may hide a device
    already provisioned elsewhere under another label): the same refusal, warning or unreachable notice."""
    return lambda device_id: screen_scan(feed, None, device_id)


def feed_for(profile: StationProfile, journal: JournalDatabase,
             subscribe: Callable[[Callable[[Any], None]], object]) -> StationFeed | None:
    """The station's feed when its profile has a ``[line]`` section (None otherwise); ``subscribe`` gives it the
    line's unit events so the line database sees what each slot is doing."""
    if profile.line is None:
        ChangeTable(journal).trim()  # the log is emptied and kept empty, by this and every later writer of the journal
        return None
    board = SlotBoard(profile.slots.count)
    subscribe(board)
    feed = StationFeed(profile.line, journal, profile.station_name, software_version=station_version(),
                       slots=board.snapshot)
    subscribe(lambda _event: feed.wake())  # each event follows a journal write: sent now, not at the next poll
    return feed
