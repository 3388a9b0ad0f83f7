"""Pull a rig device's USB cable in the middle of a flash and plug it back: a fault injected into a simulated
device, or a request to the person at a real rig, timed by the line's own flash progress events."""

from __future__ import annotations

import threading

from hardware.usb.discovery import DeviceMode
from station.workflow.events import EventBus, EventKind, UnitEvent
from tests.hil.harness.bench import DeviceHandle
from tests.hil.harness.operator import RigWaitTimeout, absent_reason, wait_until

PULL_AFTER_BYTES = 16 * 1024
"""A simulated device drops off the bus once this many more bytes crossed endpoint 0: inside the user part's write."""

PERSON_TIMEOUT = 120.0
"""Seconds a person gets for each request (pull, plug back)."""


class CablePull:
    """Arm before scanning the unit; ``wait_for_pull()`` after the scan started; ``restore()`` once it failed."""

    def __init__(self, handle: DeviceHandle, events: EventBus) -> None:
        self.handle = handle
        self._flashing = threading.Event()
        self._unsubscribe = None
        if handle.simulated is not None:
            handle.simulated.faults.disconnect_after_bytes(PULL_AFTER_BYTES)
        elif handle.operator is None:
            raise LookupError(absent_reason(f"pull the cable of {handle.describe()}"))
        else:
            self._unsubscribe = events.subscribe(self._on_event)
            handle.operator.ask(f"get ready to pull the USB cable of {handle.describe()} when told to")

    def _on_event(self, event: UnitEvent) -> None:
        if event.kind is EventKind.STEP_PROGRESS and event.step == "flash":
            self._flashing.set()

    def wait_for_pull(self, timeout: float = PERSON_TIMEOUT) -> None:
        """Real rig: tell the person to pull the cable as soon as flashing starts, and wait until the device is gone."""
        if self.handle.simulated is not None or self.handle.operator is None:
            return
        try:
            if not self._flashing.wait(timeout):
                raise RigWaitTimeout(f"waited {timeout:g} s for {self.handle.describe()} to start flashing, in vain")
            self.handle.operator.ask(f"PULL the USB cable of {self.handle.describe()} NOW")
            wait_until(lambda: not self.handle.present(mode=None), timeout=timeout, poll=0.02,
                       what=f"{self.handle.describe()} to leave the USB bus (cable pulled)")
        finally:
            if self._unsubscribe is not None:
                self._unsubscribe()

    def restore(self, timeout: float = PERSON_TIMEOUT) -> None:
        """Plug the cable back in and wait for the device to enumerate in normal mode."""
        if self.handle.simulated is not None:
            self.handle.simulated.plug()
            timeout = min(timeout, self.handle.host_timing.reenumerate_timeout)
        elif self.handle.operator is not None:
            self.handle.operator.ask(f"plug the USB cable of {self.handle.describe()} back in")
        wait_until(lambda: self.handle.present(DeviceMode.NORMAL), timeout=timeout,
                   what=f"{self.handle.describe()} to enumerate again in normal mode")
