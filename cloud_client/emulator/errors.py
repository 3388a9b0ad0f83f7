"""The emulator's own error: it could not start, stop, load its state or be seeded as asked."""

from __future__ import annotations

from cloud_client.errors import CloudError


class EmulatorError(CloudError):
    """The emulator could not start, stop, load its state or be seeded as asked."""
