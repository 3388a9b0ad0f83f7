"""What every group of endpoint methods shares: the session, the token, paths and checks of the ids they send."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any, Final, TypeVar
from urllib.parse import quote

from cloud_client.errors import InvalidInputError
from cloud_client.replies import JsonObject
from cloud_client.session import ApiSession, Reply, TokenSource

ProductRef = int | str
"""A product's numeric id or its slug (docs.particle.io Cloud API, 'Product ID or slug')."""

_DEVICE_ID = re.compile(r"[0-9a-f]{24}\Z")
_PLAIN_TOKEN = re.compile(r"[^\s/?#]+\Z")
_T = TypeVar("_T")


class Unset(Enum):
    """Marks an update parameter the caller did not give (None has a meaning of its own: unlock)."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


def device_id_of(value: object, operation: str) -> str:
    """A device id as the API wants it (24 lowercase hex characters), or InvalidInputError before sending."""
    text = str(value).strip().lower()
    if not _DEVICE_ID.match(text):
        raise InvalidInputError(
            f"{operation}: {str(value)!r} is not a Particle device id (24 hexadecimal characters); "
            "check the value read from the device or the label", operation=operation,
        )
    return text


def plain_identifier(value: object, what: str, operation: str) -> str:
    """An identifier (ICCID, serial number, group name …) safe to put in a path or an import file line."""
    text = str(value).strip()
    if not _PLAIN_TOKEN.match(text):
        raise InvalidInputError(
            f"{operation}: {str(value)!r} is not a valid {what} (empty, or contains spaces or '/', '?', '#')",
            operation=operation,
        )
    return text


def product_path(product: ProductRef) -> str:
    return f"/v1/products/{quote(str(product), safe='')}"


def batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    if size < 1:
        raise ValueError("a batch size must be at least 1")
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class EndpointCalls:
    """Base of the endpoint groups that ParticleCloud combines; holds the session and the token source."""

    _session: ApiSession
    _tokens: TokenSource

    def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Reply:
        return self._session.request(operation, method, path, tokens=self._tokens, **kwargs)

    def _call_object(self, operation: str, method: str, path: str, **kwargs: Any) -> JsonObject:
        return self._call(operation, method, path, **kwargs).json_object()
