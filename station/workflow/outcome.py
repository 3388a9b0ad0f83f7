"""How a unit ends: PASS, FAIL with a plain-words reason and what to do, or cloud pending; and error translation."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_client.errors import (
    AuthError,
    ClaimedElsewhereError,
    CloudError,
    ForbiddenError,
    InvalidCredentialsError,
    NotFoundError,
    RateLimitedError,
    SimOwnedElsewhereError,
    UnavailableError,
)
from hardware.errors import FirmwareError, HardwareError, IdentifierError
from hardware.progress import Cancelled
from station.config.wifi import WifiSettingsError
from station.errors import StationError
from station.records.unit_table import UnitState
from station.workflow.device import WifiRefusedError


class UnitFailure(StationError):
    """A unit cannot pass: ``reason`` says what happened in plain words, ``action`` what the operator does next."""

    def __init__(self, reason: str, action: str, *, step: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.action = action
        self.step = step


@dataclass(frozen=True)
class UnitResult:
    unit_key: str
    state: UnitState
    reason: str
    action: str
    device_id: str | None = None
    serial: str | None = None
    cycle_seconds: float | None = None
    failed_step: str | None = None


RETRY_LATER = (UnavailableError, RateLimitedError)
"""Cloud failures that pass by themselves: the work goes to the outbox and the unit is 'cloud pending'."""

_SET_ASIDE = "Set the unit aside for engineering."
_RESCAN = "Check the cable and scan the label again to resume this unit."


def explain(exc: BaseException, *, step: str) -> UnitFailure:
    """Turn any error from a step into the operator's reason and next action; never a traceback."""
    if isinstance(exc, UnitFailure):
        if exc.step is None:
            exc.step = step
        return exc
    if isinstance(exc, Cancelled):
        return UnitFailure("Stopped by the operator.", "Scan the label again to resume this unit.", step=step)
    if isinstance(exc, ClaimedElsewhereError):
        return UnitFailure(
            "This device is claimed by another Particle account.",
            "Set the unit aside; engineering must have the other account release it.",
            step=step,
        )
    if isinstance(exc, SimOwnedElsewhereError):
        return UnitFailure(
            "The SIM card in this unit belongs to another Particle account.",
            "Set the unit aside; engineering must have the SIM released or fit another SIM.",
            step=step,
        )
    if isinstance(exc, InvalidCredentialsError | AuthError):
        return UnitFailure(
            f"The cloud refused the station's credentials ({exc}).",
            "Stop the line and call engineering to fix the station's cloud credentials.",
            step=step,
        )
    if isinstance(exc, ForbiddenError | NotFoundError):
        return UnitFailure(f"The cloud refused this unit: {exc}", _SET_ASIDE, step=step)
    if isinstance(exc, CloudError):
        return UnitFailure(f"Cloud error: {exc}", _SET_ASIDE, step=step)
    if isinstance(exc, FirmwareError):
        return UnitFailure(
            f"The product firmware cannot be used: {exc}",
            "Call engineering to check the profile's firmware.",
            step=step,
        )
    if isinstance(exc, IdentifierError):
        return UnitFailure(f"The device reported an invalid identifier: {exc}", _SET_ASIDE, step=step)
    if isinstance(exc, WifiRefusedError | WifiSettingsError):
        return UnitFailure(
            f"Wi-Fi credentials not accepted: {exc}",
            "Call engineering to fix the profile's [wifi] section (network name, security type, password).",
            step=step,
        )
    if isinstance(exc, HardwareError):
        return UnitFailure(f"Device problem during {step.replace('_', ' ')}: {exc}", _RESCAN, step=step)
    if isinstance(exc, StationError):
        return UnitFailure(str(exc), _SET_ASIDE, step=step)
    return UnitFailure(
        f"Unexpected error during {step.replace('_', ' ')}: {type(exc).__name__}: {exc}",
        "Scan the label again; if it happens again, set the unit aside and call engineering.",
        step=step,
    )
