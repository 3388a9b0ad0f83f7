"""The cloud client's error hierarchy: every failure carries the operation, the HTTP status and the API's message."""

from __future__ import annotations


class CloudError(Exception):
    """Base class for every Particle Cloud failure."""

    def __init__(self, message: str, *, operation: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
