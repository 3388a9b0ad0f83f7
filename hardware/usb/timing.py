"""The host side's timing knobs in one record: polling schedules, timeouts, retry delays, and the clock to use.

Defaults are particle-usb 4.1.0's (src/device-base.js, src/device.js, src/dfu.js) and particle-cli 3.43.1's
(src/cmd/usb-util.js, src/lib/flash-helper.js); tests and simulated runs shrink them with ``HostTiming.fast()`` so
the real protocol runs without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.usb.protocol import CHECK_DELAYS_S, DEFAULT_REQUEST_TIMEOUT_S, TRANSFER_TIMEOUT_MS

APP_CHECK_DELAYS_S: tuple[float, ...] = (0.005, 0.01)
"""CHECK polling of application requests (type 10, a fixture test's op): 5 ms, doubling to a 20 ms cap that repeats.

particle-usb polls every request at 50, 50, 100 ... 1000 ms (src/device-base.js), fine for a system request that
answers in one poll or runs for seconds. A test op's reply is awaited on the unit's critical path: it answers after a
fraction of a second of measuring, and the 250-1000 ms steps overshoot that by up to a second per op (a quarter of
the test stage with ten ops). A CHECK is one small vendor control transfer that Device OS answers from its request
channel's state (system/src/usb_control_request_channel.h), without involving the application's handler, so
polling every 20 ms costs at most 50 small transfers a second per unit."""


@dataclass(frozen=True)
class HostTiming:
    check_delays: tuple[float, ...] = CHECK_DELAYS_S
    """CHECK polling back-off of the control channel (the last value repeats)."""
    app_check_delays: tuple[float, ...] = APP_CHECK_DELAYS_S
    """CHECK polling of application requests (type 10), see APP_CHECK_DELAYS_S."""
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S
    transfer_timeout_ms: int = TRANSFER_TIMEOUT_MS
    """libusb timeout of one control transfer (a busy device NAKs until its flash work is done)."""
    dfu_command_retries: int = 4
    """A stalled DfuSe command is retried this many more times (particle-usb src/dfu.js)."""
    dfu_command_retry_delay: float = 1.0
    dfu_busy_timeout: float = 60.0
    """Longest a single erase or write may keep the device in dfuDNBUSY."""
    reenumerate_timeout: float = 60.0
    """How long to wait for a device to come back after a mode change or reset (particle-cli usb-util.js: 60 s)."""
    reenumerate_poll: float = 0.1
    """particle-cli polls every 500 ms; listing the bus is cheap, and a shorter poll saves up to 0.4 s per mode
    change (a few percent of a flash)."""
    listening_poll: float = 0.5
    """Polling interval of request 72 while waiting for listening mode (particle-usb src/device.js)."""
    settle_delay: float = 1.0
    """Wait before a normal-mode update step, as particle-cli does (src/lib/flash-helper.js)."""
    apply_delay: float = 3.0
    """Wait after a normal-mode update while the device applies it and resets."""
    firmware_update_timeout: float = 240.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    @classmethod
    def fast(cls, poll: float = 0.002) -> HostTiming:
        """No fixed delays and short polls: for simulated devices whose timing model runs at zero cost."""
        return cls(
            check_delays=(0.0, poll),
            app_check_delays=(0.0, poll),
            request_timeout=10.0,
            transfer_timeout_ms=2000,
            dfu_command_retry_delay=0.0,
            dfu_busy_timeout=10.0,
            reenumerate_timeout=10.0,
            reenumerate_poll=poll,
            listening_poll=poll,
            settle_delay=0.0,
            apply_delay=0.0,
            firmware_update_timeout=30.0,
        )
