"""The lot's cloud work paused because the station's credentials, not a unit, are at fault.

An access token that expires or is revoked mid-lot, a refused client secret, or a kind of credentials that may not
call a step (an API user's or OAuth client's product token claiming a device) would otherwise fail unit after unit.
Instead the first such refusal pauses the cloud work (or that one step) for the whole lot, with one message: units go
on being flashed and their cloud work waits, queued in the outbox, until the credentials are fixed. Once in a while
(``probe_s``) one unit tries again, so that a fix (e.g. a renewed token through the outbox's ``retry``) resumes the
work by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cloud_client.errors import AuthError, CloudError, ScopeRefusedError

log = logging.getLogger(__name__)

PROBE_S = 60.0
"""How often a paused lot tries its credentials again (one request)."""
ALL_STEPS = "*"


def credentials_problem(exc: BaseException) -> str | None:
    """What is wrong with the station's credentials when ``exc`` says so; None when ``exc`` is about something else."""
    if isinstance(exc, ScopeRefusedError):
        return f"the cloud does not allow the station's credentials to do this ({exc.api_message or exc})"
    if isinstance(exc, AuthError):
        return f"the cloud refused the station's credentials ({exc.api_message or exc})"
    return None


def pauses_every_step(exc: CloudError) -> bool:
    """A refused token stops all cloud work; a step its kind may not call stops that step only."""
    return not isinstance(exc, ScopeRefusedError)


@dataclass
class _Pause:
    reason: str
    probe_at: float


class CloudPause:
    """Which of the lot's cloud steps are paused, and why; thread-safe (every slot's cloud work shares it)."""

    def __init__(
        self,
        notify: Callable[[str], None] | None = None,
        *,
        probe_s: float = PROBE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._notify = notify or (lambda message: None)
        self._probe_s = probe_s
        self._clock = clock
        self._lock = threading.Lock()
        self._paused: dict[str, _Pause] = {}

    def held(self, step: str) -> str | None:
        """The reason ``step`` must not be tried now, or None (also None, once per ``probe_s``, to probe a pause)."""
        with self._lock:
            pause = self._paused.get(ALL_STEPS) or self._paused.get(step)
            if pause is None:
                return None
            if self._clock() >= pause.probe_at:
                pause.probe_at = self._clock() + self._probe_s  # this caller probes; the others keep waiting
                return None
            return pause.reason

    def refused(self, step: str, exc: CloudError, problem: str) -> None:
        """Pause after a refusal; the operator and the log hear about it once per pause, not once per unit."""
        key = ALL_STEPS if pauses_every_step(exc) else step
        with self._lock:
            pause = self._paused.get(key)
            if pause is not None:
                pause.reason = problem
                return
            self._paused[key] = _Pause(problem, self._clock() + self._probe_s)
        what = "all cloud work" if key == ALL_STEPS else f"the {step} step"
        message = (f"Cloud work paused for this lot: {problem}. The units' cloud work ({what}) waits in the outbox; "
                   "fix the station's credentials, then use 'retry' in the outbox.")
        log.warning("%s", message)
        self._notify(message)

    def worked(self, step: str) -> None:
        """``step`` succeeded: a pause that covered it is over."""
        with self._lock:
            ended = [key for key in (ALL_STEPS, step) if self._paused.pop(key, None) is not None]
        if ended:
            log.info("cloud work resumed: the cloud accepted the station's credentials for %s again", step)
            self._notify("Cloud work resumed: the cloud accepts the station's credentials again.")
