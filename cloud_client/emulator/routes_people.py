"""A product's people: its team and API users and its customers (docs.particle.io Cloud API, 'API users' and the
customer endpoints)."""

from __future__ import annotations

import hashlib
import re
import secrets

from aiohttp import web

from cloud_client.emulator.auth import Caller, authenticate, basic_credentials, product_for
from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.routes_auth import token_reply
from cloud_client.emulator.state import Customer, Product, TokenKind, User
from cloud_client.emulator.wire import ApiError, bad_request, not_found, oauth_error, read_params, reply

_FRIENDLY = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def create_api_user(cloud: EmulatedCloud, product: Product, friendly_name: str, scopes: list[str]) -> tuple[User, str]:
    """A programmatic team member with one never-expiring token; the caller holds ``state.lock``."""
    username = f"{friendly_name.lower()}+{secrets.token_hex(2)}@api.particle.io"
    user = User(username=username, programmatic=True, product_id=product.id, scopes=sorted(set(scopes)))
    cloud.state.users[username] = user
    product.team.append(username)
    token = cloud.issue_token(
        TokenKind.API_USER, "api-user", username=username, product_id=product.id, scopes=user.scopes, expires_in=0
    )
    cloud.state.changed()
    return user, token.token


def _team_member_json(cloud: EmulatedCloud, product: Product, username: str) -> dict[str, object]:
    user = cloud.state.users.get(username)
    role = "Owner" if username == product.owner else ("API User" if user and user.programmatic else "Administrator")
    body: dict[str, object] = {"username": username, "role": role, "is_programmatic": bool(user and user.programmatic)}
    if user and user.programmatic:
        body["scopes"] = list(user.scopes)
    return body


async def list_team(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "teams.users:list")
    with cloud.state.lock:
        members = [product.owner, *[m for m in product.team if m != product.owner]]
        return reply({"ok": True, "team": [_team_member_json(cloud, product, m) for m in members]})


async def add_team_member(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "teams.users:invite")
    friendly, scopes = params.text("friendly_name"), params.strings("scopes")
    with cloud.state.lock:
        if friendly is not None:
            if not _FRIENDLY.fullmatch(friendly):
                raise bad_request("friendly_name may use letters, digits, '.', '_' and '-' (at most 64)")
            if not scopes:
                raise bad_request(f"API user {friendly!r} for product {product.id} needs at least one scope")
            user, token = create_api_user(cloud, product, friendly, scopes)
            created = {
                "username": user.username,
                "is_programmatic": True,
                "scopes": user.scopes,
                "tokens": [{"token": token}],
            }
            return reply({"ok": True, "created": created})
        username = (params.text("username") or "").lower()
        if username not in cloud.state.users:
            raise bad_request("Send friendly_name and scopes for an API user, or the username of an existing user")
        if username not in product.team and username != product.owner:
            product.team.append(username)
            cloud.state.changed()
        return reply({"ok": True, "invited": _team_member_json(cloud, product, username)})


async def update_api_user(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "teams.users:update")
    username = request.match_info["username"].lower()
    scopes = params.strings("scopes")
    with cloud.state.lock:
        user = cloud.state.users.get(username)
        if user is None or not user.programmatic or username not in product.team:
            raise not_found(f"API user {username} in product {product.id}")
        if not scopes:
            raise bad_request(f"API user {username} needs at least one scope")
        # Changing the scopes replaces the API user's one valid token (docs.particle.io Cloud API, 'API users').
        for value in [t.token for t in cloud.state.tokens.values() if t.username == username]:
            del cloud.state.tokens[value]
        user.scopes = sorted(set(scopes))
        token = cloud.issue_token(
            TokenKind.API_USER, "api-user", username=username, product_id=product.id, scopes=user.scopes, expires_in=0
        )
        cloud.state.changed()
        return reply(
            {"ok": True, "updated": {"username": username, "scopes": user.scopes, "tokens": [{"token": token.token}]}}
        )


async def remove_team_member(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "teams.users:remove")
    username = request.match_info["username"].lower()
    with cloud.state.lock:
        if username not in product.team:
            raise not_found(f"Team member {username} in product {product.id}")
        product.team.remove(username)
        user = cloud.state.users.get(username)
        if user is not None and user.programmatic:
            del cloud.state.users[username]
            for value in [t.token for t in cloud.state.tokens.values() if t.username == username]:
                del cloud.state.tokens[value]
        cloud.state.changed()
    return reply({"ok": True})


def _product_client(
    cloud: EmulatedCloud, request: web.Request, product: Product, client_id: str | None, secret: str | None
) -> None:
    basic = basic_credentials(request)
    if basic is not None:
        client_id, secret = basic
    client = cloud.state.clients.get(client_id or "")
    if client is None or secret is None or not secrets.compare_digest(client.secret, secret):
        raise oauth_error(
            400, "invalid_client", "Client credentials are invalid", {"WWW-Authenticate": 'Basic realm="Service"'}
        )
    if client.product_id != product.id:
        raise oauth_error(
            400, "invalid_client", f"Client {client.client_id} is not an OAuth client of product {product.id}"
        )


async def create_customer(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    with cloud.state.lock:
        product = cloud.state.product_by_ref(request.match_info["p"])
    if product is None:
        raise ApiError(404, {"ok": False, "error": "Permission denied", "error_description": "Permission denied"})
    email = (params.text("email") or "").strip().lower()
    password, no_password = params.text("password"), bool(params.flag("no_password"))
    with cloud.state.lock:
        _product_client(cloud, request, product, params.text("client_id"), params.text("client_secret"))
        if "@" not in email:
            raise bad_request("email is required to create a customer")
        if not password and not no_password:
            raise bad_request(f"customer {email}: send a password or no_password=true")
        if email in product.customers:
            # Unconfirmed body for an existing customer.
            raise bad_request(f"customer {email} already exists in product {product.id}", error="customer_exists")
        product.customers[email] = Customer(username=email, password=password)
        cloud.state.changed()
    token = cloud.issue_token(
        TokenKind.CUSTOMER, "customer", username=email, product_id=product.id, scopes=[f"customer={email}"]
    )
    return reply(token_reply(token))


def _customer_json(cloud: EmulatedCloud, product: Product, email: str) -> dict[str, object]:
    devices = sorted(d.id for d in cloud.state.devices.values() if d.owner == email and d.product_id == product.id)
    return {"id": hashlib.sha1(email.encode()).hexdigest()[:10], "username": email, "devices": devices}


async def list_customers(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller: Caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "customers:list")
    with cloud.state.lock:
        customers = [_customer_json(cloud, product, email) for email in sorted(product.customers)]
    return reply({"customers": customers, "meta": {"total_pages": 1}})


async def set_customer_password(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "customers:update")
    email = request.match_info["email"].lower()
    with cloud.state.lock:
        customer = product.customers.get(email)
        if customer is None:
            raise not_found(f"Customer {email} in product {product.id}")
        if not params.text("password"):
            raise bad_request(f"customer {email}: send the new password")
        customer.password = params.text("password")
        cloud.state.changed()
    return reply({"ok": True})


async def delete_customer(request: web.Request) -> web.Response:
    # The path comes from a third-party SDK (unconfirmed); the reply body is not documented, so {"ok": true}.
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "customers:remove")
    email = request.match_info["email"].lower()
    with cloud.state.lock:
        if product.customers.pop(email, None) is None:
            raise not_found(f"Customer {email} in product {product.id}")
        # Deleting a customer revokes its tokens and pending claim codes (docs.particle.io Cloud API, customer delete).
        for value in [
            t.token for t in cloud.state.tokens.values() if t.kind is TokenKind.CUSTOMER and t.username == email
        ]:
            del cloud.state.tokens[value]
        cloud.state.claim_codes = [c for c in cloud.state.claim_codes if c.username != email]
        cloud.state.changed()
    return reply({"ok": True})


def register(app: web.Application) -> None:
    router = app.router
    router.add_get("/v1/products/{p}/team", list_team, allow_head=False)
    router.add_post("/v1/products/{p}/team", add_team_member)
    router.add_put("/v1/products/{p}/team/{username}", update_api_user)
    router.add_delete("/v1/products/{p}/team/{username}", remove_team_member)
    router.add_post("/v1/products/{p}/customers", create_customer)
    router.add_get("/v1/products/{p}/customers", list_customers, allow_head=False)
    router.add_put("/v1/products/{p}/customers/{email}", set_customer_password)
    router.add_delete("/v1/products/{p}/customers/{email}", delete_customer)
