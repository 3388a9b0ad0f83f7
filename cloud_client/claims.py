"""Ownership calls: claim and unclaim devices, claim codes for users and product customers, serial look-up."""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

from cloud_client.auth import OAuthTokenSource
from cloud_client.calls import EndpointCalls, ProductRef, device_id_of, plain_identifier, product_path
from cloud_client.credentials import Credentials
from cloud_client.errors import AuthError, ClaimedElsewhereError, InvalidInputError, RateLimitedError
from cloud_client.models import ClaimCode, ClaimOutcome, ClaimResult, ImportOutcome, ImportResult, SerialLookup

log = logging.getLogger("cloud_client.claims")

SERIAL_LOOKUPS_PER_HOUR = 50


class ClaimCalls(EndpointCalls):
    """Claiming, claim codes and the serial-number look-up (docs.particle.io Cloud API: 'Claim a device', 'Create a
    claim code', 'Look up device identification from a serial number')."""

    _credentials: Credentials
    _customer_tokens: dict[str, OAuthTokenSource]
    _customer_lock: threading.Lock

    def claim_device(self, device_id: object, *, request_transfer: bool = False) -> ClaimResult:
        """Claim the device for the caller's account; claiming one the caller already owns is success.

        A device owned by someone else raises ClaimedElsewhereError, unless ``request_transfer``: then a transfer is
        requested, as Particle's CLI does after asking (the owner must accept it).
        """
        ident = device_id_of(device_id, f"claim device {device_id}")
        what = f"claim device {ident}"
        try:
            self._call(what, "POST", "/v1/devices", json={"id": ident, "request_transfer": False})
        except ClaimedElsewhereError:
            if not request_transfer:
                raise
            self._call(f"request the transfer of device {ident}", "POST", "/v1/devices",
                       json={"id": ident, "request_transfer": True})
            log.info("%s: it belongs to another account; a transfer was requested", what)
            return ClaimResult(ident, ClaimOutcome.TRANSFER_REQUESTED)
        return ClaimResult(ident, ClaimOutcome.CLAIMED)

    def claim_product_device(self, product: ProductRef, device_id: object, user: str) -> ImportOutcome:
        """Add the device to the product and claim it for ``user`` (a team member) in one import
        (docs.particle.io Cloud API, 'Import devices into product', ``claim_user``)."""
        ident = device_id_of(device_id, f"claim device {device_id} in product {product} for {user}")
        what = f"add device {ident} to product {product} claimed by {user}"
        reply = self._call_object(what, "POST", f"{product_path(product)}/devices",
                                  json={"ids": [ident], "claim_user": user})
        return ImportResult.from_reply(reply, [ident]).outcome_of(ident)

    def unclaim_device(self, device_id: object, *, product: ProductRef | None = None) -> None:
        """Remove the device's owner; with ``product`` the device stays in that product (``…/devices/:id/owner``)."""
        ident = device_id_of(device_id, f"unclaim device {device_id}")
        if product is None:
            self._call(f"unclaim device {ident}", "DELETE", f"/v1/devices/{ident}", json={})
        else:
            self._call(f"unclaim device {ident} in product {product}", "DELETE",
                       f"{product_path(product)}/devices/{ident}/owner", json={})

    def create_claim_code(self, *, iccid: str | None = None, imei: str | None = None) -> ClaimCode:
        """A claim code for the caller's account; cellular devices can be matched on ``iccid`` or ``imei``."""
        return ClaimCode.from_json(
            self._call_object("create a claim code", "POST", "/v1/device_claims", json=_match_fields(iccid, imei))
        )

    def create_customer(self, product: ProductRef, email: str) -> bool:
        """Create a product customer without a password (needs the product's OAuth client credentials).

        Returns False when the customer already existed (the API's reply for that is unconfirmed: a 400 whose
        text says "already exists" is read as such).
        """
        what = f"create customer {email} in product {product}"
        creds = self._oauth_credentials(what)
        assert creds.client_id is not None and creds.client_secret is not None
        try:
            # The reply carries a token for the customer; it is neither kept nor logged.
            self._session.request(
                what, "POST", f"{product_path(product)}/customers", tokens=None,
                basic=(creds.client_id, creds.client_secret.reveal()), data={"email": email, "no_password": "true"},
            )
        except InvalidInputError as exc:
            if "already exists" not in exc.api_message.lower():
                raise
            return False
        with self._customer_lock:
            # A token request made before the customer existed was refused and remembered; forget that.
            self._customer_tokens.pop(email.lower(), None)
        return True

    def create_customer_claim_code(
        self, product: ProductRef, customer_email: str, *, iccid: str | None = None, imei: str | None = None
    ) -> ClaimCode:
        """A claim code that claims the device for the product customer ``customer_email`` when it connects.

        Needs the product's OAuth client credentials: the code must be asked for with a customer-scoped token.
        The customer must exist (see ``create_customer``).
        """
        what = f"create a claim code for customer {customer_email} of product {product}"
        tokens = self._customer_token_source(customer_email, what)
        reply = self._session.request(what, "POST", f"{product_path(product)}/device_claims", tokens=tokens,
                                      json=_match_fields(iccid, imei))
        return ClaimCode.from_json(reply.json_object())

    def lookup_serial(self, serial_number: str, *, mobile_secret: str | None = None) -> SerialLookup:
        """The device behind a serial number not yet imported into a product.

        Limited to 50 calls per hour per account (docs.particle.io Cloud API, 'API rate limits' and 'Look up device
        identification from a serial number'): a 429 is not retried, and the station should read the device id from
        the device instead; ``find_device_by_serial`` serves devices already in a product.
        """
        serial = plain_identifier(serial_number, "serial number", f"look up serial number {serial_number}")
        what = f"look up serial number {serial}"
        params = {"mobile_secret": mobile_secret} if mobile_secret else None
        try:
            reply = self._call_object(what, "GET", f"/v1/serial_numbers/{quote(serial, safe='')}", params=params,
                                      retry_rate_limits=False)
        except RateLimitedError as exc:
            raise RateLimitedError(
                f"{what}: the serial-number look-up allows only {SERIAL_LOOKUPS_PER_HOUR} calls per hour per "
                "account and this account has used them; read the device id from the device over USB, or use "
                "find_device_by_serial for devices already in a product", operation=what, status=exc.status,
                api_message=exc.api_message,
            ) from None
        return SerialLookup.from_json(reply)

    def _oauth_credentials(self, what: str) -> Credentials:
        if not self._credentials.is_oauth_client:
            raise AuthError(
                f"{what}: this needs the product's OAuth client id and secret, but the station was given an access "
                f"token ({self._credentials.source}); configure an OAuth client instead", operation=what,
            )
        return self._credentials

    def _customer_token_source(self, email: str, what: str) -> OAuthTokenSource:
        creds = self._oauth_credentials(what)
        with self._customer_lock:
            source = self._customer_tokens.get(email.lower())
            if source is None:
                source = OAuthTokenSource(self._session, creds, scope=f"customer={email}")
                self._customer_tokens[email.lower()] = source
            return source


def _match_fields(iccid: str | None, imei: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    if iccid is not None:
        fields["iccid"] = plain_identifier(iccid, "ICCID", "create a claim code")
    if imei is not None:
        fields["imei"] = plain_identifier(imei, "IMEI", "create a claim code")
    return fields
