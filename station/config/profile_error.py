"""The one error of a station profile that cannot be used (its own module so the profile's parts can raise it)."""

from __future__ import annotations

from station.errors import StationError


class ProfileError(StationError):
    """The station profile cannot be used; the message names the file, the key and the line."""
