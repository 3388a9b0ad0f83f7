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
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitState
from station.workflow.device import WifiRefusedError


class UnitFailure(StationError):
    """A unit cannot pass: ``reason`` says what happened in plain words, ``action`` what the operator does next."""

    def __init__(self, reason: str, action: str, *, step: str | None = None,
                 code: ReasonCode = ReasonCode.INTERNAL) -> None:
        super().__init__(reason)
        self.reason = reason
        self.action = action
        self.step = step
        self.code = code
        """The stable reason code beside the sentence (records/reason_code.py)."""


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
    reason_code: str | None = None


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
        return UnitFailure("Stopped by the operator.", "Scan the label again to resume this unit.", step=step,
                           code=ReasonCode.CANCELLED)
    if isinstance(exc, ClaimedElsewhereError):
        return UnitFailure(
            "This device is claimed by another Particle account.",
            "Set the unit aside; engineering must have the other account release it.",
            step=step, code=ReasonCode.CLAIMED_ELSEWHERE,
        )
    if isinstance(exc, SimOwnedElsewhereError):
        return UnitFailure(
            "The SIM card in this unit belongs to another Particle account.",
            "Set the unit aside; engineering must have the SIM released or fit another SIM.",
            step=step, code=ReasonCode.SIM_OWNED_ELSEWHERE,
        )
    if isinstance(exc, InvalidCredentialsError | AuthError):
        return UnitFailure(
            f"The cloud refused the station's credentials ({exc}).",
            "Stop the line and call engineering to fix the station's cloud credentials.",
            step=step, code=ReasonCode.CREDENTIALS_REFUSED,
        )
    if isinstance(exc, ForbiddenError | NotFoundError):
        return UnitFailure(f"The cloud refused this unit: {exc}", _SET_ASIDE, step=step,
                           code=ReasonCode.CLOUD_REFUSED)
    if isinstance(exc, CloudError):
        return UnitFailure(f"Cloud error: {exc}", _SET_ASIDE, step=step, code=ReasonCode.CLOUD_ERROR)
    if isinstance(exc, FirmwareError):
        return UnitFailure(
            f"The product firmware cannot be used: {exc}",
            "Call engineering to check the profile's firmware.",
            step=step, code=ReasonCode.FIRMWARE_INVALID,
        )
    if isinstance(exc, IdentifierError):
        return UnitFailure(f"The device reported an invalid identifier: {exc}", _SET_ASIDE, step=step,
                           code=ReasonCode.DEVICE_ERROR)
    if isinstance(exc, WifiRefusedError | WifiSettingsError):
        return UnitFailure(
            f"Wi-Fi credentials not accepted: {exc}",
            "Call engineering to fix the profile's [wifi] section (network name, security type, password).",
            step=step, code=ReasonCode.WIFI_REFUSED,
        )
    if isinstance(exc, HardwareError):
        return UnitFailure(f"Device problem during {step.replace('_', ' ')}: {exc}", _RESCAN, step=step,
                           code=_hardware_code(exc, step))
    if isinstance(exc, StationError):
        return UnitFailure(str(exc), _SET_ASIDE, step=step)
    return UnitFailure(
        f"Unexpected error during {step.replace('_', ' ')}: {type(exc).__name__}: {exc}",
        "Scan the label again; if it happens again, set the unit aside and call engineering.",
        step=step,
    )


def _hardware_code(exc: BaseException, step: str) -> ReasonCode:
    """A USB/device error's code. Matched by class name so this module does not import the USB stack (pyusb) the
    command-line start-up avoids; the names are hardware.usb.errors' classes."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "DeviceProtectedError" in names:
        return ReasonCode.DEVICE_PROTECTED
    if "VerifyError" in names:
        return ReasonCode.FLASH_VERIFY
    if names & {"DeviceNotFoundError", "DeviceWaitTimeoutError"} and step == "find":
        return ReasonCode.DEVICE_NOT_FOUND
    if "FlashError" in names or ("DfuError" in names) or step in ("flash", "device_os"):
        return ReasonCode.FLASH_FAILED
    return ReasonCode.DEVICE_ERROR
