"""What a simulated control-request handler returns: a result code, reply bytes, and what to do once the host
has the reply (Device OS resets only after the reply was delivered), and how long the handler takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hardware.simulated.control_facts import ResultCode


@dataclass(frozen=True)
class Reply:
    result: int = ResultCode.OK
    data: bytes = b""
    after_reply: Callable[[], None] | None = None
    delay_s: float = 0.0
    """Time the handler takes on top of the usual handling time (``math.inf``: it never answers)."""


Handler = Callable[[bytes], Reply]

OK = Reply()
NOT_SUPPORTED = Reply(ResultCode.NOT_SUPPORTED)
