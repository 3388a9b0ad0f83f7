"""Build the station's cloud client from a profile: the credential reference is resolved here, never logged."""

from __future__ import annotations

from cloud_client.client import ParticleCloud
from cloud_client.credentials import CredentialRef
from station.config.profile import StationProfile

TOKEN_MEMORY_FILE = "cloud-token-memory.json"
"""In the log folder: refused client secrets (by hash, never the secret) and token-endpoint blocks, kept across
restarts so that restarting the station never walks it into Particle's 30-minute lock-out."""


def cloud_for(profile: StationProfile, *, base_url: str | None = None, **options: object) -> ParticleCloud:
    """A client for the profile's cloud (or ``base_url``), with credentials from the profile's reference."""
    credentials = CredentialRef.parse(profile.cloud.credentials).resolve()
    options.setdefault("token_memory", profile.log_folder / TOKEN_MEMORY_FILE)
    return ParticleCloud(base_url or profile.cloud.base_url, credentials, **options)  # type: ignore[arg-type]
