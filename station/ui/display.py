"""Whether a Linux PC has a display for Qt to show windows on (no Qt import: the demo asks before it loads Qt)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def lacks_display(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> bool:
    """A Linux PC with neither an X nor a Wayland display, and no Qt platform chosen (QT_QPA_PLATFORM, always
    respected: offscreen on purpose counts as chosen)."""
    env = os.environ if environ is None else environ
    return (platform.startswith("linux") and not env.get("QT_QPA_PLATFORM") and not env.get("DISPLAY")
            and not env.get("WAYLAND_DISPLAY"))
