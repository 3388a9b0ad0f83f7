"""The cloud client's error hierarchy: every failure carries the operation, the HTTP status and the API's message."""

from __future__ import annotations


class CloudError(Exception):
    """Base class for every Particle Cloud failure."""

    def __init__(
        self, message: str, *, operation: str = "", status: int | None = None, api_message: str = ""
    ) -> None:
        super().__init__(message)
        self.operation = operation
        """What the client was doing, e.g. ``claim device 0123…``."""
        self.status = status
        """The HTTP status of the reply that failed, or None when no reply came."""
        self.api_message = api_message
        """The API's own text (``error_description``, ``error``, ``errors[0]`` or ``info``), or ``""``."""


class AuthError(CloudError):
    """The credentials or the token were refused, missing or expired; retrying will not help."""


class InvalidCredentialsError(AuthError):
    """``/oauth/token`` refused the client id/secret (``invalid_client``) or the grant (``invalid_grant``).

    The client never asks for a token again with the same credentials: ten failed token requests in a row lock
    the station's IP out for 30 minutes (docs.particle.io Cloud API, 'API rate limits').
    """


class ForbiddenError(CloudError):
    """The account may not do this: the device, product or scope is not the caller's."""


class ScopeRefusedError(ForbiddenError):
    """The kind of credentials may not call this endpoint at all (``unauthorized``: an API user lacking a scope, or
    "API users are not allowed to call this endpoint", docs.particle.io Cloud API 'Errors'); no device is at fault."""


class DeviceProtectedError(ForbiddenError):
    """The cloud refused to change a Protected Device ("Update denied - device protection active"): release the
    firmware in the product, or put the device in Service Mode and work on it over USB."""


class NotFoundError(CloudError):
    """The product, device, SIM, serial number, group or firmware does not exist (for this caller)."""


class ConflictError(CloudError):
    """The request conflicts with the thing's current state, e.g. it belongs to another account."""


class ClaimedElsewhereError(ConflictError):
    """The device is claimed by another account ("That belongs to someone else.")."""


class SimOwnedElsewhereError(ConflictError):
    """The SIM card belongs to another account and cannot be imported or activated here."""


class RateLimitedError(CloudError):
    """The API kept answering 429 after the client's back-off retries."""


class UnavailableError(CloudError):
    """The API did not answer usefully (5xx, timeout, dropped connection) even after retries."""


class InvalidInputError(CloudError):
    """The API rejected the request's content (400), or the client refused to send it."""


class InvalidResponseError(CloudError):
    """The API answered 2xx with a body the client cannot read (not JSON, or missing required keys)."""
