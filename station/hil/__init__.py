"""The hardware-in-the-loop harness: rig descriptions, the pytest plugin, safety checks and a udev rules installer.

The same tests (``tests/hil``) run against a simulated rig (CI) or a real one (``pytest tests/hil --rig FILE``).
"""
