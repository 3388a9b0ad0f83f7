"""Credentials and credential references: where secrets come from, and that they never show."""

from __future__ import annotations

import pickle

import keyring
import pytest

from cloud_client.credentials import CredentialRef, Credentials, Secret
from cloud_client.errors import AuthError

SECRET = "s3cr3t-client-secret-value"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def test_secret_repr_str_and_format_are_masked() -> None:
    secret = Secret(SECRET)
    assert SECRET not in repr(secret)
    assert SECRET not in str(secret)
    assert SECRET not in f"{secret} {secret!r} {secret:>40}"
    assert secret.reveal() == SECRET


def test_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(SECRET))


def test_credentials_repr_masks_client_secret_and_token() -> None:
    text = repr(Credentials.oauth_client("station-client", SECRET)) + repr(Credentials.token(TOKEN))
    assert SECRET not in text
    assert TOKEN not in text
    assert "station-client" in text


def test_credentials_need_either_a_client_or_a_token() -> None:
    with pytest.raises(AuthError):
        Credentials()
    with pytest.raises(AuthError):
        Credentials(client_id="x", client_secret=Secret(SECRET), access_token=Secret(TOKEN))


def test_env_reference_reads_client_credentials_with_prefix() -> None:
    creds = CredentialRef.parse("env:LINE1").resolve({"LINE1_CLIENT_ID": "cid", "LINE1_CLIENT_SECRET": SECRET})
    assert creds.client_id == "cid"
    assert creds.client_secret is not None and creds.client_secret.reveal() == SECRET
    assert creds.source == "env:LINE1"


def test_env_reference_reads_access_token() -> None:
    creds = CredentialRef.parse("env:PARTICLE").resolve({"PARTICLE_ACCESS_TOKEN": TOKEN})
    assert creds.access_token is not None and creds.access_token.reveal() == TOKEN
    assert not creds.is_oauth_client


def test_env_reference_prefers_oauth_client_over_token() -> None:
    env = {"P_CLIENT_ID": "cid", "P_CLIENT_SECRET": SECRET, "P_ACCESS_TOKEN": TOKEN}
    assert CredentialRef.parse("env:P").resolve(env).is_oauth_client


def test_missing_env_credentials_raise_auth_error_naming_the_reference() -> None:
    with pytest.raises(AuthError, match="env:PARTICLE") as info:
        CredentialRef.parse("env:PARTICLE").resolve({})
    assert "PARTICLE_CLIENT_ID" in str(info.value)


def test_half_configured_env_client_names_the_missing_variable_not_the_secret() -> None:
    with pytest.raises(AuthError, match="PARTICLE_CLIENT_ID is set but PARTICLE_CLIENT_SECRET is not"):
        CredentialRef.parse("env:PARTICLE").resolve({"PARTICLE_CLIENT_ID": "cid"})
    with pytest.raises(AuthError) as info:
        CredentialRef.parse("env:PARTICLE").resolve({"PARTICLE_CLIENT_SECRET": SECRET})
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("text", ["", "env", "env:", "env:1BAD", "keyring:service", "keyring:/name", "vault:x/y"])
def test_malformed_reference_is_refused(text: str) -> None:
    with pytest.raises(AuthError):
        CredentialRef.parse(text)


def test_reference_round_trips_through_its_text() -> None:
    for text in ("env:PARTICLE", "keyring:particle-station/line-1-client", "keyring-token:particle-station/api"):
        assert str(CredentialRef.parse(text)) == text


def test_keyring_reference_reads_the_client_secret(memory_keyring: keyring.backend.KeyringBackend) -> None:
    memory_keyring.set_password("particle-station", "station-client", SECRET)
    creds = CredentialRef.parse("keyring:particle-station/station-client").resolve()
    assert creds.client_id == "station-client"
    assert creds.client_secret is not None and creds.client_secret.reveal() == SECRET


def test_keyring_token_reference_reads_an_access_token(memory_keyring: keyring.backend.KeyringBackend) -> None:
    CredentialRef.parse("keyring-token:particle-station/api-user").store(TOKEN)
    creds = CredentialRef.parse("keyring-token:particle-station/api-user").resolve()
    assert creds.access_token is not None and creds.access_token.reveal() == TOKEN


def test_missing_keyring_entry_raises_auth_error_naming_the_reference(
    memory_keyring: keyring.backend.KeyringBackend,
) -> None:
    with pytest.raises(AuthError, match="keyring:particle-station/nobody"):
        CredentialRef.parse("keyring:particle-station/nobody").resolve()


def test_unreadable_keyring_raises_auth_error(failing_keyring: keyring.backend.KeyringBackend) -> None:
    with pytest.raises(AuthError, match="could not be read"):
        CredentialRef.parse("keyring:particle-station/station-client").resolve()


def test_resolve_credentials_accepts_the_reference_text() -> None:
    from cloud_client.auth import resolve_credentials

    creds = resolve_credentials("env:PARTICLE", {"PARTICLE_ACCESS_TOKEN": TOKEN})
    assert creds.source == "env:PARTICLE"
