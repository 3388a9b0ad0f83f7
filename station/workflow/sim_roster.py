"""The SIMs the device import brought in, checked against the product's SIM list many units at a time.

Importing a device into a product also imports and activates its Particle SIM (docs.particle.io Cloud API, 'Import
devices into product'), so under ``sim_activation = "auto"`` the station makes no SIM call per unit. But the import
leaves a SIM owned by another account where it is, and its 200 reply does not say so. The roster remembers each unit's
ICCID after its import and reads the product's SIM list (``GET /v1/products/:p/sims``, one page holds 100 SIMs) for
all the units waiting at once: when ``batch`` units wait, when the oldest has waited ``max_age_s``, and when the lot
or the line closes. A unit whose SIM is not in the list is asked about once (``HEAD /v1/sims/:iccid``) and flagged:
it FAILs with the reason code for a SIM owned elsewhere (or cloud refused, for an ICCID Particle does not know),
recorded as a given-up outbox item of the unit so its state is derived as any other, and the screens are told to take
it out of the PASS tray.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cloud_client.client import ParticleCloud
from cloud_client.errors import AuthError, CloudError, ForbiddenError
from cloud_client.models import SimCheck
from station.records.outbox_table import OutboxTable
from station.records.reason_code import ReasonCode
from station.records.unit_state import Settled

log = logging.getLogger(__name__)

SIM_CHECK_BATCH = 8
"""Units whose SIMs are read with one request (the list's page holds 100)."""
SIM_CHECK_MAX_AGE_S = 60.0
"""A SIM waits at most this long for others before the next unit's import has it read."""
SIM_CHECK_OPERATION = "sim_in_product"


@dataclass(frozen=True)
class _Waiting:
    unit_id: int
    unit_key: str
    iccid: str
    since: float
    postponed: int = 0
    """How many reads of the SIM list missed this SIM while the cloud said it is ours (or did not answer)."""


MAX_POSTPONED = 3
"""Reads of the SIM list a SIM the cloud calls ours may miss before the roster stops asking (and flags nothing)."""


class SimRoster:
    """Thread-safe; shared by every slot of a line. ``flagged`` is told of each unit the check failed."""

    def __init__(
        self,
        cloud: ParticleCloud,
        product_id: int,
        outbox: OutboxTable,
        flagged: Callable[[Settled], None],
        *,
        batch: int = SIM_CHECK_BATCH,
        max_age_s: float = SIM_CHECK_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cloud = cloud
        self.product_id = product_id
        self.outbox = outbox
        self.flagged = flagged
        self.batch = batch
        self.max_age_s = max_age_s
        self.clock = clock
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()
        self._waiting: dict[str, _Waiting] = {}
        self.refused: str | None = None
        """Why the credentials may not read the product's SIM list (the check is then off for the lot)."""

    def expect(self, unit_id: int, unit_key: str, iccid: str) -> None:
        """The unit's device import went through; its SIM should now be in the product. Reads the list when due."""
        if self.refused is not None:
            return
        with self._lock:
            self._waiting[iccid] = _Waiting(unit_id, unit_key, iccid, self.clock())
            oldest = min(w.since for w in self._waiting.values())
            due = len(self._waiting) >= self.batch or self.clock() - oldest >= self.max_age_s
        if due:
            self.sweep()

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def sweep(self) -> None:
        """Read the product's SIM list for every SIM waiting; flag the units whose SIM is not in it. A cloud that
        does not answer leaves them waiting for the next sweep."""
        with self._sweeping:
            with self._lock:
                waiting = dict(self._waiting)
            if not waiting:
                return
            try:
                with self.cloud.retries_at_most(0):
                    found = self.cloud.sims_in_product(self.product_id, list(waiting))
            except (AuthError, ForbiddenError) as exc:
                # Not the units' fault, and asking again would be refused the same way: stop checking in this lot.
                log.warning("SIM check of the lot's units stopped (%d not checked): %s", len(waiting), exc)
                self.refused = str(exc)
                with self._lock:
                    self._waiting.clear()
                return
            except CloudError as exc:
                log.warning("SIM check of %d units postponed: %s", len(waiting), exc)
                return
            with self._lock:
                for iccid in waiting:
                    self._waiting.pop(iccid, None)
            for iccid, unit in waiting.items():
                if iccid not in found:
                    self._flag(unit)

    def _flag(self, unit: _Waiting) -> None:
        try:
            with self.cloud.retries_at_most(0):
                check = self.cloud.check_sim(unit.iccid)
        except CloudError as exc:
            check = None
            log.warning("SIM check of unit %s postponed: %s", unit.unit_key, exc)
        if check not in (SimCheck.OWNED_ELSEWHERE, SimCheck.UNKNOWN):
            # Ours (ready or active) but not in the list yet (an activation still under way), or no answer: never a
            # reason to fail a unit; it waits for the next read of the list, a bounded number of times.
            if unit.postponed < MAX_POSTPONED:
                with self._lock:
                    self._waiting.setdefault(unit.iccid, dataclasses.replace(unit, postponed=unit.postponed + 1))
            else:
                log.warning("SIM %s of unit %s is not in the product's SIM list after %d reads; not flagged",
                            unit.iccid, unit.unit_key, MAX_POSTPONED + 1)
            return
        if check is SimCheck.UNKNOWN:
            reason, code = (f"The cloud does not know SIM {unit.iccid} of this unit; the device import could not "
                            "bring it into the product."), ReasonCode.CLOUD_REFUSED
        else:
            reason, code = (f"The SIM card in this unit ({unit.iccid}) belongs to another Particle account: the "
                            "device import did not bring it into the product."), ReasonCode.SIM_OWNED_ELSEWHERE
        settled = self.outbox.given_up(f"unit{unit.unit_id}:{SIM_CHECK_OPERATION}:{unit.iccid}", SIM_CHECK_OPERATION,
                                       {"iccid": unit.iccid}, reason, code=code.value, unit_id=unit.unit_id)
        log.warning("unit %s flagged: %s", unit.unit_key, reason)
        if settled is not None:
            self.flagged(settled)
