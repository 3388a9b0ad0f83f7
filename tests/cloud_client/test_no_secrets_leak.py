"""No secret (client secret, access tokens, password) appears in any log record, error message or repr."""

from __future__ import annotations

import base64
import logging
import traceback

import pytest

from cloud_client.credentials import Credentials
from cloud_client.errors import CloudError

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR_TOKEN, PRODUCT_ID, SECRETS, World

NINETY_DAYS_S = 7_776_000


def issued_tokens(world: World) -> list[str]:
    # Tokens the emulator issued to the client; read from its state because the snapshot redacts them.
    with world.server.cloud.state.lock:
        return list(world.server.cloud.state.tokens)


def forbidden_texts(world: World) -> list[str]:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    return [*SECRETS, basic, *issued_tokens(world)]


def run_everything(world: World, errors: list[BaseException], texts: list[str]) -> None:
    """Exercise token fetch, refresh after 401, retries, and failures of each kind, collecting errors and reprs."""
    product_creds = Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET, source="env:LINE1")
    with world.client(product_creds) as cloud:
        texts += [repr(cloud), repr(cloud._tokens), repr(product_creds), str(product_creds)]
        cloud.import_devices(PRODUCT_ID, world.device_ids[:4], batch_size=2)
        cloud.list_devices(PRODUCT_ID)
        world.server.advance_time(NINETY_DAYS_S + 1)
        cloud.get_device(PRODUCT_ID, world.device_ids[0])
        world.server.set_faults(error_rate=0.3, burst_429=2, drop_rate=0.1)
        cloud.update_device(PRODUCT_ID, world.device_ids[0], name="unit-1")
        world.server.set_faults()
        for failing in (lambda: cloud.get_device(PRODUCT_ID, world.device_ids[5]),
                        lambda: cloud.claim_device(world.device_ids[5]),
                        lambda: cloud.create_customer_claim_code(PRODUCT_ID, "nobody@example.com")):
            try:
                failing()
            except CloudError as exc:
                errors.append(exc)
    with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET + "x")) as bad_cloud:
        try:
            bad_cloud.get_product(PRODUCT_ID)
        except CloudError as exc:
            errors.append(exc)
    with world.client(Credentials.token(OPERATOR_TOKEN)) as user_cloud:
        texts.append(repr(user_cloud._tokens))
        user_cloud.claim_device(world.device_ids[6])
        user_cloud.lookup_serial(str(world.device(world.device_ids[6])["serial_number"]))
    with world.client(Credentials.token(OPERATOR_TOKEN[::-1])) as stale_cloud:
        try:
            stale_cloud.get_product(PRODUCT_ID)
        except CloudError as exc:
            errors.append(exc)


def test_no_secret_in_logs_errors_or_reprs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("cloud_client", "httpx", "httpcore", "hpack"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[BaseException] = []
    texts: list[str] = []
    run_everything(world, errors, texts)
    assert len(errors) == 5
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # the low-level loggers were captured
    for exc in errors:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [caplog.text, *(r.getMessage() for r in caplog.records), *(repr(r.args) for r in caplog.records)]
    everything = "\n".join(texts)
    leaked = [secret for secret in forbidden_texts(world) if secret in everything]
    assert leaked == []
