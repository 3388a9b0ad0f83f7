"""A person at a real rig: whether one said they are present, how the harness tells them what to do, and waiting
with a deadline for what they (or a device) do."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from station.errors import StationError

PERSON_PRESENT_ENV = "PARTICLE_HIL_PERSON"
"""Set to 1 when someone stands at the rig and can pull cables or scan labels when the tests ask."""

_YES = {"1", "yes", "true", "on"}


class RigWaitTimeout(StationError):
    """Something the harness waited for (a device, a person) did not happen before the deadline."""


def person_present(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment says a person is at the rig (``PARTICLE_HIL_PERSON=1``)."""
    value = (os.environ if environ is None else environ).get(PERSON_PRESENT_ENV, "")
    return value.strip().lower() in _YES


def absent_reason(what: str) -> str:
    """The skip reason of a test that needs a person at the rig to ``what``."""
    return f"needs a person at the rig to {what}; set {PERSON_PRESENT_ENV}=1 when someone is there"


class Operator:
    """Tells the person at the rig what to do, through ``say`` (the plugin writes past pytest's capture)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say

    def ask(self, request: str) -> None:
        self._say(f">>> HIL rig: {request}")


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    poll: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll ``condition`` until it holds; RigWaitTimeout saying what was awaited when ``timeout`` passes first."""
    deadline = clock() + timeout
    while not condition():
        if clock() >= deadline:
            raise RigWaitTimeout(f"waited {timeout:g} s for {what}, in vain")
        sleep(poll)
