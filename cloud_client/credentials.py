"""Particle credentials and the references that name where they live (environment or OS keyring), never shown."""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cloud_client.errors import AuthError

_MASK = "********"


class Secret:
    """A secret string whose ``repr`` and ``str`` are masked; only ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a secret cannot be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the secret into whatever file or queue receives it.
        raise TypeError("a Secret cannot be pickled")


def _as_secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


@dataclass(frozen=True)
class Credentials:
    """Either a product OAuth client (id + secret, exchanged for tokens) or a ready access token.

    ``source`` says where they came from (e.g. ``env:PARTICLE``) so that error messages can name it.
    """

    client_id: str | None = None
    client_secret: Secret | None = None
    access_token: Secret | None = None
    source: str = "credentials given in code"

    def __post_init__(self) -> None:
        has_client = self.client_id is not None or self.client_secret is not None
        if has_client and (not self.client_id or self.client_secret is None):
            raise AuthError(f"{self.source}: an OAuth client needs both a client id and a client secret")
        if has_client == (self.access_token is not None):
            raise AuthError(f"{self.source}: give either an OAuth client (id and secret) or an access token")

    @classmethod
    def oauth_client(
        cls, client_id: str, client_secret: str | Secret, *, source: str = "credentials given in code"
    ) -> Credentials:
        return cls(client_id=client_id, client_secret=_as_secret(client_secret), source=source)

    @classmethod
    def token(cls, access_token: str | Secret, *, source: str = "credentials given in code") -> Credentials:
        return cls(access_token=_as_secret(access_token), source=source)

    @property
    def is_oauth_client(self) -> bool:
        return self.client_secret is not None


CredentialScheme = Literal["env", "keyring", "keyring-token"]
_ENV_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REF_HELP = (
    "use env:PREFIX (reads PREFIX_CLIENT_ID + PREFIX_CLIENT_SECRET, or PREFIX_ACCESS_TOKEN), "
    "keyring:SERVICE/CLIENT_ID (the client secret is in the OS keyring) or "
    "keyring-token:SERVICE/NAME (an access token is in the OS keyring)"
)


@dataclass(frozen=True)
class CredentialRef:
    """Names where credentials live, as written in a station profile: ``env:PREFIX``, ``keyring:SERVICE/CLIENT_ID``
    or ``keyring-token:SERVICE/NAME``. The reference itself holds no secret and may be logged."""

    scheme: CredentialScheme
    location: str

    @classmethod
    def parse(cls, text: str) -> CredentialRef:
        scheme, sep, location = text.strip().partition(":")
        if not sep or not location:
            raise AuthError(f"credential reference {text!r} is not valid; {_REF_HELP}")
        if scheme == "env":
            if not _ENV_PREFIX.match(location):
                raise AuthError(f"credential reference {text!r}: {location!r} is not an environment variable prefix")
            return cls("env", location)
        if scheme in ("keyring", "keyring-token"):
            service, slash, name = location.partition("/")
            if not slash or not service or not name:
                raise AuthError(f"credential reference {text!r} needs SERVICE/NAME after {scheme}:")
            return cls("keyring" if scheme == "keyring" else "keyring-token", location)
        raise AuthError(f"credential reference {text!r} has unknown kind {scheme!r}; {_REF_HELP}")

    def __str__(self) -> str:
        return f"{self.scheme}:{self.location}"

    def resolve(self, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read the credentials now; a missing or unreadable one raises AuthError naming this reference."""
        if self.scheme == "env":
            return _from_environment(self, os.environ if environ is None else environ)
        return _from_keyring(self)

    def store(self, secret: str) -> None:
        """Save the client secret (``keyring:``) or the access token (``keyring-token:``) in the OS keyring."""
        if self.scheme == "env":
            raise AuthError(f"{self}: environment variables cannot be stored from here; set them in the shell")
        import keyring
        import keyring.errors

        service, _, name = self.location.partition("/")
        try:
            keyring.set_password(service, name, secret)
        except keyring.errors.KeyringError as exc:
            raise AuthError(f"{self}: the OS keyring refused to store the secret ({type(exc).__name__})") from None


def _from_environment(ref: CredentialRef, environ: Mapping[str, str]) -> Credentials:
    prefix = ref.location
    id_var, secret_var, token_var = f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET", f"{prefix}_ACCESS_TOKEN"
    client_id, client_secret = environ.get(id_var, "").strip(), environ.get(secret_var, "").strip()
    token = environ.get(token_var, "").strip()
    if client_id and client_secret:
        # A product OAuth client wins over a token: its tokens are renewed, a token eventually is not.
        return Credentials.oauth_client(client_id, client_secret, source=str(ref))
    if client_id or client_secret:
        present, missing = (id_var, secret_var) if client_id else (secret_var, id_var)
        raise AuthError(f"{ref}: {present} is set but {missing} is not; set both, or set {token_var} instead")
    if token:
        return Credentials.token(token, source=str(ref))
    raise AuthError(
        f"{ref}: no Particle credentials in the environment; set {id_var} and {secret_var} "
        f"(a product OAuth client) or {token_var}"
    )


def _from_keyring(ref: CredentialRef) -> Credentials:
    import keyring
    import keyring.errors

    service, _, name = ref.location.partition("/")
    try:
        value = keyring.get_password(service, name)
    except keyring.errors.KeyringError as exc:
        raise AuthError(f"{ref}: the OS keyring could not be read ({type(exc).__name__}); unlock it or fix its "
                        "configuration") from None
    if not value:
        raise AuthError(f"{ref}: no secret stored in the OS keyring under service {service!r}, name {name!r}; "
                        "store it first (e.g. with CredentialRef.store)")
    if ref.scheme == "keyring":
        return Credentials.oauth_client(name, value, source=str(ref))
    return Credentials.token(value, source=str(ref))


def resolve_credentials(ref: str | CredentialRef, environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials a profile's reference (e.g. ``env:PARTICLE``) names; AuthError naming it when missing."""
    return (ref if isinstance(ref, CredentialRef) else CredentialRef.parse(ref)).resolve(environ)
