"""Client for the Particle Cloud API, and a faithful local emulator of it (``cloud_client.emulator``)."""

from cloud_client.client import ParticleCloud
from cloud_client.credentials import CredentialRef, Credentials

__all__ = ["CredentialRef", "Credentials", "ParticleCloud"]
