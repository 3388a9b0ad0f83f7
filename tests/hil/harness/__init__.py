"""The hardware-in-the-loop harness: rig descriptions, the pytest plugin, safety checks, benches and cable pulls.

The same tests (``tests/hil``) run against a simulated rig (CI) or a real one (``pytest tests/hil --rig FILE``). This is
test tooling: it lives beside the tests so the shipped packages never import pytest.
"""
