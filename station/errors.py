"""The station package's error hierarchy."""

from __future__ import annotations


class StationError(Exception):
    """Base class for errors of the provisioning line (profile, workflow, records, tray import)."""
