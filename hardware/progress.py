"""The progress report that long hardware work (erase, flash, verify, transfers) sends through a callback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    phase: str
    """What is happening, e.g. ``erase``, ``write``, ``verify``, ``transfer``."""
    done: int
    """Units (usually bytes) finished so far in this phase."""
    total: int
    """Units in this phase; 0 when unknown."""
    detail: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """A progress callback that ignores every report."""


class Cancelled(Exception):
    """Raised by long hardware work when its cancel token was set."""


class CancelToken:
    """Set by the caller to ask long work to stop at its next safe point."""

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def raise_if_cancelled(self, what: str = "operation") -> None:
        if self._cancelled:
            raise Cancelled(f"{what} cancelled")
