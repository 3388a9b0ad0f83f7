"""A local emulator of the Particle Cloud API: a real HTTP server with product, device, SIM and claim state."""

from cloud_client.emulator.errors import EmulatorError
from cloud_client.emulator.server import EmulatorServer

__all__ = ["EmulatorError", "EmulatorServer"]
