"""A mis-scan is not a unit: the checks that refuse a label before a unit exists, each with one sentence saying
what to do. The line records a refused scan apart (records/refused_scan_table.py), outside yield."""

from __future__ import annotations

from station.config.profile import StationProfile
from station.errors import StationError
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitRecord, UnitState

SKU_PLATFORMS: dict[str, str] = {
    "P046": "p2", "P051": "p2", "P054": "msom", "P055": "msom", "P031": "tracker", "P032": "tracker",
    "P052": "esomx", "E31T": "electron", "B40T": "boron", "ARNT": "argon",
}
"""Serial-number SKU prefixes (the first four characters of a Particle serial number) whose platform is certain.
Particle's serial numbers start with the SKU prefix, e.g. P046 for a P2 (docs.particle.io, "Serial number").
A prefix not listed here is not refused: the device check after the scan decides."""


class MisScan(StationError):
    """A label refused before a unit exists: ``code`` its reason code, the message what happened and what to do."""

    def __init__(self, code: ReasonCode, sentence: str) -> None:
        super().__init__(sentence)
        self.code = code


def check_label_platform(profile: StationProfile, serial: str) -> None:
    """Refuse a label whose serial number names another platform than the line's product."""
    platform = SKU_PLATFORMS.get(serial[:4].upper())
    if platform is not None and platform != profile.platform.name:
        raise MisScan(ReasonCode.WRONG_PLATFORM,
                      f"Scan refused: label {serial} is a {platform} serial number, but this line makes "
                      f"{profile.platform.display_name} (product {profile.product_id}); put that unit back with its "
                      "own product and scan one of this line's units.")


def check_not_passed(unit: UnitRecord | None, *, rework: bool) -> None:
    """Refuse a label already PASS in this lot, unless an engineer asked to rework it."""
    if unit is not None and unit.state is UnitState.PASS and not rework:
        raise MisScan(ReasonCode.ALREADY_PASSED,
                      f"Scan refused: unit {unit.unit_key} already passed in this lot; put it in the PASS tray "
                      "(an engineer can rework it from engineer mode).")
