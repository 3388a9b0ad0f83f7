"""Reading the API's error replies: its message, as Particle's CLI reads it, and the error class each maps to."""

from __future__ import annotations

import pytest

from cloud_client import errors
from cloud_client.replies import api_message, error_for_reply


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "invalid_token", "error_description": "The access token provided has expired."},
         "The access token provided has expired."),
        ({"error": "Device not found for this product"}, "Device not found for this product"),
        ({"ok": False, "errors": ["That belongs to someone else."]}, "That belongs to someone else."),
        ({"error": "Permission Denied", "info": "I didn't recognize that device"}, "Permission Denied"),
        ({"info": "I didn't recognize that device"}, "I didn't recognize that device"),
        ({}, ""),
    ],
)
def test_api_message_is_read_like_particles_cli(body: dict[str, object], expected: str) -> None:
    assert api_message(body) == expected


def test_api_message_ignores_html_error_pages() -> None:
    assert api_message(None, "<html><body>Bad gateway</body></html>") == ""


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"error": "invalid_client", "error_description": "Client credentials are invalid"},
         errors.InvalidCredentialsError),
        (400, {"error": "invalid_grant", "error_description": "User credentials are invalid"},
         errors.InvalidCredentialsError),
        (400, {"error": "invalid_request", "error_description": "The access token was not found"}, errors.AuthError),
        (401, {"error": "invalid_token", "error_description": "The access token provided is invalid."},
         errors.AuthError),
        (403, {"error": "mfa_required", "mfa_token": "x"}, errors.AuthError),
        (400, {"error": "unauthorized", "error_description": "API users are not allowed"}, errors.ScopeRefusedError),
        (403, {"ok": False, "errors": ["That belongs to someone else."]}, errors.ClaimedElsewhereError),
        (403, {"error": "Permission Denied"}, errors.ForbiddenError),
        (404, {"error": "Permission denied"}, errors.NotFoundError),
        (400, {"error": "Device not found for this product"}, errors.NotFoundError),
        (409, {"error": "conflict"}, errors.ConflictError),
        (429, {"error": "rate_limit_exceeded"}, errors.RateLimitedError),
        (503, None, errors.UnavailableError),
        (408, {"error": "timed out"}, errors.UnavailableError),
        (400, {"error": "bad name"}, errors.InvalidInputError),
    ],
)
def test_each_failed_reply_maps_to_its_error_class(status: int, body: object, cls: type[errors.CloudError]) -> None:
    error = error_for_reply("do a thing to device abc", status, body)
    assert type(error) is cls


def test_mapped_error_carries_operation_status_and_api_message() -> None:
    error = error_for_reply("claim device 0123456789abcdef01234567", 403,
                            {"ok": False, "errors": ["That belongs to someone else."]})
    assert error.operation == "claim device 0123456789abcdef01234567"
    assert error.status == 403
    assert error.api_message == "That belongs to someone else."
    assert str(error).startswith("claim device 0123456789abcdef01234567: the device belongs to another account")


def test_long_api_text_is_shortened() -> None:
    assert len(api_message({"error": "x" * 5000})) <= 200
