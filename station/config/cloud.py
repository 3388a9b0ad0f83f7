"""Build the station's cloud client from a profile: the credential reference is resolved here, never logged."""

from __future__ import annotations

from cloud_client.client import ParticleCloud
from cloud_client.credentials import CredentialRef, Credentials
from cloud_client.errors import AuthError
from station.config.profile import ClaimMode, StationProfile
from station.errors import StationError

TOKEN_MEMORY_FILE = "cloud-token-memory.json"
"""In the log folder: refused client secrets (by hash, never the secret) and token-endpoint blocks, kept across
restarts so that restarting the station never walks it into Particle's 30-minute lock-out."""


def cloud_for(profile: StationProfile, *, base_url: str | None = None, **options: object) -> ParticleCloud:
    """A client for the profile's cloud (or ``base_url``), with credentials from the profile's reference."""
    credentials = CredentialRef.parse(profile.cloud.credentials).resolve()
    options.setdefault("token_memory", profile.log_folder / TOKEN_MEMORY_FILE)
    return ParticleCloud(base_url or profile.cloud.base_url, credentials, **options)  # type: ignore[arg-type]


def steps_refused_to(profile: StationProfile, *, oauth_client: bool) -> list[str]:
    """A sentence for each step of the profile that this kind of credentials is known not to be allowed to do.

    An OAuth client's token is a product token, like an API user's: Particle answers "API users are not allowed to
    call this endpoint" when it claims a device to the caller (``POST /v1/devices``; docs.particle.io Cloud API,
    'Errors' and 'Claim a device'), since a product has no account to claim to.
    """
    refused: list[str] = []
    if oauth_client and profile.steps.claim is ClaimMode.PRODUCT_OWNER:
        refused.append(
            'steps.claim = "product-owner" cannot work with OAuth client credentials: their product token may not '
            'claim devices ("API users are not allowed to call this endpoint"); use claim = "account" with '
            'claim_account, claim = "off", or a team member\'s access token'
        )
    return refused


def credentials_kind(credentials: Credentials) -> str:
    return "OAuth client (product token)" if credentials.is_oauth_client else "access token"


def check_credentials(profile: StationProfile) -> str:
    """For ``profile check``: the kind of credentials the reference names, or why they cannot be read here.

    Raises StationError when that kind is known not to be allowed a step of the profile (the line would refuse to
    start the lot too).
    """
    ref = profile.cloud.credentials
    try:
        credentials = CredentialRef.parse(ref).resolve()
    except AuthError as exc:
        return f"not readable here, so not checked ({exc})"
    refused = steps_refused_to(profile, oauth_client=credentials.is_oauth_client)
    if refused:
        raise StationError(f"{ref}: " + "; ".join(refused))
    return f"{credentials_kind(credentials)} from {ref}"
