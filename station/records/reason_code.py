"""Stable reason codes: every failure (and every 'not confirmed') carries one beside its sentence, so summaries
rank failures by code (a Pareto), never by sentences that embed serial numbers.

The values are written to the journal (``units.reason_code``, ``outbox.error_code``) and into the workbooks; never
rename one, only add. Ranking failures by a failure code rather than free text is the usual practice of line
yield tools (e.g. TofuPilot's failure Pareto, https://www.tofupilot.com/docs).
"""

from __future__ import annotations

import enum


class ReasonCode(enum.StrEnum):
    LABEL_MISMATCH = "label_mismatch"
    """The label and the device disagree (or the device has no serial to check)."""
    DEVICE_NOT_FOUND = "device_not_found"
    """No device for the label appeared on USB within the find time-out."""
    WRONG_PLATFORM = "wrong_platform"
    """The device is of another platform than the line's product."""
    ALREADY_PASSED = "already_passed"
    """A refused scan: the label's unit already passed in this lot."""
    DEVICE_OS_TOO_OLD = "device_os_too_old"
    FIRMWARE_INVALID = "firmware_invalid"
    """The product firmware does not fit the unit (or cannot be read)."""
    FLASH_VERIFY = "flash_verify"
    """The flash was written but reads back different, or the unit does not run it afterwards."""
    FLASH_FAILED = "flash_failed"
    DEVICE_ERROR = "device_error"
    """Another USB or device problem (cable, transfer, time-out)."""
    WIFI_REFUSED = "wifi_refused"
    DEVICE_PROTECTED = "device_protected"
    """The unit is a Protected Device (Device Protection) and the profile refuses such units, or protecting /
    reworking it failed."""
    CLOUD_REFUSED = "cloud_refused"
    """The cloud refused this unit (not added to the product, SIM unknown, claim refused...)."""
    SIM_MISSING = "sim_missing"
    """The profile needs a SIM activated but the unit reported none."""
    CLAIMED_ELSEWHERE = "claimed_elsewhere"
    SIM_OWNED_ELSEWHERE = "sim_owned_elsewhere"
    CREDENTIALS_REFUSED = "credentials_refused"
    CLOUD_ERROR = "cloud_error"
    NOT_ONLINE_IN_TIME = "not_online_in_time"
    TEST_FAILED = "test_failed"
    """A test on the fixture failed: a measurement outside its limits, a device reply saying fail, an operator's
    No (the reason names the test, the measurement, the value and the limits)."""
    TEST_NO_REPLY = "test_no_reply"
    """The unit did not answer a test in time, or reset or vanished during it."""
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    """The station stopped (Ctrl-C, shutdown) while the unit ran."""
    INTERNAL = "internal"
    """An unexpected error in the station itself."""
    ELSEWHERE_PASS = "elsewhere_pass"
    """A refused scan: the label (or device id) already passed at another station of the line."""
    ELSEWHERE_IN_PROGRESS = "elsewhere_in_progress"
    """A refused scan: the label (or device id) is being provisioned at another station of the line."""
