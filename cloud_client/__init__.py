"""Client for the Particle Cloud API, and a faithful local emulator of it (``cloud_client.emulator``).

The names below load on first use (PEP 562): importing a light submodule such as ``cloud_client.errors`` must not
pull in the HTTP client (httpx) behind ``ParticleCloud``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloud_client.client import ParticleCloud
    from cloud_client.credentials import CredentialRef, Credentials

__all__ = ["CredentialRef", "Credentials", "ParticleCloud"]

_HOMES = {
    "CredentialRef": "cloud_client.credentials",
    "Credentials": "cloud_client.credentials",
    "ParticleCloud": "cloud_client.client",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
