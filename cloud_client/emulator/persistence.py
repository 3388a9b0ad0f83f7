"""Turns the cloud state into a JSON document and back, and saves it atomically to a file."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cloud_client.emulator.errors import EmulatorError
from cloud_client.emulator.state import (
    ClaimCode,
    CloudState,
    Customer,
    Device,
    Firmware,
    Group,
    OAuthClient,
    Product,
    Sim,
    SimAction,
    SimImportResult,
    SimStatus,
    Token,
    TokenKind,
    User,
)

FORMAT_VERSION = 1
_REDACTED = "***"
_SECRET_FIELDS = {"password", "secret", "mobile_secret", "refresh_token", "mfa_otp", "code", "token", "binary_b64"}


class StateFileError(EmulatorError):
    """A --state file that cannot be read back as emulator state."""


def _plain(record: Any, redact: bool) -> dict[str, Any]:
    data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if redact and key in _SECRET_FIELDS and value is not None:
            value = _REDACTED
        elif isinstance(value, dict):
            value = {str(k): _plain(v, redact) for k, v in value.items()}
        elif isinstance(value, list):
            value = list(value)
        out[key] = value
    return out


def to_document(state: CloudState, *, redact: bool = False) -> dict[str, Any]:
    """A JSON-ready deep copy of ``state``; with ``redact`` every credential is replaced by ``***``."""
    with state.lock:
        tokens = [_plain(t, redact) for t in state.tokens.values()]
        return {
            "format": FORMAT_VERSION,
            "users": [_plain(u, redact) for u in state.users.values()],
            "tokens": tokens,
            "clients": [_plain(c, redact) for c in state.clients.values()],
            "products": [_plain(p, redact) for p in state.products.values()],
            "devices": [_plain(d, redact) for d in state.devices.values()],
            "sims": [_plain(s, redact) for s in state.sims.values()],
            "claim_codes": [_plain(c, redact) for c in state.claim_codes],
            "sim_import_results": [_plain(r, redact) for r in state.sim_import_results],
        }


def _product(data: dict[str, Any]) -> Product:
    fields = dict(data)
    fields["groups"] = {k: Group(**v) for k, v in data.get("groups", {}).items()}
    fields["firmware"] = {int(k): Firmware(**v) for k, v in data.get("firmware", {}).items()}
    fields["customers"] = {k: Customer(**v) for k, v in data.get("customers", {}).items()}
    return Product(**fields)


def _sim(data: dict[str, Any]) -> Sim:
    fields = dict(data)
    fields["status"] = SimStatus(data["status"])
    if data.get("pending_action") is not None:
        fields["pending_action"] = SimAction(data["pending_action"])
    return Sim(**fields)


def _token(data: dict[str, Any]) -> Token:
    return Token(**{**data, "kind": TokenKind(data["kind"])})


def from_document(document: dict[str, Any]) -> CloudState:
    """Rebuild a state from :func:`to_document` output (unredacted)."""
    if document.get("format") != FORMAT_VERSION:
        raise ValueError(f"state format {document.get('format')!r} is not {FORMAT_VERSION}")
    state = CloudState()
    for user in document["users"]:
        state.users[user["username"]] = User(**user)
    for token in document["tokens"]:
        state.tokens[token["token"]] = _token(token)
    for client in document["clients"]:
        state.clients[client["client_id"]] = OAuthClient(**client)
    for product in document["products"]:
        state.products[product["id"]] = _product(product)
    for device in document["devices"]:
        state.devices[device["id"]] = Device(**device)
    for sim in document["sims"]:
        state.sims[sim["iccid"]] = _sim(sim)
    state.claim_codes = [ClaimCode(**c) for c in document["claim_codes"]]
    state.sim_import_results = [SimImportResult(**r) for r in document["sim_import_results"]]
    return state


def load_state(path: Path) -> CloudState:
    """The state saved in ``path``; raises StateFileError naming the file when it is unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return from_document(document)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateFileError(
            f"cannot load emulator state from {path}: {exc}; fix or delete the file to start empty"
        ) from exc


def save_state(state: CloudState, path: Path) -> None:
    """Write ``state`` to ``path`` atomically: a reader sees the old file or the new one, never half of one.

    The station's writes share ``station.files.write_atomically``; cloud_client may not import station, so the
    emulator keeps these few lines of its own.
    """
    document = to_document(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
