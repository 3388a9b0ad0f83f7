"""Why Qt Multimedia (the camera, the PASS/FAIL sounds) cannot load, in one sentence that names what to install.

PySide6's Qt Multimedia links system libraries that a minimal PC may lack (PulseAudio's libpulse); importing it then
raises ImportError. The camera and the sounds import it only when they start, and say this instead of failing.
"""

from __future__ import annotations

import re

DEBIAN_PACKAGES = {
    "libpulse.so.0": "libpulse0",
    "libpulse-mainloop-glib.so.0": "libpulse-mainloop-glib0",
}
"""Shared libraries Qt Multimedia needs -> the Debian/Ubuntu package that installs each."""

_MISSING_LIBRARY = re.compile(r"(lib[\w.+-]+?\.so(?:\.\d+)*): cannot open shared object file")


def multimedia_problem(error: ImportError) -> str:
    """What keeps Qt Multimedia from loading, e.g. ``Qt Multimedia needs the libpulse library: sudo apt-get install
    libpulse0``."""
    found = _MISSING_LIBRARY.search(str(error))
    if found is None:
        return f"Qt Multimedia cannot be loaded ({error})"
    library = found.group(1)
    name = library.split(".so")[0]
    package = DEBIAN_PACKAGES.get(library)
    if package is None:
        return f"Qt Multimedia needs the {name} library ({library} is missing)"
    return f"Qt Multimedia needs the {name} library: sudo apt-get install {package}"
